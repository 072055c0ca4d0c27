"""`/mydata`'s service over the whole migrated schema: registry coverage, export and delete."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.engines.sqlite import SqliteDatabase
from bot.services.data import PersonColumn, declared
from bot.services.mydata import ANONYMOUS_ID, PERSON_COLUMN, MyDataService
from tests.declarations import service_module
from tests.stores import migrated, sqlite_database

GUILD, OTHER_GUILD = 111, 222
ALICE, BOB = 1001, 1002


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    # SQLite on both runs: `fill` writes every table raw with foreign keys and CHECKs off, which
    # only SQLite allows; the same rules run on PostgreSQL through the end-to-end /mydata tests.
    async with migrated(sqlite_database(tmp_path / "mydata.db")) as database:
        yield database


def schema(path: Path) -> dict[str, list[sqlite3.Row]]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    names = [
        r["name"]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    tables = {name: list(conn.execute(f'PRAGMA table_xinfo("{name}")')) for name in names}
    conn.close()
    return tables


def person_columns(path: Path) -> set[tuple[str, str]]:
    return {
        (table, col["name"])
        for table, cols in schema(path).items()
        for col in cols
        if PERSON_COLUMN.search(col["name"])
    }


def registry() -> dict[tuple[str, str], PersonColumn]:
    """Every declared person column, as declared by the service modules that own the tables."""
    return declared().people


def uncovered(path: Path) -> list[tuple[str, str]]:
    return sorted(person_columns(path) - set(registry()))


async def test_every_column_holding_a_person_id_is_covered_by_the_registry(
    db: SqliteDatabase,
) -> None:
    """A new table (or column) naming a person must say what export and delete do with it."""
    missing = uncovered(db.path)
    assert not missing, (
        "these columns look like they hold a person's id but no PersonColumn in the TABLES of "
        "the service module owning their table (bot/services/data.py) says what /mydata export "
        f"and delete do with them: {missing}"
    )


async def test_a_person_column_nobody_declares_fails_the_coverage_check(
    db: SqliteDatabase,
) -> None:
    """The check above can fail: a new table naming a member, without a declaration."""
    await db.run_script(
        "CREATE TABLE gizmos (id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, "
        "owner_id INTEGER NOT NULL, made_by INTEGER)"
    )
    assert uncovered(db.path) == [("gizmos", "made_by"), ("gizmos", "owner_id")]


async def test_the_registry_names_real_columns_in_tables_scoped_by_server(
    db: SqliteDatabase,
) -> None:
    tables = schema(db.path)
    for table, column in registry():
        names = {col["name"] for col in tables.get(table, [])}
        assert column in names, f"{table}.{column} is in the registry but not in the schema"
        assert "guild_id" in names, f"{table} has no guild_id, so delete can't be per server"
    for rule in registry().values():
        assert rule.action == "delete" or rule.reason, "anonymise/none need a reason"


def fill(path: Path) -> None:
    """One row per person-column and person, in two servers, ignoring FKs and CHECKs."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("PRAGMA ignore_check_constraints = ON")
    counter = 10_000
    for table, cols in schema(path).items():
        person = [c["name"] for c in cols if (table, c["name"]) in registry()]
        if not person:
            continue
        cases = [
            (target, guild, user)
            for target in person
            for guild, user in ((GUILD, ALICE), (GUILD, BOB), (OTHER_GUILD, ALICE))
        ]
        for target, guild, user in cases:
            values: dict[str, Any] = {}
            for col in cols:
                if col["hidden"]:  # generated columns
                    continue
                name, kind = col["name"], (col["type"] or "").upper()
                counter += 1
                if name == target:
                    values[name] = user
                elif name in person:
                    values[name] = counter  # someone else
                elif name == "guild_id":
                    values[name] = guild
                elif col["pk"] == 1 and kind == "INTEGER" and sum(c["pk"] > 0 for c in cols) == 1:
                    continue
                elif name in {"state"}:
                    values[name] = "open"
                elif "INT" in kind:
                    values[name] = counter
                else:
                    values[name] = f"v{counter}"
            marks = ", ".join("?" * len(values))
            conn.execute(
                f'INSERT INTO "{table}" ({", ".join(values)}) VALUES ({marks})',
                list(values.values()),
            )
    conn.commit()
    conn.close()


def count(path: Path, table: str, column: str, user: int, guild: int) -> int:
    conn = sqlite3.connect(path)
    value = conn.execute(
        f'SELECT COUNT(*) FROM "{table}" WHERE "{column}" = ? AND guild_id = ?', (user, guild)
    ).fetchone()[0]
    conn.close()
    return int(value)


async def test_delete_applies_every_rule_to_one_member_in_one_server_only(
    db: SqliteDatabase,
) -> None:
    fill(db.path)
    before = {
        key: (count(db.path, *key, BOB, GUILD), count(db.path, *key, ALICE, OTHER_GUILD))
        for key in registry()
    }
    report = await MyDataService(db, FakeClock()).delete(GUILD, ALICE)
    assert report.total > 0
    for (table, column), rule in registry().items():
        left = count(db.path, table, column, ALICE, GUILD)
        if rule.action == "none":
            assert left >= 1, f"{table}.{column} should be kept ({rule.reason})"
        else:
            assert left == 0, f"{table}.{column} still names the member after delete"
        if rule.action == "anonymise":
            assert count(db.path, table, column, ANONYMOUS_ID, GUILD) >= 1, (
                f"{table}.{column}: the anonymised row should be kept"
            )
        # Other members, and the same member in another server, are untouched.
        assert (
            count(db.path, table, column, BOB, GUILD),
            count(db.path, table, column, ALICE, OTHER_GUILD),
        ) == before[(table, column)], f"{table}.{column} changed for someone else"
    kinds = {item.kind for item in report.removed}
    assert {"check-in answers and notes", "group memberships", "waitlist places"} <= kinds
    assert "rota shifts you took" in {item.kind for item in report.anonymised}


async def test_delete_from_a_dm_covers_every_server(db: SqliteDatabase) -> None:
    fill(db.path)
    await MyDataService(db, FakeClock()).delete(None, ALICE)
    for (table, column), rule in registry().items():
        if rule.action != "none":
            assert count(db.path, table, column, ALICE, OTHER_GUILD) == 0, f"{table}.{column}"


async def test_summary_and_export_cover_every_registered_table(db: SqliteDatabase) -> None:
    fill(db.path)
    service = MyDataService(db, FakeClock())
    summary = {item.kind: item.count for item in await service.summary(GUILD, ALICE)}
    assert summary["check-in answers and notes"] == 1
    exported = json.loads(await service.export_json(GUILD, ALICE))
    assert exported["user_id"] == str(ALICE) and exported["server_id"] == str(GUILD)
    for table, column in registry():
        rows = exported["tables"][table][column]["rows"]
        assert [row[column] for row in rows] == [ALICE], f"{table}.{column}"
        assert all(row["guild_id"] == GUILD for row in rows)
    everywhere = json.loads(await service.export_json(None, ALICE))
    assert len(everywhere["tables"]["checkin_answers"]["user_id"]["rows"]) == 2
    assert await service.summary(GUILD, 999) == []


async def test_a_new_feature_is_covered_by_declaring_its_tables_in_its_own_module(
    db: SqliteDatabase, tmp_path: Path
) -> None:
    """Nothing central to edit: a new service module's declaration is found and applied."""
    await db.run_script(
        "CREATE TABLE gizmo_diary (id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL, "
        "user_id INTEGER NOT NULL, text TEXT NOT NULL)"
    )
    for user, text in ((ALICE, "mine"), (BOB, "theirs")):
        await db.execute(
            "INSERT INTO gizmo_diary (guild_id, user_id, text) VALUES (?, ?, ?)",
            (GUILD, user, text),
        )
    assert uncovered(db.path) == [("gizmo_diary", "user_id")]
    source = """
        from bot.services.data import PersonColumn, TableData

        TABLES = (
            TableData(
                "gizmo_diary",
                export="never",
                people=(PersonColumn("user_id", "delete", "gizmo diary entries"),),
            ),
        )
    """
    with service_module(tmp_path / "modules", "gizmos", source):
        assert uncovered(db.path) == []
        service = MyDataService(db, FakeClock())
        summary = await service.summary(GUILD, ALICE)
        assert [(item.kind, item.count) for item in summary] == [("gizmo diary entries", 1)]
        exported = json.loads(await service.export_json(GUILD, ALICE))
        assert [row["text"] for row in exported["tables"]["gizmo_diary"]["user_id"]["rows"]] == [
            "mine"
        ]
        report = await service.delete(GUILD, ALICE)
        assert [(item.kind, item.count) for item in report.removed] == [("gizmo diary entries", 1)]
    assert await db.fetchval("SELECT text FROM gizmo_diary") == "theirs"
    assert uncovered(db.path) == [("gizmo_diary", "user_id")]  # the module is gone again
