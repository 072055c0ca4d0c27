"""The migration runner: fresh, up to date, newer database refused, failure rolled back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db import Database, Migration, MigrationError, discover_migrations, open_database
from bot.services.crisis import AUDIT_CRISIS_ADDED
from bot.services.export import AUDIT_EXPORT_CREATED
from bot.services.groups import AUDIT_GROUP_CREATED
from bot.services.rota.rotas import AUDIT_ROTA_SLOTS_ADDED
from tests.stores import new_database, new_target, on_postgres, sqlite_database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = new_database(tmp_path / "hearth.db")
    await database.connect()
    yield database
    await database.close()


def _migrations(*sqls: str) -> list[Migration]:
    return [Migration(n, f"{n:04d}_m{n}", sql) for n, sql in enumerate(sqls, start=1)]


async def test_fresh_database_gets_every_migration(db: Database) -> None:
    shipped = discover_migrations()
    applied = await db.migrate()
    assert applied == [migration.name for migration in shipped]
    assert await db.schema_version() == shipped[-1].version
    tables = {table.name for table in await db.tables()}
    assert {"guilds", "guild_settings", "audit_log", "timers", "bot_meta"} <= tables


@pytest.mark.skipif(not on_postgres(), reason="one process on SQLite: nobody migrates alongside")
async def test_processes_starting_at_once_apply_each_migration_once(tmp_path: Path) -> None:
    """Several processes started together on an empty database (a fleet's first start): each
    migration is applied by exactly one of them, and none fails on the others' new tables."""
    target = new_target(tmp_path / "hearth.db")
    stores = [open_database(target) for _ in range(3)]
    for store in stores:
        await store.connect()
    try:
        applied = await asyncio.gather(*(store.migrate() for store in stores))
    finally:
        for store in stores:
            await store.close()
    shipped = [migration.name for migration in discover_migrations()]
    assert sorted(name for names in applied for name in names) == sorted(shipped)


async def test_up_to_date_database_is_left_alone(db: Database) -> None:
    await db.migrate()
    assert await db.migrate() == []


async def test_newer_database_is_refused_with_a_clear_message(db: Database) -> None:
    await db.migrate(_migrations("CREATE TABLE a (x INTEGER)", "CREATE TABLE b (x INTEGER)"))
    with pytest.raises(MigrationError, match="newer Hearth"):
        await db.migrate(_migrations("CREATE TABLE a (x INTEGER)"))
    assert await db.schema_version() == 2


async def test_failed_migration_is_rolled_back_whole(db: Database) -> None:
    await db.migrate(_migrations("CREATE TABLE a (x INTEGER)"))
    broken = _migrations(
        "CREATE TABLE a (x INTEGER)",
        "CREATE TABLE b (x INTEGER); INSERT INTO a VALUES (1); INSERT INTO missing VALUES (1);",
    )
    with pytest.raises(MigrationError, match="0002_m2 failed and was rolled back"):
        await db.migrate(broken)
    assert await db.schema_version() == 1
    names = {table.name for table in await db.tables()}
    assert "b" not in names
    assert await db.fetchval("SELECT COUNT(*) FROM a") == 0
    # the writer is usable again afterwards
    assert await db.execute("INSERT INTO a VALUES (2)") == 1


def test_migration_files_are_numbered_without_gaps(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "0003_c.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="without gaps"):
        discover_migrations(tmp_path)


def test_shipped_migrations_are_well_named() -> None:
    migrations = discover_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))


async def test_pragmas_are_set(tmp_path: Path) -> None:
    db = sqlite_database(tmp_path / "pragmas.db")
    await db.connect()
    assert await db.fetchval("PRAGMA journal_mode") == "wal"
    assert await db.fetchval("PRAGMA foreign_keys") == 1
    assert await db.fetchval("PRAGMA busy_timeout") == 5000
    await db.close()


async def test_audit_actions_written_under_old_names_are_renamed(db: Database) -> None:
    """Rows from before the one naming convention read as the constants the code now writes."""
    shipped = discover_migrations()
    [rename] = [m for m in shipped if m.name.endswith("_audit_actions")]
    await db.migrate([m for m in shipped if m.version < rename.version])
    for old in ("group created", "rota slots add", "crisis.add", "export", "setup.timezone"):
        await db.execute(
            "INSERT INTO audit_log (guild_id, actor_id, action, created_at) VALUES (1, 2, ?, 0)",
            (old,),
        )
    await db.migrate(shipped)
    rows = await db.fetchall("SELECT action FROM audit_log ORDER BY id")
    assert [row["action"] for row in rows] == [
        AUDIT_GROUP_CREATED,
        AUDIT_ROTA_SLOTS_ADDED,
        AUDIT_CRISIS_ADDED,
        AUDIT_EXPORT_CREATED,
        "setup.timezone",  # already "feature.what": left as it is
    ]
