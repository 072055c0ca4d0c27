"""Several real `python -m bot` processes, each running its own range of shards, over one
PostgreSQL database, against one fake Discord in the test's process: Hearth as a deployment past
one process runs it (README, "Running shards as processes").

Used by `tests/e2e/test_fleet.py`. The fake routes each server's events and interactions to the
session of its shard, so a server is served by exactly one process; the database is shared.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot.db import open_database
from tests.e2e.crash import (
    ENV,
    START_TIMEOUT,
    BotProcess,
    Burst,
    database_config,
    toml_string,
    unsent,
)
from tests.fakediscord import FakeDiscord, FakeGuild

LEASE_SECONDS = 2  # a killed process's outbox claims come back this soon

_READY = re.compile(r"ready in \d+ servers \((shards? [\d, -]+ of \d+|all servers)\)")


def process_config(
    fake: FakeDiscord,
    target: str | Path,
    folder: Path,
    shard_count: int,
    shard_ids: Sequence[int],
    *,
    requests_per_second: int | None = None,
    delivery: str = "",
) -> str:
    """config.toml for one process of the fleet: its shards, the shared database."""
    discord = (
        f"[discord]\napi_base = {toml_string(fake.api_base)}\n"
        f"gateway_url = {toml_string(fake.gateway_url)}\n"
        f"shard_count = {shard_count}\nshard_ids = [{', '.join(map(str, shard_ids))}]\n"
    )
    if requests_per_second is not None:
        discord += f"global_rate_limit = {requests_per_second}\n"
    section = f"[delivery]\nlease_seconds = {LEASE_SECONDS}\n{delivery}"
    return database_config(folder, target) + discord + section


class FleetProcess(BotProcess):
    """One process of the fleet, in a folder of its own (its config and log)."""

    def __init__(self, folder: Path, fake: FakeDiscord, shard_ids: Sequence[int]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(folder, fake, 1, {})
        self.shard_ids = list(shard_ids)
        self.starts = 0

    async def start(self) -> None:
        self.starts += 1
        self.log_path = self.folder / f"bot-{self.starts}.log"
        await super().start()

    async def wait_ready(self) -> None:
        """Until this run logged that all its shards are ready (each run has its own log)."""
        deadline = time.monotonic() + START_TIMEOUT
        while not _READY.search(self.log):
            assert self.process is not None
            if self.process.returncode is not None or time.monotonic() > deadline:
                raise AssertionError(f"shards {self.shard_ids} did not start:\n{self.log}")
            await asyncio.sleep(0.05)


@dataclass
class Fleet:
    fake: FakeDiscord
    target: str | Path
    shard_count: int
    processes: list[FleetProcess] = field(default_factory=list)

    def process_of(self, guild: FakeGuild) -> FleetProcess:
        shard = (guild.id >> 22) % self.shard_count
        return next(p for p in self.processes if shard in p.shard_ids)

    async def start(self) -> None:
        await asyncio.gather(*(process.start() for process in self.processes))
        await asyncio.gather(*(process.wait_ready() for process in self.processes))

    async def stop(self) -> None:
        """SIGTERM each (a clean stop: exit 0, nothing in the log that shouldn't be)."""
        for process in self.processes:
            if process.process is not None and process.process.returncode is None:
                code, _ = await process.terminate(60)
                assert code == 0, process.log

    def assert_clean(self) -> None:
        for process in self.processes:
            assert "Traceback" not in process.log, process.log
            assert " ERROR " not in process.log, process.log


@asynccontextmanager
async def fleet(
    fake: FakeDiscord,
    target: str | Path,
    folder: Path,
    shard_count: int,
    ranges: Sequence[Sequence[int]],
    *,
    requests_per_second: int | None = None,
    delivery: str = "",
) -> AsyncIterator[Fleet]:
    """The processes (one per shard range) configured, not yet started; all killed at the end
    whatever happened."""
    fake.gateway.max_concurrency = shard_count  # a big bot's: every shard may IDENTIFY at once
    crew = Fleet(fake, target, shard_count)
    for number, shard_ids in enumerate(ranges, 1):
        process = FleetProcess(folder / f"p{number}", fake, shard_ids)
        config = process_config(
            fake,
            target,
            process.folder,
            shard_count,
            shard_ids,
            requests_per_second=requests_per_second,
            delivery=delivery,
        )
        (process.folder / "config.toml").write_text(config, encoding="utf-8")
        crew.processes.append(process)
    try:
        yield crew
    finally:
        for process in crew.processes:
            if process.process is not None:
                await process.kill()


async def wait_all_sent(
    fake: FakeDiscord, target: str | Path, bursts: Sequence[Burst], limit: float
) -> None:
    """Until nothing is left to send and Discord holds every item of every burst."""
    db = open_database(target)
    await db.connect()
    try:

        async def done() -> bool:
            if await unsent(db):
                return False
            return all(set(burst.received(fake)) >= burst.expected for burst in bursts)

        deadline = time.monotonic() + limit
        while not await done():
            assert time.monotonic() < deadline, f"{await unsent(db)} items were never sent"
            await asyncio.sleep(0.2)
    finally:
        await db.close()


async def status(folder: Path) -> tuple[int, str]:
    """`python -m bot status` run with the config in `folder`: its exit code and output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "status",
        cwd=folder, env=ENV, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), START_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def wait_healthy(folder: Path) -> str:
    """Until `python -m bot status` says every shard is ready (each process marks its lease
    just after it logs that it is ready); its report."""
    deadline = time.monotonic() + 10
    while True:
        code, report = await status(folder)
        if code == 0 or time.monotonic() > deadline:
            assert code == 0, report
            return report
        await asyncio.sleep(0.2)
