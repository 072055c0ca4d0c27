"""Section 3: 100,000 schedules — start-up cost, and a burst delivered under Discord's limit.

Start-up runs in a fresh process (`python -m bench.scheduler DB`), so its memory is its own: it
connects, migrates (a no-op), and rebuilds the dispatcher's view exactly as `HearthBot.setup_hook`
does (`Dispatcher.start()`, then the first `next_due()` over every source). Beside it runs the
naive design (`bench.naive_scheduler`): one APScheduler CronTrigger job per schedule.

The burst goes through the real bot to the fake with a global 50 requests/s limit: every
schedule posts one group prompt to its own channel (claimed into the outbox, sent from it), so the
fake's per-channel message count proves each was delivered exactly once.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from bench import engines
from bench.common import Table, rss_mb, verdict
from bench.world import add_people, hearth_driver, running, started_fake
from bot.clock import FakeClock, SystemClock
from bot.db import Tx, open_database
from bot.engines.sqlite import SqliteDatabase
from tests.harness import ErrorWatch, bot_of

ZONES = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC",
         "America/Los_Angeles", "Asia/Kolkata", "Europe/Berlin"]  # fmt: skip
BURST_AT = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # a Monday
CHANNELS_PER_GUILD = 100


def _schedule_rows(
    count: int, first_guild: int, due: int, spread: int, channels: list[tuple[int, int]] | None
) -> list[tuple[Any, ...]]:
    """Half group prompts, half personal check-ins, mixed zones, due times spread over a week
    (`spread` s) unless `channels` are given (then: group prompts there, all due at `due`)."""
    rnd = random.Random(count)
    rows: list[tuple[Any, ...]] = []
    for index in range(count):
        zone = ZONES[index % len(ZONES)]
        at = f"{index % 24:02d}:{index % 60:02d}"
        next_due = due + (rnd.randrange(spread) if spread else 0)
        if channels is not None:
            guild_id, channel_id = channels[index]
            rows.append((guild_id, "group", channel_id, None, "How are you?", 1, "19:00", "UTC",
                         next_due, 1, 0))  # fmt: skip
        elif index % 2:
            rows.append((first_guild + index % 1000, "group", 10_000 + index, None, "How are you?",
                         0b0010101, at, zone, next_due, 1, 0))  # fmt: skip
        else:
            rows.append((first_guild + index % 1000, "personal", None, 1_000_000 + index, "",
                         0b1111111, at, zone, next_due, 1, 0))  # fmt: skip
    return rows


INSERT = (
    "INSERT INTO checkin_schedules (guild_id, kind, channel_id, user_id, prompt, days, "
    "local_time, zone, next_due_at, created_by, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)


async def _migrated(path: Path) -> None:
    db = SqliteDatabase(path)
    await db.connect()
    await db.migrate()
    await db.close()


def _bulk_insert(path: Path, rows: list[tuple[Any, ...]]) -> None:
    with sqlite3.connect(path) as conn:
        conn.executemany(INSERT, rows)


# --- start-up, in its own process ------------------------------------------------------------
async def _startup(path: Path) -> dict[str, float]:
    from bot.scheduling import Dispatcher
    from bot.services.checkin_due import CheckinSource
    from bot.services.checkin_schedules import CheckinSchedules
    from bot.services.settings import SettingsService
    from bot.services.timers import TimerService

    async def deliver(_: Any) -> None:
        return None

    before = rss_mb()
    started = time.perf_counter()
    db = SqliteDatabase(path)
    await db.connect()
    await db.migrate()
    clock = SystemClock()
    dispatcher = Dispatcher(clock, TimerService(db))
    await dispatcher.start()
    schedules = CheckinSchedules(db, clock, SettingsService(db, clock))
    dispatcher.add_source(CheckinSource(schedules, deliver))
    first = await dispatcher.next_due()
    elapsed = time.perf_counter() - started
    grown = rss_mb() - before
    await dispatcher.shutdown()
    await db.close()
    return {"seconds": elapsed, "mb": grown, "found": float(first is not None)}


def _subprocess_json(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", *args], capture_output=True, text=True, check=True, timeout=300
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the burst, through the real bot -------------------------------------------------------
def _fill(rows: list[tuple[Any, ...]], guild_ids: list[int], tx: Tx) -> None:
    tx.executemany(INSERT, rows)
    # Greeted already: no 100 welcome DMs mid-burst.
    tx.executemany(
        "INSERT INTO guilds (guild_id, joined_at, greeted_at) VALUES (?, 0, 0)",
        [(g,) for g in guild_ids],
    )


async def _burst(tmp: Path, count: int, engine: str = "sqlite") -> dict[str, float]:
    """The burst on `engine`: a SQLite file in `tmp`, or a fresh PostgreSQL database."""
    clock = FakeClock(BURST_AT.replace(hour=18))
    errors = ErrorWatch()
    errors.install()
    target: Path | str = tmp / "burst.db" if engine == "sqlite" else engines.fresh_database("burst")
    try:
        async with started_fake(clock) as fake:
            channels: list[tuple[int, int]] = []
            guilds = []
            for number in range(-(-count // CHANNELS_PER_GUILD)):
                guild = fake.add_guild(f"Burst {number}", owner=f"owner{number}")
                guilds.append(guild)
                add_people(guild, f"m{number}-", 1, [])
                for index in range(min(CHANNELS_PER_GUILD, count - len(channels))):
                    channel = guild.add_text_channel(f"checkin-{index}")
                    channels.append((guild.id, channel.id))
            db = open_database(target)
            await db.connect()
            try:
                await db.migrate()
                due = int(BURST_AT.timestamp())
                rows = _schedule_rows(count, 0, due, 0, channels)
                await db.write(partial(_fill, rows, [g.id for g in guilds]))
            finally:
                await db.close()
            driver = hearth_driver(target, clock)
            async with running(fake, driver, errors, clock, guilds[0]) as h:
                fake.enforce_global_limit(50)
                clock.set(BURST_AT.replace(second=30))
                started = time.monotonic()
                await bot_of(h).dispatcher.run_due()
                elapsed = time.monotonic() - started
                fake.enforce_global_limit(None)
                per_channel = [
                    sum("Check-in" in m.content for m in fake.channel_messages(channel_id))
                    for _, channel_id in channels
                ]
                limited = len(fake.rate_limited)
    finally:
        errors.uninstall()
        if isinstance(target, str):
            engines.drop_database(target)
    return {
        "elapsed": elapsed,
        "delivered": sum(1 for n in per_channel if n >= 1),
        "duplicates": sum(n - 1 for n in per_channel if n > 1),
        "missing": sum(1 for n in per_channel if n == 0),
        "rate": sum(per_channel) / elapsed,
        "429s": limited,
    }


async def run(table: Table, quick: bool) -> None:
    count, burst = (10_000, 500) if quick else (100_000, 10_000)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        path = tmp / "schedules.db"
        await _migrated(path)
        now = int(time.time())
        await asyncio.to_thread(
            _bulk_insert, path, _schedule_rows(count, 10**15, now + 60, 7 * 86400, None)
        )
        ours = _subprocess_json("bench.scheduler", str(path))
        naive = _subprocess_json("bench.naive_scheduler", str(count), str(burst))
        section = "3 scheduler"
        table.add(
            section,
            f"start-up with {count:,} schedules (connect, migrate, rebuild)",
            f"{ours['seconds']:.2f} s",
            f"{naive['load_seconds']:.2f} s (naive: {count:,} cron jobs)",
            f"{ours['seconds'] / naive['load_seconds']:.3f}",
            "< 2 s",
            verdict(ours["seconds"] < 2 and ours["found"] == 1),
        )
        table.add(
            section,
            "start-up added memory",
            f"{ours['mb']:.1f} MiB",
            f"{naive['load_mb']:.1f} MiB",
            f"{ours['mb'] / max(naive['load_mb'], 0.1):.3f}",
            "< 60 MiB",
            verdict(ours["mb"] < 60),
        )
        result = await _burst(tmp, burst)
        server = engines.postgres()
        on_pg = await _burst(tmp, burst, "postgresql") if server.available else None
        ok = result["delivered"] == burst and not result["duplicates"] and not result["missing"]
        table.add(
            section,
            f"burst of {burst:,} due in one minute: delivered once / duplicated / dropped",
            f"{result['delivered']:.0f} / {result['duplicates']:.0f} / {result['missing']:.0f}",
            f"ran {naive['burst_ran']} / dropped {naive['burst_missed']} (naive, 1 s grace)",
            "",
            f"{burst:,} / 0 / 0",
            verdict(ok),
        )
        table.add(
            section,
            "burst delivery rate through the outbox at a global 50 requests/s limit",
            f"{result['rate']:.1f} msg/s ({result['elapsed']:.0f} s, {result['429s']:.0f} × 429)",
            "50/s (Discord's limit); 47/s (the pacer, before the outbox)",
            f"{result['rate'] / 47:.2f} of 47/s",
            "≥ 45/s",
            verdict(result["rate"] >= 45),
        )
        if on_pg is None:
            table.add(section, f"burst of {burst:,} on PostgreSQL", server.note)
            return
        ok = on_pg["delivered"] == burst and not on_pg["duplicates"] and not on_pg["missing"]
        table.add(
            section,
            f"burst of {burst:,} on PostgreSQL: delivered once / duplicated / dropped",
            f"{on_pg['delivered']:.0f} / {on_pg['duplicates']:.0f} / {on_pg['missing']:.0f}",
            f"{result['delivered']:.0f} / {result['duplicates']:.0f} / "
            f"{result['missing']:.0f} on SQLite",
            "",
            f"{burst:,} / 0 / 0",
            verdict(ok),
        )
        table.add(
            section,
            "burst delivery rate on PostgreSQL, same limit",
            f"{on_pg['rate']:.1f} msg/s ({on_pg['elapsed']:.0f} s, {on_pg['429s']:.0f} × 429)",
            f"{result['rate']:.1f} msg/s ({result['elapsed']:.0f} s) on SQLite",
            engines.ratio(on_pg["rate"], result["rate"]),
            "≥ 45/s",
            verdict(on_pg["rate"] >= 45),
        )


if __name__ == "__main__":
    sys.stdout.write(json.dumps(asyncio.run(_startup(Path(sys.argv[1])))) + "\n")
