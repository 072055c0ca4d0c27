"""Local-time arithmetic across DST, and the dispatcher's exactly-once timers."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_SUBMITTED

from bot.clock import FakeClock
from bot.db import Database
from bot.scheduling import Dispatcher, localize, next_weekly
from bot.services.timers import Timer, TimerService

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")


def test_19_00_london_stays_19_00_across_the_spring_change() -> None:
    before = localize(date(2026, 3, 28), time(19, 0), LONDON)  # GMT
    after = localize(date(2026, 3, 29), time(19, 0), LONDON)  # BST from 01:00 that day
    assert before == datetime(2026, 3, 28, 19, 0, tzinfo=UTC)
    assert after == datetime(2026, 3, 29, 18, 0, tzinfo=UTC)
    assert after.astimezone(LONDON).hour == 19


def test_time_in_the_spring_gap_moves_forward() -> None:
    moment = localize(date(2026, 3, 29), time(1, 30), LONDON)  # 01:30 does not exist
    assert moment.astimezone(LONDON).time() == time(2, 30)


def test_time_in_the_autumn_fold_uses_the_first_occurrence() -> None:
    moment = localize(date(2026, 11, 1), time(1, 30), NEW_YORK)  # 01:30 happens twice
    assert moment == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # EDT, the first one


def test_next_weekly_walks_a_dst_week_at_the_same_local_time() -> None:
    moment = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)
    seen = []
    for _ in range(7):
        moment = next_weekly(moment, {0, 1, 2, 3, 4, 5, 6}, time(19, 0), LONDON)
        seen.append(moment)
    assert all(m.astimezone(LONDON).time() == time(19, 0) for m in seen)
    assert len({m.date() for m in seen}) == 7


def test_next_weekly_is_strictly_after() -> None:
    at = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # a Monday, 19:00 UTC
    assert next_weekly(at, {0}, time(19, 0), ZoneInfo("UTC")) == at + timedelta(days=7)


async def test_timers_fire_once_in_order_and_survive_a_new_dispatcher(db: Database) -> None:
    clock = FakeClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    timers = TimerService(db)
    fired: list[str] = []

    async def handler(timer: Timer, now: datetime) -> None:
        fired.append(timer.ref)

    await timers.schedule(1, "remind", "b", clock.now() + timedelta(hours=2))
    await timers.schedule(1, "remind", "a", clock.now() + timedelta(hours=1))
    await timers.schedule(1, "remind", "c", clock.now() + timedelta(days=1))
    await timers.schedule(1, "remind", "a", clock.now() + timedelta(hours=1))  # no duplicate

    first = Dispatcher(clock, timers)
    first.register_timer("remind", handler)
    await first.run_due()
    assert fired == []

    clock.advance(timedelta(hours=3))
    await first.run_due()
    await first.run_due()  # a second wake-up finds nothing more
    assert fired == ["a", "b"]

    # a "restart": a fresh dispatcher over the same database only sees what is left
    second = Dispatcher(clock, timers)
    second.register_timer("remind", handler)
    clock.advance(timedelta(days=1))
    await second.run_due()
    assert fired == ["a", "b", "c"]
    assert await timers.pending() == []


async def test_cancelled_and_unhandled_timers_do_not_fire(db: Database) -> None:
    clock = FakeClock()
    timers = TimerService(db)
    fired: list[str] = []

    async def handler(timer: Timer, now: datetime) -> None:
        fired.append(timer.ref)

    await timers.schedule(1, "remind", "claim:1:24", clock.now())
    await timers.schedule(1, "remind", "claim:1:1", clock.now())
    await timers.schedule(1, "remind", "claim:10:1", clock.now())
    await timers.schedule(1, "other", "x", clock.now())
    assert await timers.cancel_prefix("remind", "claim:1:") == 2

    dispatcher = Dispatcher(clock, timers)
    dispatcher.register_timer("remind", handler)
    await dispatcher.run_due()
    assert fired == ["claim:10:1"]
    assert [t.kind for t in await timers.pending()] == ["other"]  # kept for its handler


@pytest.mark.allow_errors("timer .* failed")
async def test_a_failing_handler_does_not_stop_the_others(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    timers = TimerService(db)
    fired: list[str] = []

    async def handler(timer: Timer, now: datetime) -> None:
        if timer.ref == "bad":
            raise RuntimeError("boom")
        fired.append(timer.ref)

    for ref in ("bad", "good"):
        await timers.schedule(1, "k", ref, clock.now())
    dispatcher = Dispatcher(clock, timers)
    dispatcher.register_timer("k", handler)
    await dispatcher.run_due()
    assert fired == ["good"]
    assert "timer" in caplog.text and "failed" in caplog.text


async def test_dispatcher_arms_one_job_for_the_earliest_due_time(db: Database) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    timers = TimerService(db)
    dispatcher = Dispatcher(clock, timers)

    async def handler(timer: Timer, now: datetime) -> None:
        return None

    dispatcher.register_timer("k", handler)
    await timers.schedule(1, "k", "later", clock.now() + timedelta(minutes=3))
    await dispatcher.start()
    try:
        assert dispatcher._aps is not None
        jobs = dispatcher._aps.get_jobs()
        assert len(jobs) == 1
        assert jobs[0].misfire_grace_time is None
        assert dispatcher._armed_for == clock.now() + timedelta(minutes=3)
    finally:
        await dispatcher.shutdown()


async def test_schedule_many_upserts_like_schedule_in_one_write(db: Database) -> None:
    clock = FakeClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    timers = TimerService(db)
    soon, later = clock.now() + timedelta(hours=1), clock.now() + timedelta(hours=2)
    await timers.schedule(1, "remind", "a", later, {"old": True})
    await timers.schedule_many(1, [("remind", "a", soon, {"n": 1}), ("debrief", "b", later, None)])
    found = {(t.kind, t.ref): t for t in await timers.pending()}
    assert set(found) == {("remind", "a"), ("debrief", "b")}
    assert found["remind", "a"].due_at == soon and found["remind", "a"].payload == {"n": 1}
    assert found["debrief", "b"].payload == {}


async def test_a_wake_up_during_a_run_is_not_skipped_or_lost(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """New work poked while a run is in progress still fires, without APScheduler skipping it."""
    clock = FakeClock(datetime.now(UTC))
    timers = TimerService(db)
    dispatcher = Dispatcher(clock, timers)
    started, release, all_fired = asyncio.Event(), asyncio.Event(), asyncio.Event()
    fired: list[str] = []

    async def handler(timer: Timer, now: datetime) -> None:
        if timer.ref == "slow":
            started.set()
            await release.wait()
        fired.append(timer.ref)
        if len(fired) == 6:
            all_fired.set()

    dispatcher.register_timer("k", handler)
    await timers.schedule(1, "k", "slow", clock.now())
    await dispatcher.start()
    assert dispatcher._aps is not None
    handled = asyncio.Event()
    dispatcher._aps.add_listener(
        lambda event: handled.set(), EVENT_JOB_SUBMITTED | EVENT_JOB_MAX_INSTANCES
    )
    try:
        with caplog.at_level(logging.WARNING, logger="apscheduler"):
            await asyncio.wait_for(started.wait(), timeout=5)
            for n in range(5):  # each new timer re-arms the wake job while the run is busy
                await timers.schedule(1, "k", f"new{n}", clock.now())
                handled.clear()
                dispatcher.poke()
                await asyncio.wait_for(handled.wait(), timeout=5)
            release.set()
            await asyncio.wait_for(all_fired.wait(), timeout=5)
        assert sorted(fired) == ["new0", "new1", "new2", "new3", "new4", "slow"]
        assert "maximum number of running instances" not in caplog.text
    finally:
        await dispatcher.shutdown()
