"""The support-request store: one open request per member, claim races, close."""

from __future__ import annotations

import asyncio

import pytest

from bot.clock import FakeClock
from bot.db import Database
from bot.errors import UserFacingError
from bot.services.support import AlreadyOpen, SupportService

GUILD, MEMBER = 1, 100


@pytest.fixture
def service(db: Database) -> SupportService:
    return SupportService(db, FakeClock())


async def test_one_open_request_per_member_even_when_asked_at_once(
    service: SupportService,
) -> None:
    results = await asyncio.gather(
        *(service.open(GUILD, MEMBER, "support") for _ in range(10)), return_exceptions=True
    )
    opened = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, AlreadyOpen)]
    assert len(opened) == 1 and len(refused) == 9
    assert refused[0].request.id == opened[0].id


async def test_many_supporters_claim_at_once_and_exactly_one_wins(
    service: SupportService,
) -> None:
    request = await service.open(GUILD, MEMBER, "support")
    supporters = list(range(200, 220))
    results = await asyncio.gather(
        *(service.claim(GUILD, request.id, s) for s in supporters), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    assert len(winners) == 1
    winner = winners[0].claimed_by
    losers = [r for r in results if isinstance(r, UserFacingError)]
    assert len(losers) == 19 and all(f"<@{winner}> has already taken" in e.message for e in losers)
    assert (await service.get(GUILD, request.id)).claimed_by == winner


async def test_close_once_then_a_new_request_may_open(service: SupportService) -> None:
    request = await service.open(GUILD, MEMBER, "checkin")
    with pytest.raises(UserFacingError, match="your own request"):
        await service.claim(GUILD, request.id, MEMBER)
    closed = await service.close(GUILD, request.id, MEMBER)
    assert closed.state == "closed" and closed.closed_by == MEMBER
    with pytest.raises(UserFacingError, match="already closed"):
        await service.close(GUILD, request.id, MEMBER)
    with pytest.raises(UserFacingError, match="already been closed"):
        await service.claim(GUILD, request.id, 200)
    again = await service.open(GUILD, MEMBER, "support")
    assert again.id != request.id
    with pytest.raises(UserFacingError, match="can't find"):
        await service.get(2, again.id)  # another server's id is not found
