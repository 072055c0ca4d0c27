"""The design Hearth avoids, measured in the same run: one APScheduler cron job per schedule.

Run as its own process (`python -m bench.naive_scheduler N BURST`) so its memory is its own; it
prints one JSON line: load seconds and MiB for N jobs, and how many of BURST jobs due in the same
second ran or were dropped as misfired under APScheduler's default 1-second grace.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import time
from datetime import UTC, datetime, timedelta

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from bench.common import rss_mb

ZONES = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC"]


async def _noop() -> None:
    return None


def _send_like() -> None:
    """Stand-in for the CPU work of building and sending one message (~0.25 ms)."""
    deadline = time.perf_counter() + 0.00025
    while time.perf_counter() < deadline:
        pass


async def load(count: int) -> tuple[float, float]:
    before = rss_mb()
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start(paused=True)
    started = time.perf_counter()
    for index in range(count):
        scheduler.add_job(
            _noop,
            CronTrigger(
                day_of_week="mon,wed,fri",
                hour=index % 24,
                minute=index % 60,
                timezone=ZONES[index % len(ZONES)],
            ),
            id=f"s{index}",
        )
    elapsed = time.perf_counter() - started
    grown = rss_mb() - before
    scheduler.shutdown(wait=False)
    return elapsed, grown


async def burst(count: int) -> tuple[int, int]:
    ran = missed = 0
    all_accounted = asyncio.Event()

    def listen(event: JobEvent) -> None:
        nonlocal ran, missed
        if event.code == EVENT_JOB_MISSED:
            missed += 1
        else:
            ran += 1
        if ran + missed == count:
            all_accounted.set()

    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
    due = datetime.now(UTC) + timedelta(seconds=1)
    for index in range(count):
        scheduler.add_job(_send_like, DateTrigger(run_date=due), id=f"b{index}")
    scheduler.start()
    with contextlib.suppress(TimeoutError):  # then report what was accounted for
        await asyncio.wait_for(all_accounted.wait(), timeout=60)
    scheduler.shutdown(wait=False)
    return ran, missed


async def main(count: int, burst_count: int) -> None:
    load_seconds, load_mb = await load(count)
    ran, missed = await burst(burst_count)
    print(
        json.dumps(
            {
                "jobs": count,
                "load_seconds": load_seconds,
                "load_mb": load_mb,
                "burst": burst_count,
                "burst_ran": ran,
                "burst_missed": missed,
            }
        )
    )


if __name__ == "__main__":
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)  # one warning per dropped job
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
