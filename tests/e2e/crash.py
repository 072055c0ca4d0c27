"""A burst of check-in prompts, personal check-ins and shift reminders, sent by the bot running as
a real process (`python -m bot`) against a fake Discord in this process, so a test can kill it
however it likes and then count, per item, what Discord received.

Used by `tests/e2e/test_process_delivery.py` (small, in every run) and `bench/outbox.py` (20 seeds
of 1,000 items).
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakediscord import FakeDiscord
from tests.stores import new_database

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
START_TIMEOUT = 60.0
GROUPS_PER_CHANNEL = 20
LEASE_SECONDS = 2  # a killed process's claims come back this soon

_PROMPT = re.compile(r"— (crash-g\d+)\n")
_REMINDER = re.compile(r"you're on \*\*(crash-r\d+)\*\*")


@dataclass
class Burst:
    """The items, by the marker that identifies each in what Discord received."""

    guild_id: int
    channels: list[int] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)
    personal: dict[str, int] = field(default_factory=dict)  # marker → member id
    reminders: list[str] = field(default_factory=list)
    reminded: list[int] = field(default_factory=list)  # the supporters on those shifts

    @property
    def expected(self) -> set[str]:
        return {*self.prompts, *self.personal, *self.reminders}

    def received(self, fake: FakeDiscord) -> Counter[str]:
        """How many times Discord holds each item (anything unexpected counts under its text)."""
        seen: Counter[str] = Counter()
        for channel_id in self.channels:
            for message in fake.channel_messages(channel_id):
                found = _PROMPT.search(message.content)
                seen[found.group(1) if found else message.content] += 1
        for user_id in {*self.personal.values(), *self.reminded}:
            for message in fake.dm_messages(user_id):
                if "How are you today?" in message.content:
                    seen[f"p{user_id}"] += 1
                elif found := _REMINDER.search(message.content):
                    seen[found.group(1)] += 1
                else:
                    seen[message.content] += 1
        return seen


async def build_burst(fake: FakeDiscord, size: int, db_path: Path) -> Burst:
    """A server with `size` items due now: 40% group prompts, 30% personal check-ins, 30% shift
    reminders, written straight into a migrated database as the features would have."""
    guild = fake.add_guild("Crash Server", owner="olive")
    burst = Burst(guild_id=guild.id)
    groups = size * 2 // 5
    personal = size * 3 // 10
    reminders = size - groups - personal
    for index in range(-(-groups // GROUPS_PER_CHANNEL)):
        burst.channels.append(guild.add_text_channel(f"checkins-{index}").id)
    now = int(time.time())
    db = new_database(db_path)
    await db.connect()
    await db.migrate()
    await db.close()
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "INSERT INTO guilds (guild_id, joined_at, greeted_at) VALUES (?, ?, ?)",
            (guild.id, now, now),
        )
        schedule = (
            "INSERT INTO checkin_schedules (guild_id, kind, channel_id, user_id, prompt, days, "
            "local_time, zone, next_due_at, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?, 127, '00:00', 'UTC', ?, 1, ?)"
        )
        for index in range(groups):
            prompt = f"crash-g{index}"
            burst.prompts.append(prompt)
            channel = burst.channels[index // GROUPS_PER_CHANNEL]
            conn.execute(schedule, (guild.id, "group", channel, None, prompt, now - 1, now))
        for index in range(personal):
            member = guild.add_member(f"p{index}")
            burst.personal[f"p{member.id}"] = member.id
            conn.execute(schedule, (guild.id, "personal", None, member.id, "", now - 1, now))
        for index in range(reminders):
            member = guild.add_member(f"s{index}")
            burst.reminded.append(member.id)
            name = f"crash-r{index}"
            burst.reminders.append(name)
            rota = conn.execute(
                "INSERT INTO rotas (guild_id, name, name_key, requires_training, created_by, "
                "created_at) VALUES (?, ?, ?, 0, 1, ?)",
                (guild.id, name, name, now),
            ).lastrowid
            slot = conn.execute(
                "INSERT INTO rota_slots (guild_id, rota_id, starts_at, ends_at, created_by, "
                "created_at) VALUES (?, ?, ?, ?, 1, ?)",
                (guild.id, rota, now + 7200, now + 10800, now),
            ).lastrowid
            claim = conn.execute(
                "INSERT INTO rota_claims (guild_id, slot_id, user_id, claimed_at) "
                "VALUES (?, ?, ?, ?)",
                (guild.id, slot, member.id, now),
            ).lastrowid
            conn.execute(
                "INSERT INTO timers (guild_id, kind, ref, due_at, payload) VALUES (?, ?, ?, ?, ?)",
                (guild.id, "rota.reminder", f"claim:{claim}:1", now - 1,
                 '{"hours": 1, "next_hours": null}'),
            )  # fmt: skip
    return burst


def write_config(folder: Path, fake: FakeDiscord) -> None:
    (folder / "config.toml").write_text(
        f'[database]\npath = "hearth.db"\n[discord]\napi_base = "{fake.api_base}"\n'
        f'gateway_url = "{fake.gateway_url}"\n[delivery]\nlease_seconds = {LEASE_SECONDS}\n',
        encoding="utf-8",
    )


class BotProcess:
    """One `python -m bot` run, its log in a file (a pipe nobody reads would block it)."""

    def __init__(self, folder: Path, fake: FakeDiscord, number: int, env: dict[str, str]) -> None:
        self.folder = folder
        self.fake = fake
        self.log_path = folder / f"bot-{number}.log"
        self.env = env
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log_path.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot",
                cwd=self.folder, env={**ENV, "DISCORD_TOKEN": self.fake.token, **self.env},
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip

    @property
    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while "ready in 1 servers" not in self.log:
            assert self.process is not None
            if self.process.returncode is not None or time.monotonic() > deadline:
                raise AssertionError("the bot did not start:\n" + self.log)
            await asyncio.sleep(0.05)

    async def kill(self) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()

    async def terminate(self, limit: float) -> tuple[int, float]:
        """SIGTERM; the exit code and how long the stop took."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), limit)
        return code, time.monotonic() - started

    async def wait_exit(self, limit: float) -> int:
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), limit)


def unsent(db_path: Path) -> int:
    """Items not yet finished: outbox rows pending, plus what is not even claimed yet."""
    with sqlite3.connect(db_path, timeout=10) as conn:
        pending = conn.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()
        timers = conn.execute("SELECT COUNT(*) FROM timers WHERE kind = 'rota.reminder'").fetchone()
        due = conn.execute(
            "SELECT COUNT(*) FROM checkin_schedules WHERE next_due_at <= ? AND paused = 0",
            (int(time.time()),),
        ).fetchone()
    return int(pending[0]) + int(timers[0]) + int(due[0])


async def wait_delivered(db_path: Path, burst: Burst, fake: FakeDiscord, limit: float) -> None:
    deadline = time.monotonic() + limit
    while unsent(db_path) or set(burst.received(fake)) < burst.expected:
        if time.monotonic() > deadline:
            missing = burst.expected - set(burst.received(fake))
            raise AssertionError(f"{len(missing)} items never arrived, e.g. {sorted(missing)[:5]}")
        await asyncio.sleep(0.2)


@asynccontextmanager
async def crash_world(folder: Path, size: int) -> AsyncIterator[tuple[FakeDiscord, Burst]]:
    fake = FakeDiscord()
    await fake.start("127.0.0.1", 0)
    try:
        burst = await build_burst(fake, size, folder / "hearth.db")
        write_config(folder, fake)
        fake.enforce_global_limit(50)
        yield fake, burst
    finally:
        await fake.stop()


def delivered(fake: FakeDiscord, burst: Burst) -> int:
    return sum(burst.received(fake).values())


async def kill_mid_burst(
    folder: Path, fake: FakeDiscord, burst: Burst, *, seed: int | None, fault_after: int | None
) -> int:
    """Run the bot on the burst and kill it: with SIGKILL once a random share (by `seed`) has
    arrived, or by its own fault hook after the `fault_after`-th accepted send. Its exit code."""
    env = {} if fault_after is None else {"HEARTH_FAULT_KILL_AFTER_SEND": str(fault_after)}
    first = BotProcess(folder, fake, 1, env)
    await first.start()
    try:
        if fault_after is not None:
            return await first.wait_exit(START_TIMEOUT * 2)
        await first.wait_ready()
        total = len(burst.expected)
        target = random.Random(seed).randrange(1, max(2, total * 3 // 4))
        await fake.wait_for(lambda: delivered(fake, burst) >= target, START_TIMEOUT * 2)
    finally:
        await first.kill()
    assert first.process is not None and first.process.returncode is not None
    return first.process.returncode


async def resume(folder: Path, fake: FakeDiscord, burst: Burst, limit: float) -> BotProcess:
    """Start the bot again, wait until every item is finished, stop it with SIGTERM."""
    again = BotProcess(folder, fake, 2, {})
    await again.start()
    try:
        await wait_delivered(folder / "hearth.db", burst, fake, limit)
        code, _ = await again.terminate(30)
        assert code == 0, again.log
    finally:
        await again.kill()
    return again
