"""`python -m bench [--quick] [--only SECTION ...]`: one markdown table, also in bench/latest.md.

Every figure is printed beside a baseline measured in the same run (a bare discord.py bot, the
naive one-job-per-schedule scheduler, …) because shared machines are noisy: the ratio travels
between machines far better than the absolute number.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from bench.common import Table
from bench.world import quiet_logs

SECTIONS = (
    "interactions", "contention", "scheduler", "store", "memory", "outbox", "capacity",
)  # fmt: skip
LATEST = Path(__file__).resolve().parent / "latest.md"


async def _run(table: Table, quick: bool, chosen: set[str]) -> None:
    # Imported per section, so one section's set-up cost never shows in another's figures.
    if chosen & {"interactions", "contention"}:
        from bench import interactions

        await interactions.run(table, quick, chosen)
    if "scheduler" in chosen:
        from bench import scheduler

        await scheduler.run(table, quick)
    if "store" in chosen:
        from bench import store

        await store.run(table, quick)
    if "memory" in chosen:
        from bench import memory

        await memory.run(table, quick)
    if "outbox" in chosen:
        from bench import outbox

        await outbox.run(table, quick)
    if "capacity" in chosen:
        from bench import capacity

        await capacity.run(table, quick)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (CI: under a minute)")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    args = parser.parse_args(argv)
    quiet_logs()
    chosen = set(args.only or SECTIONS)
    table = Table()
    load_before = _load()
    started = time.perf_counter()
    asyncio.run(_run(table, args.quick, chosen))
    elapsed = time.perf_counter() - started
    mode = "quick" if args.quick else "full"
    text = (
        f"{table.markdown()}\n\n_{mode} run of {', '.join(s for s in SECTIONS if s in chosen)} "
        f"in {elapsed:.0f} s on {_machine()}; load average {load_before} at the start, "
        f"{_load()} at the end_\n"
    )
    if not args.quick and chosen == set(SECTIONS):  # only a full run replaces the record
        LATEST.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0  # a missed target is a finding for the table, not a crash


def _load() -> str:
    """The 1-minute load average: on a shared machine, how much of it the run did not have."""
    import os

    return f"{os.getloadavg()[0]:.1f}"


def _machine() -> str:
    import os
    import platform

    return f"{os.cpu_count()} CPUs, Python {platform.python_version()}"


if __name__ == "__main__":
    sys.exit(main())
