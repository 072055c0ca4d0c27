"""The export: a policy for every table, generic over the schema, and no private data in it."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.db import Database, Tx
from bot.services.data import DeclarationError, PersonColumn, TableData, declared
from bot.services.export import (
    JSON_NAME,
    ExportService,
    discover_tables,
    guild_scope,
)
from tests.declarations import service_module

GUILD, OTHER = 111, 222
SNOWFLAKE = 1_234_567_890_123_456_789


def _open(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def undeclared(tables: Iterable[str]) -> list[str]:
    """Tables of the schema that no service module declares."""
    return sorted(set(tables) - set(declared().tables))


async def test_every_table_has_an_export_policy(db: Database) -> None:
    missing = undeclared(await discover_tables(db))
    assert not missing, (
        f"These tables have no export policy: {', '.join(missing)}.\n"
        "Declare each in TABLES of the service module that owns it (bot/services/<feature>.py),\n"
        "TableData(name, export=...; see bot/services/data.py) with one of:\n"
        '  "rows"   - operational data a coordinator may download as is (groups, rotas, …)\n'
        '  "counts" - only aggregate counts (count_by=(...) chooses the grouping)\n'
        '  "never"  - private member data (answers, notes, personal schedules) or internals\n'
        "A table mixing both kinds of rows can be narrowed with rows_where=..."
    )


async def test_a_table_nobody_declares_fails_the_policy_check(db: Database) -> None:
    """The check above can fail: a table a migration adds without a declaration is named."""
    await db.run_script("CREATE TABLE gizmos (id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL)")
    assert undeclared(await discover_tables(db)) == ["gizmos"]


async def test_no_policy_names_a_table_that_does_not_exist(db: Database) -> None:
    tables = await discover_tables(db)
    stale = sorted(set(declared().tables) - set(tables))
    assert not stale, f"TABLES declare tables that no migration creates: {stale}"
    unknown = [t.table for t in declared().tables.values() if t.count_by and t.export != "counts"]
    assert not unknown, f"count_by declared for tables whose policy is not 'counts': {unknown}"


def test_a_table_declared_twice_is_an_error(tmp_path: Path) -> None:
    source = """
        from bot.services.data import TableData

        TABLES = (TableData("guilds", export="never"),)
    """
    with service_module(tmp_path, "second_guilds", source), pytest.raises(DeclarationError) as e:
        declared()
    assert str(e.value) == (
        "table guilds is declared twice: in bot.services.guilds and bot.services.second_guilds"
    )
    assert declared().tables["guilds"].export == "rows"  # the throwaway module is gone again


def test_a_column_declared_twice_or_a_policy_contradicting_itself_is_an_error() -> None:
    with pytest.raises(DeclarationError, match="user_id declared twice"):
        TableData(
            "gizmos",
            export="never",
            people=(PersonColumn("user_id", "delete", "a"), PersonColumn("user_id", "delete", "b")),
        )
    with pytest.raises(DeclarationError, match="count_by is for a 'counts' table"):
        TableData("gizmos", export="rows", count_by=("group_id",))
    with pytest.raises(DeclarationError, match="'anonymise' needs a reason"):
        PersonColumn("made_by", "anonymise", "gizmos you made")


async def test_every_per_server_table_is_scoped_to_one_server(db: Database) -> None:
    """A table with member data but no path to a server could never be purged or exported."""
    tables = await discover_tables(db)
    unscoped = [name for name in tables if guild_scope(tables, name) is None]
    assert unscoped == ["bot_meta", "rate_budget", "shard_leases"]  # per process, not per server


WIDGET_POLICIES = {
    "widgets": "rows",
    "widget_parts": "rows",
    "widget_votes": "counts",
    "widget_diary": "never",
}


def widget_module(policies: dict[str, str]) -> str:
    """The service module a new "widgets" feature would add, declaring these policies."""
    declarations = "".join(
        f"    TableData({name!r}, export={policy!r}),\n" for name, policy in policies.items()
    )
    return f"from bot.services.data import TableData\n\nTABLES = (\n{declarations})\n"


@pytest.fixture
async def widget_tables(db: Database) -> Database:
    """Tables this module has never seen: one per server, one hanging off it, one private."""

    await db.run_script(
        ";\n".join(
            (
                "CREATE TABLE widgets (id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, "
                "name TEXT NOT NULL, owner_id INTEGER, blob BLOB)",
                "CREATE TABLE widget_parts (widget_id INTEGER NOT NULL REFERENCES widgets(id) "
                "ON DELETE CASCADE, part TEXT NOT NULL, PRIMARY KEY (widget_id, part)) "
                "WITHOUT ROWID",
                "CREATE TABLE widget_votes (id INTEGER PRIMARY KEY, widget_id INTEGER NOT NULL "
                "REFERENCES widgets(id), user_id INTEGER NOT NULL)",
                "CREATE TABLE widget_diary (id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, "
                "user_id INTEGER NOT NULL, text TEXT NOT NULL)",
            )
        )
    )

    def _fill(tx: Tx) -> None:
        for widget_id, guild in ((1, GUILD), (2, GUILD), (3, OTHER)):
            tx.execute(
                "INSERT INTO widgets VALUES (?, ?, ?, ?, ?)",
                (widget_id, guild, f"w{widget_id}", SNOWFLAKE, b"\x01\x02"),
            )
            tx.execute("INSERT INTO widget_parts VALUES (?, 'bolt')", (widget_id,))
        for user in (5, 6, 7):
            tx.execute("INSERT INTO widget_votes (widget_id, user_id) VALUES (1, ?)", (user,))
        tx.execute("INSERT INTO widget_votes (widget_id, user_id) VALUES (3, 8)")
        tx.execute(
            "INSERT INTO widget_diary (guild_id, user_id, text) VALUES (?, 5, 'I felt awful')",
            (GUILD,),
        )
        tx.execute(
            "INSERT INTO pending_notices (guild_id, user_id, text, created_at) "
            "VALUES (?, 5, 'held secret', 0)",
            (GUILD,),
        )

    await db.write(_fill)
    return db


@pytest.fixture
async def widgets(widget_tables: Database, tmp_path: Path) -> AsyncIterator[Database]:
    """The widget tables, declared by their own service module: nothing central is edited."""
    with service_module(tmp_path, "widgets", widget_module(WIDGET_POLICIES)):
        yield widget_tables


async def test_export_covers_unseen_tables_by_policy(widgets: Database) -> None:
    archive = await ExportService(widgets, FakeClock()).build(GUILD)
    files = _open(archive.data)
    document = json.loads(files[JSON_NAME])
    tables = document["tables"]

    assert [row["name"] for row in tables["widgets"]["rows"]] == ["w1", "w2"]
    assert tables["widgets"]["rows"][0]["owner_id"] == str(SNOWFLAKE)  # ids safe for JS
    assert tables["widgets"]["rows"][0]["blob"] == "0102"
    assert [row["widget_id"] for row in tables["widget_parts"]["rows"]] == [1, 2]
    # counts: per widget (its foreign key), never who voted
    assert tables["widget_votes"] == {
        "policy": "counts",
        "columns": ["widget_id", "count"],
        "rows": [{"widget_id": 1, "count": 3}],
    }
    assert "widget_diary" in document["withheld"]
    assert "pending_notices" in document["withheld"]
    assert "widget_diary.csv" not in files
    everything = b"".join(files.values())
    assert b"I felt awful" not in everything
    assert b"held secret" not in everything
    assert b"w3" not in everything  # another server's rows

    parts_csv = list(csv.reader(io.StringIO(files["widget_parts.csv"].decode())))
    assert parts_csv == [["widget_id", "part"], ["1", "bolt"], ["2", "bolt"]]
    assert archive.row_count == 4 + len(tables["guilds"]["rows"])


async def test_private_rows_of_a_mixed_table_stay_out(db: Database) -> None:
    for kind, channel, user in (("group", 10, None), ("personal", None, 5)):
        await db.execute(
            "INSERT INTO checkin_schedules (guild_id, kind, channel_id, user_id, prompt, days, "
            "local_time, zone, next_due_at, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, 1, '09:00', 'UTC', 0, 1, 0)",
            (GUILD, kind, channel, user, f"{kind} prompt"),
        )
    archive = await ExportService(db, FakeClock()).build(GUILD)
    document = json.loads(_open(archive.data)[JSON_NAME])
    rows = document["tables"]["checkin_schedules"]["rows"]
    assert [row["kind"] for row in rows] == ["group"]
    assert b"personal prompt" not in archive.data


async def test_a_table_without_policy_is_withheld_not_exported(
    widget_tables: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    policies = {name: p for name, p in WIDGET_POLICIES.items() if name != "widgets"}
    with service_module(tmp_path, "widgets", widget_module(policies)):
        archive = await ExportService(widget_tables, FakeClock()).build(GUILD)
    assert "widgets" in archive.withheld
    assert "widgets.csv" not in _open(archive.data)
    assert "widgets has no export policy" in caplog.text
