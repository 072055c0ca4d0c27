"""One dispatcher for everything scheduled, woken by a single APScheduler job.

The database holds every due time (indexed); nothing scheduled lives only in memory. One
APScheduler job per schedule costs seconds and hundreds of megabytes at 100,000 schedules and
drops jobs under load with the default misfire grace, so instead a single date job is armed for
the earliest due time across all sources. When it fires, each source processes what is due and
the job is re-armed. Sources claim occurrences with atomic statements, so a slow send, a second
wake-up or a restart cannot fire an occurrence twice.

Whatever a source or timer wants to *send* becomes an outbox row in the transaction that claims
it; the outbox (attached with `attach_outbox`) runs last in every wake-up and sends those rows,
claiming them from the database in small leased batches (see `bot.services.outbox`).

When Hearth runs as several processes (one range of gateway shards each), the dispatcher's
`scope` says whose servers' work is this process's: it is handed to the timers' claim and to
every source's `next_due`/`run_due`, which keep their queries to it (see `bot.shards`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock
from bot.services.timers import Timer, TimerConverter, TimerService
from bot.shards import ShardScope

log = logging.getLogger(__name__)

# Re-check at least this often, so a changed wall clock or a missed poke heals itself.
MAX_SLEEP = timedelta(minutes=5)
WAKE_JOB_ID = "hearth-dispatch"
TIMER_CONCURRENCY = 20

TimerHandler = Callable[[Timer, datetime], Awaitable[None]]


class DueSource(Protocol):
    """A feature's own table of recurring due times (check-in schedules, reposts, …).

    Both calls get the process's `scope` and must keep their queries to its servers
    (`scope.where("guild_id")`): `next_due` so another process's due rows never wake this one
    (it could not claim them, and would spin), `run_due` so it claims only its own servers'.
    """

    name: str

    async def next_due(self, scope: ShardScope) -> datetime | None: ...

    async def run_due(self, now: datetime, scope: ShardScope) -> None:
        """Fire everything due at or before `now` among `scope`'s servers, each occurrence
        claimed exactly once."""
        ...


class Dispatcher:
    def __init__(self, clock: Clock, timers: TimerService) -> None:
        self._clock = clock
        self._timers = timers
        self._handlers: dict[str, TimerHandler] = {}
        self._converters: dict[str, TimerConverter] = {}
        self._sources: list[DueSource] = []
        self._outbox: DueSource | None = None
        self._aps: AsyncIOScheduler | None = None
        self._run_lock = asyncio.Lock()
        self._armed_for: datetime | None = None
        self._rearm_tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._wake_again = False
        # Whose servers' work this process does (`HearthBot.shard_scope` sets it, once, before
        # the dispatcher starts): every claim below is kept to it.
        self.scope = ShardScope.everything()

    # --- registration ------------------------------------------------------------------------
    def register_timer(self, kind: str, handler: TimerHandler) -> None:
        self._handlers[kind] = handler
        self.poke()

    def register_timer_outbox(self, kind: str, converter: TimerConverter) -> None:
        """Timers of `kind` stand for messages: claiming one writes its outbox rows (in the same
        transaction) instead of calling a handler."""
        self._converters[kind] = converter
        self.poke()

    def unregister_timer(self, kind: str) -> None:
        self._handlers.pop(kind, None)
        self._converters.pop(kind, None)

    def attach_outbox(self, outbox: DueSource) -> None:
        """The sender of outbox rows: run after every timer and source, so what they claimed in
        this wake-up goes out in it."""
        self._outbox = outbox
        self.poke()

    def add_source(self, source: DueSource) -> None:
        self._sources.append(source)
        self.poke()

    def remove_source(self, source: DueSource) -> None:
        if source in self._sources:
            self._sources.remove(source)

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._aps = AsyncIOScheduler(timezone=UTC)
        self._aps.start()
        await self.rearm()

    async def shutdown(self) -> None:
        """Stop waking up, and let work in flight finish before the database closes."""
        aps, self._aps = self._aps, None
        if aps is not None and aps.running:
            aps.shutdown(wait=False)
        # A wake-up APScheduler already handed to the loop starts, sees we are stopping and
        # returns; one cancelled before starting would be logged by APScheduler as a failure.
        await asyncio.sleep(0)
        pending: set[asyncio.Task[None]] = set(self._rearm_tasks)
        if self._runner is not None and not self._runner.done():
            pending.add(self._runner)
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        async with self._run_lock:  # let a dispatch in progress finish its claims
            pass

    @property
    def running(self) -> bool:
        return self._aps is not None and self._aps.running

    # --- arming ------------------------------------------------------------------------------
    async def next_due(self) -> datetime | None:
        scope = self.scope
        candidates = [await self._timers.next_due([*self._handlers, *self._converters], scope)]
        for source in self._all_sources():
            candidates.append(await source.next_due(scope))
        due = [moment for moment in candidates if moment is not None]
        return min(due) if due else None

    async def rearm(self) -> None:
        """Point the single wake-up job at the earliest due time (or a periodic re-check)."""
        if self._aps is None:
            return
        now = self._clock.now()
        due = await self.next_due()
        if self._aps is None:  # shut down while we were reading
            return
        wake_in = MAX_SLEEP if due is None else max(timedelta(0), min(due - now, MAX_SLEEP))
        self._armed_for = now + wake_in
        self._aps.add_job(
            self._wake,
            trigger=DateTrigger(run_date=datetime.now(UTC) + wake_in),
            id=WAKE_JOB_ID,
            replace_existing=True,
            # A late wake-up must still run: APScheduler's default 1 s grace silently drops it.
            misfire_grace_time=None,
            coalesce=True,
            # `_wake` only sets a flag for the one runner, so overlapping fires are harmless; two
            # can land in one loop turn at start-up, before the first has begun.
            max_instances=8,
        )

    def poke(self, due_at: datetime | None = None) -> None:
        """Tell the dispatcher something new may be due sooner than it is armed for."""
        if self._aps is None:
            return
        if due_at is not None and self._armed_for is not None and due_at >= self._armed_for:
            return
        task = asyncio.get_running_loop().create_task(self.rearm())
        self._rearm_tasks.add(task)
        task.add_done_callback(self._rearm_tasks.discard)
        task.add_done_callback(_log_task_failure)

    async def _wake(self) -> None:
        """APScheduler's job: hand the work to one runner task and return at once.

        A wake-up that arrives while a run is still going would otherwise be skipped by
        APScheduler as an overlapping instance, and with it the only armed job: lost work.
        """
        if self._aps is None:  # shutting down
            return
        self._wake_again = True
        if self._runner is None or self._runner.done():
            self._runner = asyncio.get_running_loop().create_task(self._run_until_idle())

    async def _run_until_idle(self) -> None:
        while self._wake_again and self._aps is not None:
            self._wake_again = False
            try:
                await self.run_due()
            except Exception:
                if self._aps is None:  # the database closed under us during shutdown
                    return
                log.exception("dispatcher run failed; re-arming")
                await self.rearm()

    # --- running -----------------------------------------------------------------------------
    async def run_due(self) -> None:
        """Fire everything due now. Tests call this after moving their FakeClock."""
        async with self._run_lock:
            now, scope = self._clock.now(), self.scope
            await self._run_timers(now, scope)
            for source in self._all_sources():
                try:
                    await source.run_due(now, scope)
                except Exception:
                    log.exception("scheduled source %s failed", source.name)
        await self.rearm()

    def _all_sources(self) -> list[DueSource]:
        return [*self._sources, *([self._outbox] if self._outbox is not None else [])]

    async def _run_timers(self, now: datetime, scope: ShardScope) -> None:
        limit = asyncio.Semaphore(TIMER_CONCURRENCY)

        async def fire(timer: Timer) -> None:
            handler = self._handlers.get(timer.kind)
            if handler is None:  # unregistered meanwhile (extension unloaded): nothing to do
                return
            async with limit:
                try:
                    await handler(timer, now)
                except Exception:
                    log.exception("timer %s (%s) failed", timer.id, timer.kind)

        while batch := await self._timers.claim_due(now, self._handlers, self._converters, scope):
            await asyncio.gather(*(fire(timer) for timer in batch))


def _log_task_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("re-arming the dispatcher failed", exc_info=task.exception())


# --- local time, DST-safe ----------------------------------------------------------------------
def localize(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time in a zone, resolving DST edges predictably.

    In a spring-forward gap (02:30 that never happens) the time moves forward by the gap, as
    people expect of "02:30 every day"; in an autumn fold the first occurrence is used.
    """
    # PEP 495: fold=0 takes the offset in force before a transition, which both pushes a
    # nonexistent time forward by the gap and picks the first of two ambiguous times.
    local = datetime.combine(day, at.replace(tzinfo=None)).replace(tzinfo=zone, fold=0)
    return local.astimezone(UTC)


def next_weekly(after: datetime, weekdays: set[int], at: time, zone: ZoneInfo) -> datetime:
    """The first occurrence strictly after `after` on one of `weekdays` (Mon=0) at local `at`."""
    if not weekdays:
        raise ValueError("at least one weekday is needed")
    local_day = after.astimezone(zone).date()
    for offset in range(8):
        day = local_day + timedelta(days=offset)
        if day.weekday() in weekdays:
            moment = localize(day, at, zone)
            if moment > after:
                return moment
    raise AssertionError("a weekday within 8 days always exists")  # pragma: no cover
