"""Every query Hearth's services issue is answered through an index, never a full table scan.

Collected statically: every string literal in `bot/services/**/*.py` (adjacent literals are one
constant after parsing; f-strings have each `{…}` replaced by a bind parameter) that starts with
SELECT, UPDATE, DELETE or WITH. That catches the queries of every service, including branches a
run-time capture would only see with the right data; the price is that SQL assembled from
fragments at run time (`/mydata`'s per-table queries, optional WHERE clauses) is seen only in
its fixed parts, and fragments that are not valid statements on their own are skipped — the
test asserts that most statements could be explained, so a change that hides them all fails.

Each statement is run through `EXPLAIN QUERY PLAN` on a migrated database with dummy (NULL)
parameters; a `SCAN <table>` of a table that grows with members or time fails the test.
"""

from __future__ import annotations

import ast
import re
import sqlite3
from pathlib import Path

import pytest

from bot.db import SKIP_LOCKED
from bot.services.timers import _DELETE_PREFIX
from tests.stores import migrated_sqlite_file

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "bot" / "services"
STATEMENT = re.compile(r"^\s*(SELECT|UPDATE|DELETE|WITH) ")
SCAN = re.compile(r"\bSCAN (\w+)")

# Tables holding at most a handful of rows per server, or read whole on purpose; a scan of
# these is cheap and sometimes the right plan.
SMALL_TABLES = {
    "bot_meta",  # a few keys for the whole bot
    "guild_settings",  # ~20 keys per server, read whole per server
    "crisis_resources",  # a few lines per server
    "crisis_watch_phrases",  # a few phrases per server
    "crisis_watch_channels",  # a few channels per server
    "group_panels",  # a few panels per server
    "guilds",  # one row per server; read whole once at start-up (reconcile)
}

# Fragments that the service completes at run time with a WHERE on an indexed column (so their
# full text is never seen here); explained alone they look like scans.
FRAGMENTS = (
    "SELECT COUNT(*) FROM audit_log WHERE ?",  # audit.py: WHERE guild_id = ? AND created_at >= ?
    "SELECT * FROM audit_log WHERE ?",  # the same page of the audit log
    "SELECT g.*, (SELECT COUNT(*) FROM group_members",  # groups.py _SUMMARY_SQL + WHERE g.guild_id
    "SELECT s.id, s.guild_id, s.rota_id",  # rota SLOT_SELECT + WHERE s.guild_id … / s.id = ?
    "SELECT s.*, g.name AS group_name",  # sessions.py _SESSION_SQL + WHERE s.guild_id / s.id
    "SELECT * FROM timers WHERE 1 = 1",  # timers.pending: AND kind = ? / AND guild_id = ?
)
KEYWORDS = {"WHERE", "JOIN", "LEFT", "INNER", "ON", "GROUP", "ORDER", "LIMIT", "SET", "AS",
            "USING", "UNION", "RETURNING", "CROSS", "NATURAL"}  # fmt: skip
ALIAS = re.compile(r"\b(?:FROM|JOIN)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?", re.IGNORECASE)


def _literal(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.Constant):
                parts.append(str(value.value))
            else:
                parts.append("?")
        return "".join(parts)
    return None


def service_statements() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in sorted(SERVICES.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            text = _literal(node)
            if text and STATEMENT.match(text):
                line = getattr(node, "lineno", 0)  # only statements and expressions have one
                found.append((f"{path.relative_to(ROOT)}:{line}", text))
    return found


@pytest.fixture
async def schema(tmp_path: Path) -> Path:
    return await migrated_sqlite_file(tmp_path / "plans.db")


def test_every_service_query_uses_an_index(schema: Path) -> None:
    statements = service_statements()
    conn = sqlite3.connect(schema)
    explained = 0
    scans: list[str] = []
    for where, sql in statements:
        params = [None] * sql.count("?")
        named = dict.fromkeys(re.findall(r":(\w+)", sql))
        try:
            # As the SQLite engine runs a queue claim: without the row-lock clause.
            runnable = sql.replace(f" {SKIP_LOCKED}", "")
            plan = conn.execute(f"EXPLAIN QUERY PLAN {runnable}", named or params).fetchall()
        except sqlite3.Error:
            continue  # a fragment completed at run time
        explained += 1
        flat = " ".join(sql.split())
        if flat.startswith(FRAGMENTS):
            continue
        aliases = {}
        for table, alias in ALIAS.findall(flat):
            aliases[table] = table
            if alias and alias.upper() not in KEYWORDS:
                aliases[alias] = table
        for row in plan:
            match = SCAN.search(row[3])
            if match is None or "USING" in row[3] or match.group(1) == "CONSTANT":
                continue
            table = aliases.get(match.group(1))  # None: a subquery's or CTE's own result
            if table is not None and table not in SMALL_TABLES:
                scans.append(f"{where}: {row[3]}\n    {' '.join(sql.split())[:160]}")
    conn.close()
    assert not scans, "full table scans:\n" + "\n".join(scans)
    assert explained >= 0.75 * len(statements), (explained, len(statements))


def test_cancelling_timers_by_prefix_seeks_a_range(schema: Path) -> None:
    """A seek on (kind, ref), not a read of every timer of the kind (as `LIKE 'claim:1:%'` was)."""
    conn = sqlite3.connect(schema)
    plan = conn.execute(f"EXPLAIN QUERY PLAN {_DELETE_PREFIX}", ("remind", "a", "b")).fetchall()
    conn.close()
    assert "ref>?" in " ".join(row[3] for row in plan)
