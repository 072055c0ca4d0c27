"""Purging a removed server: only after the window, only that server, generic over the schema."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.db import Database, Tx, to_ts
from bot.services.export import children_first, discover_tables
from bot.services.guilds import GuildRegistry
from bot.services.retention import RetentionService
from tests.services import seeded_group
from tests.stores import new_database

GUILD, OTHER = 111, 222
WINDOW = timedelta(days=30)


Store = tuple[Database, FakeClock, RetentionService, GuildRegistry]


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    db = new_database(tmp_path / "hearth.db")
    await db.connect()
    await db.migrate()
    clock = FakeClock()

    # A table no migration knows, hanging off a per-server one without a guild_id of its own
    # and without ON DELETE CASCADE: the purge must delete it first.
    await db.run_script(
        "CREATE TABLE gadgets (id INTEGER PRIMARY KEY, guild_id INTEGER NOT NULL);\n"
        "CREATE TABLE gadget_notes (id INTEGER PRIMARY KEY, "
        "gadget_id INTEGER NOT NULL REFERENCES gadgets(id), text TEXT);\n"
    )

    def _fill(tx: Tx) -> None:
        for guild in (GUILD, OTHER):
            now = to_ts(clock.now())
            tx.execute("INSERT INTO guilds (guild_id, joined_at) VALUES (?, ?)", (guild, now))
            tx.execute(
                "INSERT INTO guild_settings (guild_id, key, value, updated_at, updated_by) "
                "VALUES (?, 'timezone', '\"Europe/London\"', ?, 1)",
                (guild, now),
            )
            tx.execute(
                "INSERT INTO audit_log (guild_id, actor_id, action, created_at) "
                "VALUES (?, 1, 'x', ?)",
                (guild, now),
            )
            gadget = tx.insert("INSERT INTO gadgets (guild_id) VALUES (?)", (guild,))
            tx.execute("INSERT INTO gadget_notes (gadget_id, text) VALUES (?, 'n')", (gadget,))

    await db.write(_fill)
    for guild in (GUILD, OTHER):
        await seeded_group(db, guild, "Carers", role_id=5, members=[7], clock=clock)
    yield db, clock, RetentionService(db, clock), GuildRegistry(db, clock)
    await db.close()


async def _count(db: Database, guild: int) -> int:
    total: int = 0
    for table in ("guilds", "guild_settings", "audit_log", "groups", "group_members", "gadgets"):
        total += await db.fetchval(f"SELECT COUNT(*) FROM {table} WHERE guild_id = ?", (guild,))
    total += await db.fetchval(
        "SELECT COUNT(*) FROM gadget_notes WHERE gadget_id IN "
        "(SELECT id FROM gadgets WHERE guild_id = ?)",
        (guild,),
    )
    return total


async def test_nothing_is_deleted_before_the_window_or_after_a_return(store: Store) -> None:
    db, clock, retention, registry = store
    await registry.left(GUILD)
    clock.advance(WINDOW - timedelta(minutes=1))
    outcome = await retention.purge_if_due(GUILD, WINDOW)
    assert outcome.status == "not_yet"
    assert outcome.due_at == clock.now() + timedelta(minutes=1)
    await registry.joined(GUILD)
    clock.advance(timedelta(days=1))
    assert (await retention.purge_if_due(GUILD, WINDOW)).status == "returned"
    assert await _count(db, GUILD) == 7


async def test_after_the_window_everything_of_that_server_goes(store: Store) -> None:
    db, clock, retention, registry = store
    await registry.left(GUILD)
    clock.advance(WINDOW)
    outcome = await retention.purge_if_due(GUILD, WINDOW)
    assert outcome.status == "purged"
    assert outcome.deleted["gadget_notes"] == 1
    assert await _count(db, GUILD) == 0
    assert await _count(db, OTHER) == 7
    assert (await retention.purge_if_due(GUILD, WINDOW)).status == "unknown"


async def test_children_come_before_their_parents(store: Store) -> None:
    db, *_ = store
    tables = await discover_tables(db)
    order = children_first(tables, list(tables))
    assert order.index("gadget_notes") < order.index("gadgets")
    assert order.index("group_members") < order.index("groups")


async def test_a_purge_racing_a_reinvite_either_purges_fully_or_keeps_everything(
    store: Store,
) -> None:
    db, clock, retention, registry = store
    await registry.left(GUILD)
    clock.advance(WINDOW)
    outcome, _ = await asyncio.gather(retention.purge_if_due(GUILD, WINDOW), registry.joined(GUILD))
    remaining = await _count(db, GUILD)
    if outcome.status == "purged":
        assert remaining == 1  # the re-invite's fresh guilds row, nothing old
    else:
        assert outcome.status == "returned"
        assert remaining == 7
