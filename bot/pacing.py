"""Keep Hearth's REST requests under Discord's global limit instead of bouncing off it.

Discord allows a bot about 50 requests per second in total (interaction callbacks and webhooks
excepted) and answers more with global 429s. discord.py retries a 429 only five times, so a big
fan-out (10,000 check-ins due in the same minute) that leans on the limit has requests refused
five times in a row, and those check-ins — already claimed — would be lost. Waiting for a free
place in a sliding one-second window costs nothing below the limit and turns a burst into a
steady stream at it.

Several processes of one bot share the one limit, so on PostgreSQL each process takes its slots
from a schedule in the database (`SharedPacer`, `bot/services/rate_budget.py`) instead of
counting alone; SQLite means one process, which keeps the in-memory `RequestPacer`.

Why one scheduled row (GCRA's virtual scheduling) and not a shared window or a token bucket:
one short statement per round trip both reserves and orders the slots, on the database server's
clock, with no cleanup; and slots come `1/45 s` apart, so the spacing (no bursts) is the
schedule itself. Each round trip reserves as many slots as this process has requests waiting,
up to `horizon` seconds' worth, and no new ones while it already holds more than `horizon`
ahead: without that, a process with 500 queued messages would book the next ten seconds and
every other process's requests (a member's button) would wait behind them. An idle process pays
one round trip per request and never waits for a slot: measured on a busy two-core machine with
the database local, a median 1 ms (95th percentile 4.5 ms); in a burst, one round trip of about
3 ms reserves 10 slots.

When the database does not answer within `timeout`, requests are paced by this process alone at
a conservative `fallback_per_second` (about 45 divided by the number of processes; see
`[delivery]`) for `retry_after` seconds, then the database is asked again: Discord traffic never
waits on an outage, and the processes together stay under the limit while it lasts. That is
logged once per outage. Behind an HTTP rate-limit proxy that owns the global limit (README),
`[delivery] shared_rate_budget = false` keeps the in-memory pacer.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from dataclasses import dataclass
from typing import Any

from discord.http import HTTPClient, Route

from bot.db import Database
from bot.services.rate_budget import RateBudget, bucket_for

log = logging.getLogger(__name__)

# A little under Discord's 50/s, and never two requests closer than SPACING: a burst sent all at
# once reaches Discord bunched up (late), which can tip its window over even when ours is not.
DISCORD_GLOBAL_LIMIT = 50  # requests a second, per bot token, unless Discord granted more
REQUESTS_PER_SECOND = 47
WINDOW_SECONDS = 1.0
SPACING_SECONDS = 0.01
EXEMPT_PREFIXES = ("/interactions/", "/webhooks/")
# The shared schedule's defaults (see the module's docstring).
HORIZON_SECONDS = 0.25
BUDGET_TIMEOUT_SECONDS = 0.5
RETRY_AFTER_SECONDS = 5.0
FALLBACK_PER_SECOND = 15  # 45/s shared by three processes
# Shared, a little lower than alone: processes (on other machines) reach Discord with different
# delays, and one late for its slot (a busy event loop) sends bunched with the next slots. Five
# under 50 absorbs about 100 ms of that; measured with three real processes on two busy cores,
# the busiest second held 49-50 at 47/s, 46 at 45/s (tests/e2e/test_process_budget.py).
SHARED_REQUESTS_PER_SECOND = 45
# A slot used later than this is given up for a fresh one: requests then go out within 50 ms of
# their slots, so any second holds at most 45 × 1.05 + 1 of them, under 50 however busy a
# process's event loop is. After LATE_RETAKES fresh slots a request goes anyway.
LATE_SECONDS = 0.05
LATE_RETAKES = 3


class RequestPacer:
    def __init__(
        self,
        per_window: int = REQUESTS_PER_SECOND,
        window: float = WINDOW_SECONDS,
        spacing: float = SPACING_SECONDS,
    ) -> None:
        self.per_window = per_window
        self.window = window
        self.spacing = spacing
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def wait_turn(self) -> None:
        """Return once one more request fits in the last `window` seconds (first come first)."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            while True:
                now = loop.time()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                if self._sent and now - self._sent[-1] < self.spacing:
                    await asyncio.sleep(self._sent[-1] + self.spacing - now)
                elif len(self._sent) < self.per_window:
                    self._sent.append(now)
                    return
                else:
                    await asyncio.sleep(self._sent[0] + self.window - now)

    def install(self, http: HTTPClient) -> None:
        """Route every counted request of this client through `wait_turn` first."""
        original = http.request

        async def paced_request(route: Route, **kwargs: Any) -> Any:
            if not route.path.startswith(EXEMPT_PREFIXES):
                await self.wait_turn()
            return await original(route, **kwargs)

        http.request = paced_request  # type: ignore[method-assign]  # wraps discord.py's client in place


@dataclass
class BudgetStats:
    """What the shared budget cost this process, for measurements and `/about`-style checks."""

    round_trips: int = 0
    slots: int = 0
    round_trip_seconds: float = 0.0  # summed; divide by round_trips for the mean
    max_round_trip_seconds: float = 0.0
    local_requests: int = 0  # paced by the fallback (store not open yet, or not answering)
    max_late_seconds: float = 0.0  # the most a request left after its slot (a busy loop)
    forfeited: int = 0  # slots given up for fresh ones, having woken too late to use them
    outages: int = 0


class SharedPacer:
    """`RequestPacer`'s contract (`wait_turn`, `install`) over the database's shared schedule."""

    def __init__(
        self,
        budget: RateBudget,
        *,
        per_second: int = SHARED_REQUESTS_PER_SECOND,
        fallback_per_second: int = FALLBACK_PER_SECOND,
        horizon: float = HORIZON_SECONDS,
        timeout: float = BUDGET_TIMEOUT_SECONDS,
        retry_after: float = RETRY_AFTER_SECONDS,
        bucket: str | None = None,
    ) -> None:
        self.budget = budget
        self.interval_us = round(1_000_000 / per_second)
        self.interval = self.interval_us / 1_000_000
        self.horizon = horizon
        self.max_batch = max(1, math.ceil(horizon * per_second))
        self.timeout = timeout
        self.retry_after = retry_after
        self.bucket = bucket  # set from the HTTP client's token at its first request
        self.fallback = RequestPacer(per_window=fallback_per_second)
        self.stats = BudgetStats()
        self._waiting: list[asyncio.Future[float | None]] = []
        self._taker: asyncio.Task[None] | None = None
        self._reserved_until = 0.0  # event-loop time of the last slot this process holds
        self._local_until = 0.0  # until then, pace locally: the database did not answer
        self._in_outage = False

    async def wait_turn(self) -> None:
        """Return at this request's slot in the shared schedule (or the fallback's turn)."""
        loop = asyncio.get_running_loop()
        if self.bucket is None or not self.budget.ready or loop.time() < self._local_until:
            await self._local_turn()
            return
        for attempt in range(LATE_RETAKES + 1):
            slot: asyncio.Future[float | None] = loop.create_future()
            self._waiting.append(slot)
            if self._taker is None or self._taker.done():
                self._taker = asyncio.create_task(self._take_slots(), name="hearth-rate-budget")
            at = await slot
            if at is None:
                await self._local_turn()
                return
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            late = loop.time() - at
            self.stats.max_late_seconds = max(self.stats.max_late_seconds, late)
            if late <= LATE_SECONDS or attempt == LATE_RETAKES:
                return
            # Woken this late (a busy event loop), it would go out bunched with the slots after
            # it, its own and other processes': give the slot up and take a fresh one.
            self.stats.forfeited += 1

    async def _local_turn(self) -> None:
        self.stats.local_requests += 1
        await self.fallback.wait_turn()

    async def _take_slots(self) -> None:
        """Reserve slots for whoever is waiting, a batch per round trip, until nobody is."""
        try:
            await self._take_batches()
        finally:  # cancelled (a stop): nobody waits for a slot that will never come
            for slot in self._waiting:
                if not slot.done():
                    slot.set_result(None)
            self._waiting = []

    async def _take_batches(self) -> None:
        loop = asyncio.get_running_loop()
        assert self.bucket is not None
        while self._waiting:
            ahead = self._reserved_until - loop.time()
            if ahead > self.horizon:  # hold no more than `horizon` of the shared schedule
                await asyncio.sleep(ahead - self.horizon)
            waiting = [slot for slot in self._waiting if not slot.done()]  # drop cancelled ones
            batch, self._waiting = waiting[: self.max_batch], waiting[self.max_batch :]
            if not batch:
                continue
            sent = loop.time()
            try:
                wait = await asyncio.wait_for(
                    self.budget.take(self.bucket, len(batch), self.interval_us), self.timeout
                )
            except Exception as exc:  # any failure at all: Discord traffic goes on, paced locally
                self._go_local(exc, batch)
                return
            got = loop.time()
            self._note_round_trip(got - sent, len(batch))
            first = (sent + got) / 2 + wait  # the server's "now" is mid-round-trip
            for index, slot in enumerate(batch):
                if not slot.done():
                    slot.set_result(first + index * self.interval)
            self._reserved_until = first + (len(batch) - 1) * self.interval

    def _note_round_trip(self, seconds: float, slots: int) -> None:
        stats = self.stats
        stats.round_trips += 1
        stats.slots += slots
        stats.round_trip_seconds += seconds
        stats.max_round_trip_seconds = max(stats.max_round_trip_seconds, seconds)
        if self._in_outage:
            self._in_outage = False
            log.info("the shared rate budget answers again; pacing with the other processes")

    def _go_local(self, exc: Exception, slots: list[asyncio.Future[float | None]]) -> None:
        self._local_until = asyncio.get_running_loop().time() + self.retry_after
        if not self._in_outage:
            self._in_outage = True
            self.stats.outages += 1
            log.warning(
                "the shared rate budget did not answer (%s); pacing this process alone at %d "
                "requests/s until it does",
                type(exc).__name__,
                self.fallback.per_window,
            )
        for slot in slots:
            if not slot.done():
                slot.set_result(None)

    def install(self, http: HTTPClient) -> None:
        """Route every counted request of this client through `wait_turn` first; the budget is
        the one of the client's bot token."""
        original = http.request

        async def paced_request(route: Route, **kwargs: Any) -> Any:
            if not route.path.startswith(EXEMPT_PREFIXES):
                if self.bucket is None and http.token:
                    self.bucket = bucket_for(http.token)
                await self.wait_turn()
            return await original(route, **kwargs)

        http.request = paced_request  # type: ignore[method-assign]  # wraps discord.py's client in place


def pacer_for(
    db: Database,
    *,
    limit: int = DISCORD_GLOBAL_LIMIT,
    shared: bool = True,
    fallback_per_second: int = FALLBACK_PER_SECOND,
) -> RequestPacer | SharedPacer:
    """The shared schedule on PostgreSQL (several processes may run), else the local pacer, each
    at its margin under `limit` (Discord's 50/s, or what it granted a large bot): 47 and 45 of
    50, and never two requests closer than half a slot."""
    if shared and db.engine == "postgresql":
        return SharedPacer(
            RateBudget(db),
            per_second=max(1, limit * SHARED_REQUESTS_PER_SECOND // DISCORD_GLOBAL_LIMIT),
            fallback_per_second=fallback_per_second,
        )
    return RequestPacer(
        per_window=max(1, limit * REQUESTS_PER_SECOND // DISCORD_GLOBAL_LIMIT),
        spacing=SPACING_SECONDS * DISCORD_GLOBAL_LIMIT / limit,
    )
