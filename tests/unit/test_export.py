"""The export: a policy for every table, generic over the schema, and no private data in it."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest

from bot.clock import FakeClock
from bot.db import Database, Tx
from bot.services import export
from bot.services.export import (
    EXPORT_POLICIES,
    JSON_NAME,
    ExportService,
    discover_tables,
    guild_scope,
)

GUILD, OTHER = 111, 222
SNOWFLAKE = 1_234_567_890_123_456_789


def _open(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


async def test_every_table_has_an_export_policy(db: Database) -> None:
    tables = await discover_tables(db)
    missing = sorted(set(tables) - set(EXPORT_POLICIES))
    assert not missing, (
        f"These tables have no export policy: {', '.join(missing)}.\n"
        "Add each to EXPORT_POLICIES in bot/services/export.py with one of:\n"
        '  "rows"   - operational data a coordinator may download as is (groups, rotas, …)\n'
        '  "counts" - only aggregate counts (set COUNT_BY[table] to choose the grouping)\n'
        '  "never"  - private member data (answers, notes, personal schedules) or internals\n'
        "A table mixing both kinds of rows can be narrowed with ROWS_WHERE."
    )


async def test_no_policy_names_a_table_that_does_not_exist(db: Database) -> None:
    tables = await discover_tables(db)
    stale = sorted(set(EXPORT_POLICIES) - set(tables))
    assert not stale, f"EXPORT_POLICIES names tables that no migration creates: {stale}"
    unknown = [name for name in export.COUNT_BY if EXPORT_POLICIES.get(name) != "counts"]
    assert not unknown, f"COUNT_BY entries for tables whose policy is not 'counts': {unknown}"


async def test_every_per_server_table_is_scoped_to_one_server(db: Database) -> None:
    """A table with member data but no path to a server could never be purged or exported."""
    tables = await discover_tables(db)
    unscoped = [name for name in tables if guild_scope(tables, name) is None]
    assert unscoped == ["bot_meta", "rate_budget", "shard_leases"]  # per process, not per server


@pytest.fixture
async def widgets(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
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
    monkeypatch.setitem(EXPORT_POLICIES, "widgets", "rows")
    monkeypatch.setitem(EXPORT_POLICIES, "widget_parts", "rows")
    monkeypatch.setitem(EXPORT_POLICIES, "widget_votes", "counts")
    monkeypatch.setitem(EXPORT_POLICIES, "widget_diary", "never")
    return db


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
    widgets: Database, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delitem(EXPORT_POLICIES, "widgets")
    archive = await ExportService(widgets, FakeClock()).build(GUILD)
    assert "widgets" in archive.withheld
    assert "widgets.csv" not in _open(archive.data)
    assert "widgets has no export policy" in caplog.text
