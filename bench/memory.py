"""Section 5: resident memory of the bot serving many servers, beside a bare discord.py bot.

The fake (with its 200,000 members) runs in this process; each bot runs in a child process
(`python -m bench.memory hearth|bare API GATEWAY TOKEN DB`) that reports its own RSS once ready,
so neither the fake's memory nor the other bot's is counted.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import engines
from bench.common import Table, rss_mb, verdict
from bench.world import add_people, started_fake
from bot.engines.sqlite import SqliteDatabase

MEMBERS = 200


async def _child(kind: str, api: str, gateway: str, token: str, db: str) -> dict[str, float]:
    """Start one bot against the fake, wait until it is ready, report its RSS."""
    import discord  # noqa: F401  (discord.py and the harness load before the baseline reading)

    import tests.harness  # noqa: F401
    from bench.botproc import build_bot
    from bot.clock import SystemClock

    before = rss_mb()
    bot, ready = build_bot(kind, api, gateway, db, SystemClock())
    task = asyncio.create_task(bot.start(token))
    await asyncio.wait_for(ready(), 300)
    await asyncio.sleep(1)  # let start-up work (greetings already recorded) settle
    after = rss_mb()
    guilds = len(bot.guilds)
    started = time.perf_counter()
    gc.collect()  # what the next full collection would stall every interaction for
    pause = (time.perf_counter() - started) * 1000
    await bot.close()
    await task
    shards = getattr(bot, "shard_count", None) or 1  # Hearth: Discord's recommendation
    return {"before": before, "after": after, "guilds": guilds, "gc_ms": pause, "shards": shards}


async def _measure(kind: str, fake: Any, db: Path) -> dict[str, float]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.memory", kind, fake.api_base, fake.gateway_url, fake.token,
        str(db), stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"the {kind} bot failed to start (exit {process.returncode})")
    figures: dict[str, float] = json.loads(out.decode().strip().splitlines()[-1])
    return figures


def _add_servers(fake: Any, path: Path, first: int, count: int) -> None:
    """`count` more servers × `MEMBERS`, already greeted (no welcome DMs at start-up)."""
    guilds = []
    for number in range(first, first + count):
        guild = fake.add_guild(f"Server {number}", owner=f"owner{number}")
        for channel in ("general", "alerts", "log"):
            guild.add_text_channel(channel)
        add_people(guild, f"s{number}-", MEMBERS - 2, [])
        guilds.append(guild)
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO guilds (guild_id, joined_at, greeted_at) VALUES (?, 0, 0)",
            [(g.id,) for g in guilds],
        )


async def run(table: Table, quick: bool) -> None:
    """Both bots serving `servers`, then twice as many: the rows at `servers`, and the growth
    per 1,000 servers from the difference (start-up's fixed cost, the cogs, cancels out)."""
    servers = 100 if quick else 1000
    # On SQLite whatever the environment says: with HEARTH_TEST_DATABASE_URL set, the child
    # would otherwise put Hearth on a fresh PostgreSQL database (tests.stores), with neither
    # the greeted servers below nor SQLite's memory.
    with engines.server_env(None), tempfile.TemporaryDirectory() as name:
        path = Path(name) / "memory.db"
        db = SqliteDatabase(path)
        await db.connect()
        await db.migrate()
        await db.close()
        async with started_fake() as fake:
            fake.notify = lambda: None  # type: ignore[method-assign]  # nobody waits here
            _add_servers(fake, path, 0, servers)
            bare = await _measure("bare", fake, path)
            ours = await _measure("hearth", fake, path)
            _add_servers(fake, path, servers, servers)
            bare2 = await _measure("bare", fake, path)
            ours2 = await _measure("hearth", fake, path)
    section = "5 memory"
    per = (ours["after"] - ours["before"]) / servers * 1024
    bare_per = (bare["after"] - bare["before"]) / servers * 1024
    table.add(
        section,
        f"RSS serving {servers:,} servers × {MEMBERS} members (ready, {ours['guilds']:.0f} seen)",
        f"{ours['after']:.0f} MiB",
        f"{bare['after']:.0f} MiB (bare discord.py)",
        f"{ours['after'] / bare['after']:.2f}",
        "reported",
        verdict(ours["guilds"] == servers),
    )
    table.add(
        section,
        "growth from start to ready ÷ servers (includes loading the cogs)",
        f"{per:.0f} KiB",
        f"{bare_per:.0f} KiB",
        f"{per / max(bare_per, 1):.2f}",
    )
    ours_k, bare_k = _per_thousand(ours, ours2, servers), _per_thousand(bare, bare2, servers)
    table.add(
        section,
        f"RSS per 1,000 servers × {MEMBERS} members, one process (growth start → ready with "
        f"{2 * servers:,} servers minus with {servers:,}, per 1,000; {ours2['guilds']:.0f} seen; "
        f"Hearth's shards: {ours['shards']:.0f}, then {ours2['shards']:.0f}, as Discord recommends"
        + (")" if not quick else "; quick: within RSS noise)"),
        f"{ours_k:.1f} MiB",
        f"{bare_k:.1f} MiB (bare discord.py)",
        f"{ours_k / bare_k:.2f}" if bare_k > 0 else "",
        "reported",
        verdict(ours2["guilds"] == 2 * servers),
    )
    table.add(
        section,
        "a full garbage collection once ready (every interaction waits for it)",
        f"{ours['gc_ms']:.1f} ms",
        f"{bare['gc_ms']:.1f} ms (bare discord.py)",
        f"{ours['gc_ms'] / max(bare['gc_ms'], 1e-3):.2f}",
        "reported",
    )


def _per_thousand(small: dict[str, float], large: dict[str, float], servers: int) -> float:
    """MiB per 1,000 servers: growth to ready with `2 × servers` minus with `servers`."""
    grown = (large["after"] - large["before"]) - (small["after"] - small["before"])
    return grown / servers * 1000


if __name__ == "__main__":
    from bench.world import quiet_logs

    quiet_logs()
    sys.stdout.write(json.dumps(asyncio.run(_child(*sys.argv[1:6]))) + "\n")
