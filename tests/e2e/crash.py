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
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot.db import Database, Tx, open_database
from tests.fakediscord import FakeDiscord
from tests.pseudo_locale import given
from tests.stores import new_target

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
START_TIMEOUT = 60.0
GROUPS_PER_CHANNEL = 20
LEASE_SECONDS = 2  # a killed process's claims come back this soon

_PROMPT = re.compile(r"— (crash-g\d+)\n")
_REMINDER = re.compile(r"you're on \*\*(crash-r\d+)\*\*")


@dataclass
class Burst:
    """The items, by the marker that identifies each in what Discord received, and the database
    they were written to (a SQLite path or a PostgreSQL URL, as `tests.stores` gave it)."""

    guild_id: int
    target: str | Path
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


async def build_burst(
    fake: FakeDiscord, size: int, target: str | Path, *, shard: tuple[int, int] | None = None
) -> Burst:
    """A server with `size` items due now: 40% group prompts, 30% personal check-ins, 30% shift
    reminders, written straight into a migrated database as the features would have (several
    bursts may share one database: `shard` puts each server on a chosen shard)."""
    guild = fake.add_guild("Crash Server", owner="olive", shard=shard)
    burst = Burst(guild_id=guild.id, target=target)
    groups = size * 2 // 5
    personal = size * 3 // 10
    reminders = size - groups - personal
    for index in range(-(-groups // GROUPS_PER_CHANNEL)):
        burst.channels.append(guild.add_text_channel(f"checkins-{index}").id)
    for index in range(groups):
        burst.prompts.append(given(f"crash-g{index}"))
    for index in range(personal):
        member = guild.add_member(f"p{index}")
        burst.personal[f"p{member.id}"] = member.id
    for index in range(reminders):
        burst.reminded.append(guild.add_member(f"s{index}").id)
        burst.reminders.append(given(f"crash-r{index}"))
    now = int(time.time())
    schedule = (
        "INSERT INTO checkin_schedules (guild_id, kind, channel_id, user_id, prompt, days, "
        "local_time, zone, next_due_at, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, 127, '00:00', 'UTC', ?, 1, ?)"
    )

    def seed(tx: Tx) -> None:  # only SQL: on PostgreSQL a write unit may run more than once
        tx.execute(
            "INSERT INTO guilds (guild_id, joined_at, greeted_at) VALUES (?, ?, ?)",
            (guild.id, now, now),
        )
        for index, prompt in enumerate(burst.prompts):
            channel = burst.channels[index // GROUPS_PER_CHANNEL]
            tx.execute(schedule, (guild.id, "group", channel, None, prompt, now - 1, now))
        for member_id in burst.personal.values():
            tx.execute(schedule, (guild.id, "personal", None, member_id, "", now - 1, now))
        for name, member_id in zip(burst.reminders, burst.reminded, strict=True):
            rota = tx.insert(
                "INSERT INTO rotas (guild_id, name, name_key, requires_training, created_by, "
                "created_at) VALUES (?, ?, ?, 0, 1, ?)",
                (guild.id, name, name, now),
            )
            slot = tx.insert(
                "INSERT INTO rota_slots (guild_id, rota_id, starts_at, ends_at, created_by, "
                "created_at) VALUES (?, ?, ?, ?, 1, ?)",
                (guild.id, rota, now + 7200, now + 10800, now),
            )
            claim = tx.insert(
                "INSERT INTO rota_claims (guild_id, slot_id, user_id, claimed_at) "
                "VALUES (?, ?, ?, ?)",
                (guild.id, slot, member_id, now),
            )
            tx.execute(
                "INSERT INTO timers (guild_id, kind, ref, due_at, payload) VALUES (?, ?, ?, ?, ?)",
                (guild.id, "rota.reminder", f"claim:{claim}:1", now - 1,
                 '{"hours": 1, "next_hours": null}'),
            )  # fmt: skip

    db = open_database(target)
    await db.connect()
    try:
        await db.migrate()
        await db.write(seed)
    finally:
        await db.close()
    return burst


def toml_string(value: str) -> str:
    """`value` as a TOML basic string: quotes, backslashes and control characters escaped."""
    escaped = []
    for char in value:
        if char in '"\\':
            escaped.append("\\" + char)
        elif (char < " " and char != "\t") or char == "\x7f":
            escaped.append(f"\\u{ord(char):04x}")
        else:
            escaped.append(char)
    return '"' + "".join(escaped) + '"'


def database_config(folder: Path, target: str | Path) -> str:
    """The `[database]` section for `target`: `path` for a SQLite file (relative to `folder`,
    where the bot runs, when it lies inside it, as an operator writes it), else `url`."""
    if isinstance(target, Path):
        shown = target.relative_to(folder) if target.is_relative_to(folder) else target
        return f"[database]\npath = {toml_string(str(shown))}\n"
    return f"[database]\nurl = {toml_string(target)}\n"


def write_config(folder: Path, fake: FakeDiscord, target: str | Path) -> None:
    rest = (
        f"[discord]\napi_base = {toml_string(fake.api_base)}\n"
        f"gateway_url = {toml_string(fake.gateway_url)}\n"
        f"[delivery]\nlease_seconds = {LEASE_SECONDS}\n"
    )
    (folder / "config.toml").write_text(database_config(folder, target) + rest, encoding="utf-8")


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


def _unsent(tx: Tx) -> int:
    pending = tx.fetchval("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
    timers = tx.fetchval("SELECT COUNT(*) FROM timers WHERE kind = 'rota.reminder'")
    due = tx.fetchval(
        "SELECT COUNT(*) FROM checkin_schedules WHERE next_due_at <= ? AND paused = 0",
        (int(time.time()),),
    )
    return int(pending) + int(timers) + int(due)


async def unsent(db: Database) -> int:
    """Items not yet finished: outbox rows pending, plus what is not even claimed yet."""
    return await db.read(_unsent)


async def wait_delivered(burst: Burst, fake: FakeDiscord, limit: float) -> None:
    deadline = time.monotonic() + limit
    db = open_database(burst.target)
    await db.connect()
    try:
        while await unsent(db) or set(burst.received(fake)) < burst.expected:
            if time.monotonic() > deadline:
                missing = burst.expected - set(burst.received(fake))
                raise AssertionError(
                    f"{len(missing)} items never arrived, e.g. {sorted(missing)[:5]}"
                )
            await asyncio.sleep(0.2)
    finally:
        await db.close()


@asynccontextmanager
async def crash_world(folder: Path, size: int) -> AsyncIterator[tuple[FakeDiscord, Burst]]:
    fake = FakeDiscord()
    await fake.start("127.0.0.1", 0)
    try:
        target = new_target(folder / "hearth.db")
        burst = await build_burst(fake, size, target)
        write_config(folder, fake, target)
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
        await wait_delivered(burst, fake, limit)
        code, _ = await again.terminate(30)
        assert code == 0, again.log
    finally:
        await again.kill()
    return again
