"""Section 6: the outbox — resuming unsent items at start-up, and the crash test at full size.

Resuming runs in a fresh process (`python -m bench.outbox DB`), so its memory is its own: it
connects, migrates, and does what `HearthBot` does for the outbox at start-up — find the next
ready item (one indexed MIN) and claim the first batch — beside the same on an empty outbox.
Nothing about the unsent items is loaded into memory; they stay in the database until claimed.

The crash test is `tests/e2e/test_process_delivery.py` at the issue's size: the bot as a real
process, a burst mixing group prompts, personal check-ins and shift reminders, SIGKILLed at a
random moment and restarted, once per seed; then once killed between "Discord accepted" and
"marked sent" by the fault hook. Every item is counted in the fake.
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


if __name__ == "__main__":
    sys.stdout.write(json.dumps(asyncio.run(_resume(Path(sys.argv[1])))) + "\n")
