"""Every rule that stops a double booking, with several stores on one database at once.

Each store has its own connections (its own writer thread on SQLite, its own pool on
PostgreSQL), as each bot process would; the racers are spread over them. On SQLite the file's
lock is what serialises them; on PostgreSQL it is SERIALIZABLE (and its retries) or, for queue
claims, row locks. Run the suite with `HEARTH_TEST_DATABASE_URL` set to see the PostgreSQL side.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from bot.clock import FakeClock
from bot.db import Database, Tx, to_ts
from bot.errors import UserFacingError
from bot.services import rota
from bot.services.checkin_due import CheckinSource
from bot.services.checkin_schedules import CheckinSchedules
from bot.services.checkins import Occurrence
from bot.services.group_membership import MembershipService
from bot.services.groups import GroupService
from bot.services.settings import GuildSettings, SettingsService
from bot.services.support import SupportService
from tests.services import rota_service
from tests.stores import shared_stores

GUILD = 1
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # Monday
SETTINGS = GuildSettings(timezone="Europe/London")
STORES = 4
T = TypeVar("T")


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[list[Database]]:
    async with shared_stores(tmp_path / "shared.db", STORES) as opened:
        yield opened


async def outcome(call: Awaitable[T]) -> T | str:
    """The result, or the kind refusal a member would read."""
    try:
        return await call
    except UserFacingError as exc:
        return exc.message


def spread(stores: list[Database], count: int) -> list[Database]:
    return [stores[index % len(stores)] for index in range(count)]


async def test_the_last_places_in_a_group_go_to_exactly_that_many(
    stores: list[Database],
) -> None:
    clock = FakeClock(NOW)
    group = await GroupService(stores[0], clock).create(
        GUILD, 99, name="Carers circle", description="For carers", capacity=3,
        meets=None, role_id=5, channel_id=None,
    )  # fmt: skip
    joins = [
        MembershipService(db, clock).join(GUILD, group.id, user)
        for user, db in zip(range(100, 124), spread(stores, 24), strict=True)
    ]
    results = await asyncio.gather(*joins)
    assert sum(r.status == "joined" for r in results) == 3
    waiting = sorted(r.position or 0 for r in results if r.status == "waitlisted")
    assert waiting == list(range(1, 22))  # one queue, no position given twice
    summary = await GroupService(stores[1], clock).get(GUILD, group.id)
    assert (summary.member_count, summary.waitlist_count) == (3, 21)


async def _slots(db: Database, starts: list[datetime], needed: int) -> list[rota.Slot]:
    name = f"Rota {len(starts)} from {starts[0]:%a %H}"
    created = await rota_service(db, NOW).create_rota(GUILD, 99, name, needed=needed)
    slots, _ = await rota_service(db, NOW).add_slots(created, 99, starts, timedelta(hours=2))
    return slots


async def _trained(db: Database, users: range) -> None:
    for user in users:
        await rota_service(db, NOW).grant_training(GUILD, user, 99, None)


async def test_the_last_place_on_a_slot_has_one_winner(stores: list[Database]) -> None:
    (slot,) = await _slots(stores[0], [NOW + timedelta(days=1)], needed=2)
    users = range(200, 230)
    await _trained(stores[0], users)
    claims = [
        outcome(rota_service(db, NOW).claim_slot(SETTINGS, GUILD, slot.id, user, is_supporter=True))
        for user, db in zip(users, spread(stores, len(users)), strict=True)
    ]
    results = await asyncio.gather(*claims)
    assert sum(not isinstance(r, str) for r in results) == 2
    count = await stores[2].fetchval(
        "SELECT COUNT(*) FROM rota_claims WHERE slot_id = ?", (slot.id,)
    )
    assert count == 2


async def test_one_supporter_claiming_two_shifts_at_once_keeps_the_rest_and_the_cap(
    stores: list[Database],
) -> None:
    """The same person presses two claim buttons (two devices, two processes) at the same
    moment: 3 hours apart, the rest rule lets only one through; with a cap of one shift a week
    and rest off, one of six shifts that week."""
    base = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    near = await _slots(stores[0], [base, base + timedelta(hours=3)], needed=1)
    await _trained(stores[0], range(7, 9))
    rest = await asyncio.gather(
        *(
            outcome(
                rota_service(db, NOW).claim_slot(SETTINGS, GUILD, slot.id, 7, is_supporter=True)
            )
            for slot, db in zip(near, stores, strict=False)
        )
    )
    refused = [r for r in rest if isinstance(r, str)]
    assert len(refused) == 1 and "rest" in refused[0]

    capped = SETTINGS.model_copy(update={"min_rest_hours": 0, "max_shifts_per_week": 1})
    week = await _slots(stores[1], [base + timedelta(hours=12 * n) for n in range(6)], needed=1)
    results = await asyncio.gather(
        *(
            outcome(rota_service(db, NOW).claim_slot(capped, GUILD, slot.id, 8, is_supporter=True))
            for slot, db in zip(week, spread(stores, 6), strict=True)
        )
    )
    assert sum(not isinstance(r, str) for r in results) == 1
    held = await stores[3].fetchval("SELECT COUNT(*) FROM rota_claims WHERE user_id = 8")
    assert held == 1


async def test_a_request_for_support_is_claimed_by_one_supporter(
    stores: list[Database],
) -> None:
    clock = FakeClock(NOW)
    request = await SupportService(stores[0], clock).open(GUILD, 42, "support")
    claims = [
        outcome(SupportService(db, clock).claim(GUILD, request.id, supporter))
        for supporter, db in zip(range(300, 320), spread(stores, 20), strict=True)
    ]
    results = await asyncio.gather(*claims)
    winners = [r for r in results if not isinstance(r, str)]
    assert len(winners) == 1
    assert all(
        f"<@{winners[0].claimed_by}> has already taken" in r for r in results if r != winners[0]
    )
    stored = await SupportService(stores[3], clock).get(GUILD, request.id)
    assert stored.claimed_by == winners[0].claimed_by


async def test_each_due_check_in_is_claimed_once_by_one_of_the_processes(
    stores: list[Database],
) -> None:
    clock = FakeClock(NOW)
    due = to_ts(NOW)

    def fill(tx: Tx) -> None:
        tx.executemany(
            "INSERT INTO checkin_schedules (guild_id, kind, user_id, days, local_time, zone, "
            "next_due_at, created_by, created_at) VALUES (?, 'personal', ?, 127, '12:00', "
            "'UTC', ?, ?, ?)",
            [(GUILD, 1000 + i, due, 1000 + i, due) for i in range(400)],
        )

    await stores[0].write(fill)
    sent: list[tuple[int, Occurrence]] = []

    def recorder(process: int) -> Callable[[Occurrence], Awaitable[None]]:
        async def deliver(occurrence: Occurrence) -> None:
            await asyncio.sleep(0)
            sent.append((process, occurrence))

        return deliver

    sources = [
        CheckinSource(
            CheckinSchedules(db, clock, SettingsService(db, clock, "Europe/London")), recorder(n)
        )
        for n, db in enumerate(stores)
    ]
    await asyncio.gather(*(source.run_due(NOW) for source in sources))
    counts = Counter(occurrence.user_id for _, occurrence in sent)
    assert len(counts) == 400 and set(counts.values()) == {1}
    assert await stores[1].fetchval("SELECT COUNT(*) FROM checkin_occurrences") == 400
