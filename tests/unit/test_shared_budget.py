"""One global request budget per bot across processes (bot/pacing.py, bot/services/rate_budget.py).

The burst tests stand three "processes" up in one test: each its own store (its own pool on
PostgreSQL), its own discord.py HTTP client and its own pacer, all sending at once to the fake
with its global limit on. They run in real time (a few seconds): pacing is about wall-clock
spacing at the server, which a fake clock cannot show. The fallback tests need no database.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from discord.http import HTTPClient, Route

from bot.clock import FakeClock
from bot.db import Database, open_database
from bot.pacing import SHARED_REQUESTS_PER_SECOND, RequestPacer, SharedPacer, pacer_for
from bot.services.rate_budget import RateBudget, bucket_for
from tests.fakediscord import FakeDiscord
from tests.fakediscord.models import FakeChannel
from tests.stores import new_target, on_postgres, shared_stores

PROCESSES = 3
needs_postgres = pytest.mark.skipif(
    not on_postgres(), reason="the shared budget is PostgreSQL's (SQLite is one process)"
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(clock=FakeClock())
    await server.start()
    base = Route.BASE
    Route.BASE = server.api_base
    try:
        yield server
    finally:
        Route.BASE = base
        await server.stop()


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[list[Database]]:
    async with shared_stores(tmp_path / "shared.db", PROCESSES, pool_size=3) as opened:
        yield opened


async def clients(
    fake: FakeDiscord, pacers: Sequence[RequestPacer | SharedPacer]
) -> list[HTTPClient]:
    made = []
    for pacer in pacers:
        http = HTTPClient(asyncio.get_running_loop())
        pacer.install(http)
        await http.static_login(fake.token)
        made.append(http)
    return made


async def burst(https: list[HTTPClient], channel: FakeChannel, each: int) -> float:
    """Every client posts `each` messages at once; seconds until all were accepted."""

    async def post(http: HTTPClient, number: int) -> None:
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id)
        await http.request(route, json={"content": f"burst {number}"})

    started = time.monotonic()
    await asyncio.gather(
        *(post(http, p * each + i) for p, http in enumerate(https) for i in range(each))
    )
    return time.monotonic() - started


def text_channel(fake: FakeDiscord) -> FakeChannel:
    guild = fake.add_guild("Budget")
    return guild.add_text_channel("general")


@needs_postgres
async def test_three_processes_share_one_budget_and_never_pass_50_a_second(
    fake: FakeDiscord, stores: list[Database]
) -> None:
    channel = text_channel(fake)
    pacers = [SharedPacer(RateBudget(db)) for db in stores]
    https = await clients(fake, pacers)
    fake.enforce_global_limit(50)
    fake.ratelimits.reset_peaks()  # the logins are not the burst
    try:
        seconds = await burst(https, channel, each=40)
    finally:
        for http in https:
            await http.close()
    assert len(fake.channel_messages(channel)) == 3 * 40
    assert fake.rate_limited == []
    assert fake.peak_requests_per_second() <= 50  # 46-49 seen: the fake shares this loop
    # Close to the shared pace, not a third of it: the budget is used, not wasted.
    assert seconds < 120 / SHARED_REQUESTS_PER_SECOND + 0.6
    for pacer in pacers:  # each took its own share, batched: fewer round trips than requests
        assert pacer.stats.local_requests == 0
        assert 0 < pacer.stats.round_trips < pacer.stats.slots


async def test_three_unshared_pacers_would_pass_the_limit(fake: FakeDiscord) -> None:
    """The control: three processes each pacing alone send three times Discord's limit."""
    channel = text_channel(fake)
    https = await clients(fake, [RequestPacer() for _ in range(PROCESSES)])
    fake.ratelimits.reset_peaks()
    try:
        await burst(https, channel, each=40)
    finally:
        for http in https:
            await http.close()
    assert fake.peak_requests_per_second() > 100


class Unreachable(RateBudget):
    """A budget whose database hangs (a network partition) or refuses at once."""

    def __init__(self, *, hang: bool) -> None:
        self.hang = hang
        self.asked = 0

    @property
    def ready(self) -> bool:
        return True

    async def take(self, bucket: str, count: int, interval_us: int) -> float:
        self.asked += 1
        if self.hang:
            await asyncio.sleep(3600)
        raise OSError("connection refused")


@pytest.mark.parametrize("hang", [True, False], ids=["hangs", "refuses"])
async def test_an_unreachable_budget_paces_locally_and_says_so_once(
    hang: bool, caplog: pytest.LogCaptureFixture
) -> None:
    budget = Unreachable(hang=hang)
    pacer = SharedPacer(
        budget, bucket="bot:1", timeout=0.05, retry_after=3600, fallback_per_second=5
    )
    caplog.set_level(logging.INFO, logger="bot.pacing")
    started = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(pacer.wait_turn() for _ in range(7))), 5)
    elapsed = time.monotonic() - started
    # Seven requests at 5 a second locally: the last waits about a second, not forever.
    assert 1.0 <= elapsed < 2.0
    assert budget.asked == 1  # the outage is not asked about again before `retry_after`
    assert pacer.stats.local_requests == 7 and pacer.stats.outages == 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "the shared rate budget did not answer (TimeoutError); pacing this process alone at 5 "
        "requests/s until it does"
        if hang
        else "the shared rate budget did not answer (OSError); pacing this process alone at 5 "
        "requests/s until it does"
    ]


async def test_the_budget_is_asked_again_after_an_outage_and_says_it_is_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Flaky(RateBudget):
        def __init__(self) -> None:
            self.failing = True

        @property
        def ready(self) -> bool:
            return True

        async def take(self, bucket: str, count: int, interval_us: int) -> float:
            if self.failing:
                raise OSError("down")
            return 0.0

    budget = Flaky()
    pacer = SharedPacer(budget, bucket="bot:1", retry_after=0.05)
    caplog.set_level(logging.INFO, logger="bot.pacing")
    await pacer.wait_turn()
    budget.failing = False
    await asyncio.sleep(0.06)
    await pacer.wait_turn()
    await pacer.wait_turn()
    assert pacer.stats.outages == 1 and pacer.stats.round_trips == 2
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]
    assert "answers again" in caplog.records[-1].getMessage()


async def test_before_the_store_opens_requests_are_paced_locally(tmp_path: Path) -> None:
    """discord.py logs in before `setup_hook` connects the store: no warning for that."""
    db = open_database(new_target(tmp_path / "closed.db"))
    pacer = SharedPacer(RateBudget(db), bucket="bot:1")
    await pacer.wait_turn()
    assert pacer.stats.local_requests == 1 and pacer.stats.outages == 0


def test_sqlite_keeps_the_in_memory_pacer(tmp_path: Path) -> None:
    from bot.engines.sqlite import SqliteDatabase

    assert type(pacer_for(SqliteDatabase(tmp_path / "x.db"))) is RequestPacer
    if on_postgres():
        db = open_database(new_target(tmp_path / "pg.db"))
        assert type(pacer_for(db)) is SharedPacer
        assert type(pacer_for(db, shared=False)) is RequestPacer


def test_the_budget_is_per_bot_and_never_stores_the_token() -> None:
    # A real token's first part is its bot's id in base64: a new token keeps the bot's budget.
    assert bucket_for("MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.secret") == "bot:123456789012345678"
    assert bucket_for("MTIzNDU2Nzg5MDEyMzQ1Njc4.Other.other") == "bot:123456789012345678"
    opaque = bucket_for("not-a-discord-token")
    assert opaque.startswith("token:") and "not-a-discord-token" not in opaque


@needs_postgres
async def test_slots_are_spaced_on_the_servers_clock_across_stores(
    stores: list[Database],
) -> None:
    """Taken one after another from three stores, slots follow each other one interval apart.

    The interval is a whole second here (the real one is 1/45 s) so that taking all 30 is far
    faster than the pace however busy the machine is: the property is the spacing, not speed."""
    budgets = [RateBudget(db) for db in stores]
    interval_us = 1_000_000
    started = time.monotonic()
    waits = [await budgets[i % 3].take("bot:7", 1, interval_us) for i in range(30)]
    elapsed = time.monotonic() - started
    # Each slot is one interval after the one before: the 30th is 29 intervals after the first,
    # whichever store took it.
    assert waits[0] == 0.0
    assert all(later > earlier for earlier, later in itertools.pairwise(waits))
    assert abs(waits[-1] + elapsed - 29) < 0.5
    # Another bot's budget is its own.
    assert await budgets[0].take("bot:8", 1, interval_us) == 0.0


@needs_postgres
async def test_a_long_queue_in_one_process_does_not_hold_up_anothers_request(
    stores: list[Database],
) -> None:
    """A process with a hundred messages queued books at most `horizon` ahead at a time, so a
    member's single request in another process waits a fraction of a second, not the queue."""
    busy = SharedPacer(RateBudget(stores[0]), bucket="bot:9")
    other = SharedPacer(RateBudget(stores[1]), bucket="bot:9")
    queue = asyncio.gather(*(busy.wait_turn() for _ in range(100)))
    await asyncio.sleep(0.3)  # the queue is well under way
    started = time.monotonic()
    await other.wait_turn()
    waited = time.monotonic() - started
    assert not queue.done()  # the queue's 2 s are not over …
    assert waited < 2 * busy.horizon + 0.15  # … but the other process's turn came
    await queue


@needs_postgres
async def test_a_slot_woken_too_late_is_given_up_so_requests_never_bunch(
    stores: list[Database],
) -> None:
    """A busy event loop (here: blocked for 0.3 s) wakes every request whose slot passed at once;
    sent like that they would bunch with the slots after them. Each slot more than 50 ms late is
    given up for a fresh one, so no 0.1 s ever holds more than the schedule allows (7 at 45/s,
    plus the 50 ms of slack); without it a dozen went out together."""
    pacer = SharedPacer(RateBudget(stores[0]), bucket="bot:10")
    loop = asyncio.get_running_loop()
    sent: list[float] = []

    async def request() -> None:
        await pacer.wait_turn()
        sent.append(loop.time())

    requests = asyncio.gather(*(request() for _ in range(30)))
    await asyncio.sleep(0.1)  # slots are reserved and the first requests are out
    time.sleep(0.3)  # noqa: ASYNC251 - the point: the event loop is busy and wakes late
    await requests
    busiest = max(sum(1 for t in sent if start <= t < start + 0.1) for start in sent)
    assert pacer.stats.forfeited >= 5
    assert busiest <= 8
