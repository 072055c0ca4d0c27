"""One refresh of a server's panels at a time across processes (bot/services/panel_refresh.py).

Two stores over one database stand for two processes ("a" and "b"), as in
test_races_across_stores.py; runs on both engines.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.db import Database
from bot.services.panel_refresh import LEASE, PanelRefreshes
from tests.stores import shared_stores

GUILD = 1
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[list[Database]]:
    async with shared_stores(tmp_path / "shared.db", 2) as opened:
        await opened[0].execute(
            "INSERT INTO group_panels"
            " (message_id, guild_id, channel_id, created_at, panel_id, part)"
            " VALUES (10, ?, 20, 0, 10, 0)",
            (GUILD,),
        )
        yield opened


async def test_asks_while_one_process_refreshes_fold_into_its_next_pass(
    stores: list[Database],
) -> None:
    clock = FakeClock(NOW)
    a, b = (PanelRefreshes(db, clock) for db in stores)
    seen = await a.ask(GUILD, "a")
    assert seen == 1  # a holds the claim and runs a pass
    assert await b.ask(GUILD, "b") is None  # b's ask waits for a's next pass
    assert await a.ask(GUILD, "a") is None  # so does a second ask in a itself
    again = await a.finish(GUILD, "a", seen)
    assert again == 3  # a goes again, covering both asks
    assert await a.finish(GUILD, "a", again) is None  # released
    assert await b.ask(GUILD, "b") == 4  # free: b claims at once


async def test_a_crashed_holders_claim_lapses(stores: list[Database]) -> None:
    clock = FakeClock(NOW)
    a, b = (PanelRefreshes(db, clock) for db in stores)
    assert await a.ask(GUILD, "a") == 1  # and a dies mid-pass
    assert await b.ask(GUILD, "b") is None
    clock.advance(LEASE)
    assert await b.ask(GUILD, "b") is None  # not before the lease has passed
    clock.advance(timedelta(seconds=1))
    seen = await b.ask(GUILD, "b")
    assert seen == 4
    assert await a.finish(GUILD, "a", 1) is None  # a, back, holds nothing
    assert await b.finish(GUILD, "b", seen) is None


async def test_racing_asks_from_two_processes_give_one_holder(stores: list[Database]) -> None:
    clock = FakeClock(NOW)
    racers = [PanelRefreshes(stores[i % 2], clock) for i in range(10)]
    results = await asyncio.gather(*(r.ask(GUILD, f"p{i}") for i, r in enumerate(racers)))
    holders = [i for i, seen in enumerate(results) if seen is not None]
    assert len(holders) == 1
    holder = holders[0]
    final = await racers[holder].finish(GUILD, f"p{holder}", results[holder] or 0)
    if final is not None:  # some asks landed after the claim: one more pass covers them all
        assert final == 10
        assert await racers[holder].finish(GUILD, f"p{holder}", final) is None


async def test_a_failed_pass_lets_the_next_ask_claim_at_once(stores: list[Database]) -> None:
    clock = FakeClock(NOW)
    a, b = (PanelRefreshes(db, clock) for db in stores)
    assert await a.ask(GUILD, "a") == 1
    await a.abandon(GUILD, "a")
    assert await b.ask(GUILD, "b") == 2


async def test_a_server_without_panels_records_nothing(stores: list[Database]) -> None:
    refreshes = PanelRefreshes(stores[0], FakeClock(NOW))
    assert await refreshes.ask(GUILD + 1, "a") is None
    assert await stores[0].fetchval("SELECT COUNT(*) FROM group_panel_refresh") == 0
