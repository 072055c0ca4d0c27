"""Section 6: the outbox — resuming unsent items at start-up, and the crash test at full size.

Resuming runs in a fresh process (`python -m bench.outbox DB`), so its memory is its own: it
connects, migrates, and does what `HearthBot` does for the outbox at start-up — find the next
ready item (one indexed MIN) and claim the first batch — beside the same on an empty outbox.
Nothing about the unsent items is loaded into memory; they stay in the database until claimed.

The crash test is `tests/e2e/test_process_delivery.py` at the issue's size: the bot as a real
process, a burst mixing group prompts, personal check-ins and shift reminders, SIGKILLed at a
random moment and restarted, once per seed; then once killed between "Discord accepted" and
"marked sent" by the fault hook. Every item is counted in the fake.

The shared rate budget (PostgreSQL only): two "processes" (two stores, two discord.py clients,
two pacers) burst together against the fake's enforced 50/s; the busiest second the fake saw,
its 429s, the rate, and what a round trip to the budget cost. Beside it, the same two pacing
alone (limit not enforced, or discord.py would give up on the 429s).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import Table, rss_mb, verdict
from bench.scheduler import _migrated, _subprocess_json
from bot.engines.sqlite import SqliteDatabase


def _pending_rows(path: Path, count: int) -> None:
    now = int(time.time())
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO outbox (guild_id, kind, user_id, payload, created_at, due_at, ready_at) "
            "VALUES (?, 'dm', ?, '{\"content\": \"Reminder\"}', ?, ?, ?)",
            [(1 + i % 100, 10_000 + i, now - 60, now - 60, now - 60) for i in range(count)],
        )


async def _resume(path: Path) -> dict[str, Any]:
    from bot.services.outbox import OutboxService

    before = rss_mb()
    started = time.perf_counter()
    db = SqliteDatabase(path)
    await db.connect()
    await db.migrate()
    outbox = OutboxService(db)
    due = await outbox.next_due()
    batch = await outbox.claim("bench", datetime.now(UTC))
    elapsed = time.perf_counter() - started
    grown = rss_mb() - before
    await db.close()
    return {"seconds": elapsed, "mb": grown, "claimed": len(batch), "found": due is not None}


async def _crash_runs(seeds: int, items: int, fault: bool) -> dict[str, float]:
    from tests.e2e.crash import crash_world, kill_mid_burst, resume

    lost = doubled = 0
    started = time.monotonic()
    for seed in [*range(seeds), *([None] if fault else [])]:  # None: the fault hook's run
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            async with crash_world(folder, items) as (fake, burst):
                after = items // 3 if seed is None else None
                await kill_mid_burst(folder, fake, burst, seed=seed, fault_after=after)
                await resume(folder, fake, burst, 600)
                received = burst.received(fake)
                lost += len(burst.expected - set(received))
                doubled += sum(n - 1 for n in received.values() if n > 1)
    return {"runs": float(seeds + int(fault)), "lost": float(lost), "doubled": float(doubled),
            "seconds": time.monotonic() - started}  # fmt: skip


async def run(table: Table, quick: bool) -> None:
    unsent = 1_000 if quick else 10_000
    seeds, items = (1, 60) if quick else (20, 1_000)
    section = "6 outbox"
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        full, empty = tmp / "unsent.db", tmp / "empty.db"
        await _migrated(full)
        await _migrated(empty)
        await asyncio.to_thread(_pending_rows, full, unsent)
        ours = _subprocess_json("bench.outbox", str(full))
        base = _subprocess_json("bench.outbox", str(empty))
    table.add(
        section,
        f"start-up resuming {unsent:,} unsent items (connect, migrate, find, claim a batch)",
        f"{ours['seconds']:.3f} s",
        f"{base['seconds']:.3f} s (empty outbox)",
        f"{ours['seconds'] / max(base['seconds'], 1e-6):.2f}",
        "< 1 s",
        verdict(ours["seconds"] < 1 and ours["claimed"] > 0),
    )
    table.add(
        section,
        f"added memory with {unsent:,} unsent items at start-up",
        f"{ours['mb'] - base['mb']:.1f} MiB",
        f"{base['mb']:.1f} MiB (empty outbox)",
        "",
        "< 5 MiB",
        verdict(ours["mb"] - base["mb"] < 5),
    )
    crash = await _crash_runs(seeds, items, fault=not quick)
    runs = f"{seeds} seeds" + ("" if quick else " + 1 kill after accept")
    table.add(
        section,
        f"SIGKILL at a random moment × {runs}, {items:,} items each: lost / duplicated",
        f"{crash['lost']:.0f} / {crash['doubled']:.0f} ({crash['seconds']:.0f} s)",
        "",
        "",
        "0 / 0",
        verdict(crash["lost"] == 0 and crash["doubled"] == 0),
    )
    await _shared_budget_row(table, section, 100 if quick else 300)


async def _shared_burst(shared: bool, each: int, url: str) -> dict[str, float]:
    """Two "processes" (two stores, two discord.py clients, two pacers) post `each` messages
    apiece at once to the fake, its global limit of 50/s enforced."""
    from discord.http import HTTPClient, Route

    from bot.clock import FakeClock
    from bot.db import open_database
    from bot.pacing import RequestPacer, SharedPacer
    from bot.services.rate_budget import RateBudget
    from tests.fakediscord import FakeDiscord

    fake = FakeDiscord(clock=FakeClock())
    await fake.start()
    base, Route.BASE = Route.BASE, fake.api_base
    stores = [open_database(url, pool_size=2) for _ in range(2)]
    https: list[HTTPClient] = []
    try:
        for store in stores:
            await store.connect()
        await stores[0].migrate()
        pacers = [SharedPacer(RateBudget(db)) if shared else RequestPacer() for db in stores]
        for pacer in pacers:
            http = HTTPClient(asyncio.get_running_loop())
            pacer.install(http)
            await http.static_login(fake.token)
            https.append(http)
        channel = fake.add_guild("Budget").add_text_channel("general")
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id)
        fake.enforce_global_limit(50 if shared else None)  # alone, discord.py would give up
        fake.ratelimits.reset_peaks()
        started = time.monotonic()
        await asyncio.gather(
            *(http.request(route, json={"content": "x"}) for http in https for _ in range(each))
        )
        elapsed = time.monotonic() - started
        stats = [p.stats for p in pacers if isinstance(p, SharedPacer)]
        trips = sum(s.round_trips for s in stats)
        return {
            "rate": 2 * each / elapsed,
            "peak": float(fake.peak_requests_per_second()),
            "429s": float(len(fake.rate_limited)),
            "rtt_ms": 1000 * sum(s.round_trip_seconds for s in stats) / max(trips, 1),
            "per_trip": sum(s.slots for s in stats) / max(trips, 1),
        }
    finally:
        for http in https:
            await http.close()
        for store in stores:
            await store.close()
        Route.BASE = base
        await fake.stop()


async def _shared_budget_row(table: Table, section: str, each: int) -> None:
    from bench import engines

    server = engines.postgres()
    if not server.available:
        table.add(section, "2 processes' pacers sharing one budget on PostgreSQL", server.note)
        return
    results = []
    for shared in (True, False):
        url = engines.fresh_database("budget")
        try:
            results.append(await _shared_burst(shared, each, url))
        finally:
            engines.drop_database(url)
    ours, alone = results
    table.add(
        section,
        f"2 processes' pacers bursting {2 * each:,} requests over one PostgreSQL budget: "
        "busiest second / 429s / rate (round trip, slots per trip)",
        f"{ours['peak']:.0f} / {ours['429s']:.0f} / {ours['rate']:.1f} msg/s "
        f"({ours['rtt_ms']:.1f} ms, {ours['per_trip']:.1f})",
        f"{alone['peak']:.0f} / - / {alone['rate']:.1f} msg/s (each pacing alone; not enforced)",
        "",
        "≤ 50 / 0",
        verdict(ours["peak"] <= 50 and ours["429s"] == 0),
    )


if __name__ == "__main__":
    sys.stdout.write(json.dumps(asyncio.run(_resume(Path(sys.argv[1])))) + "\n")
