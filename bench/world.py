"""Building the fake Discord, the bots and paced traffic for the benchmarks, without pytest.

The harness classes are used directly (as the test fixtures do), so a benchmark drives exactly
the code paths the end-to-end tests prove correct. Interactions are injected through the fake's
own user actions and timed by the fake: from the moment it dispatched INTERACTION_CREATE to the
moment it accepted the bot's first callback (`FakeInteraction.acknowledged_at`).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import discord
from discord import app_commands

from bot.clock import FakeClock
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember
from tests.fakediscord.models import FakeInteraction
from tests.fakediscord.probe import BareDriver, ProbeBot
from tests.harness import ErrorWatch, Harness, HearthDriver

SETTLE_TIMEOUT = 30.0


@app_commands.command(description="Answers at once: the floor a discord.py bot can reach")
async def ping(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("pong", ephemeral=True)


class BareBot(ProbeBot):
    """The probe bot plus a trivial `/ping`, with Hearth's client settings (no start-up member
    chunking, no message cache), so the two differ only in what Hearth does per event."""

    def __init__(self, fake: FakeDiscord, intents: discord.Intents) -> None:
        super().__init__(fake, intents)
        self.tree.add_command(ping)
        self._connection._chunk_guilds = False
        self._connection.max_messages = None


class BareBotDriver(BareDriver):
    def build(self, fake: FakeDiscord) -> discord.Client:
        return BareBot(fake, self.intents)


def quiet_logs() -> None:
    """INFO logs of 10,000 sends would swamp the table; errors still reach the ErrorWatch."""
    logging.basicConfig(level=logging.WARNING)
    for name in ("bot", "cogs", "tests.fakediscord", "aiosqlite"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # discord.py warns about voice libraries and intents at every start; APScheduler about a
    # wake-up skipped while the benchmark itself runs the dispatcher. Neither is a finding.
    for name in ("discord", "apscheduler"):
        logging.getLogger(name).setLevel(logging.ERROR)


@asynccontextmanager
async def started_fake(clock: FakeClock | None = None) -> AsyncIterator[FakeDiscord]:
    fake = FakeDiscord(clock=clock)
    # The benchmarks start bots back to back, on one shard or several: Discord's one IDENTIFY
    # per 5 s per rate-limit key would only add waits to start-ups, which no figure here
    # measures. (16 keys is what Discord grants the largest bots; Hearth paces by it.)
    fake.gateway.identify_window = 0.0
    fake.gateway.max_concurrency = 16
    await fake.start(port=0)
    try:
        yield fake
    finally:
        await fake.stop()


@asynccontextmanager
async def running(
    fake: FakeDiscord,
    driver: Any,
    errors: ErrorWatch,
    clock: FakeClock | None = None,
    guild: FakeGuild | None = None,
) -> AsyncIterator[Harness]:
    """A started bot on `fake`; fails loudly if it logged an unexpected error meanwhile."""
    harness = Harness(fake, driver, errors)
    harness.clock = clock
    harness.start_timeout = 120.0
    if guild is not None:
        harness.guild = guild
    await harness.start()
    try:
        yield harness
    finally:
        await harness.stop()
    problems = errors.problems()
    if problems:
        raise RuntimeError("the benchmark run was not clean:\n" + "\n".join(problems[:5]))


def hearth_driver(target: Path | str, clock: FakeClock) -> HearthDriver:
    """Hearth on exactly `target`, a SQLite path or a PostgreSQL URL. The harness on its own
    would put it on a fresh PostgreSQL database whenever `HEARTH_TEST_DATABASE_URL` is set."""
    from bench.engines import server_env

    with server_env(None):
        driver = HearthDriver(Path(target) if isinstance(target, Path) else Path("unused"), clock)
    driver.db_target = target
    return driver


def add_people(guild: FakeGuild, prefix: str, count: int, roles: list[Any]) -> list[FakeMember]:
    """Members added before the bot connects, without a gateway event each (they arrive in
    interactions' member payloads, as on Discord when the member list is not chunked)."""
    people = []
    for index in range(count):
        user = guild.fake.add_user(f"{prefix}{index}")
        people.append(guild._add_member_quietly(user, roles))
    return people


def settled(fake: FakeDiscord, inter: FakeInteraction) -> bool:
    """Acknowledged, and a deferred 'thinking…' reply was replaced by the real one."""
    if not inter.acknowledged:
        return False
    if inter.response_type != 5 or inter.original_id is None:
        return True
    message = fake.message(inter.original_id)
    return message is None or not message.loading


async def paced(
    fake: FakeDiscord,
    makers: list[Callable[[], FakeInteraction]],
    rate: float,
    backlog: int | None = None,
) -> list[FakeInteraction]:
    """Dispatch one interaction every 1/rate s (open loop: never waiting for answers), then
    wait until every one is answered and settled.

    With `backlog`, dispatching stops early once more than that many sent are unanswered: a
    search for the highest rate a bot sustains has its answer by then, and going on would only
    queue interactions past Discord's 3 s deadline."""
    # Freeze the fake's heap (every message it has stored so far) out of garbage collection:
    # otherwise a full collection here, which grows with the fake's history, stalls dispatching
    # and shows up as the bot's latency. Discord is not a Python process pausing for its GC.
    gc.freeze()
    loop = asyncio.get_running_loop()
    start = loop.time()
    sent: list[FakeInteraction] = []
    oldest = 0  # the first sent that may still be unanswered
    for index, make in enumerate(makers):
        delay = start + index / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        sent.append(make())
        if backlog is not None:
            while oldest < len(sent) and sent[oldest].acknowledged:
                oldest += 1
            if len(sent) - oldest > backlog:
                break
    pending = list(sent)

    def done() -> bool:
        while pending and settled(fake, pending[-1]):
            pending.pop()
        return not pending or all(settled(fake, inter) for inter in pending)

    if not await fake.wait_for(done, SETTLE_TIMEOUT):
        raise RuntimeError(f"{sum(not settled(fake, i) for i in sent)} interactions unanswered")
    return sent


def latencies_ms(sent: list[FakeInteraction]) -> list[float]:
    return [
        (inter.acknowledged_at - inter.dispatched_at) * 1000
        for inter in sent
        if inter.acknowledged_at is not None
    ]


def throughput(sent: list[FakeInteraction]) -> float:
    """Interactions answered per second over the stream's span."""
    first = min(inter.dispatched_at for inter in sent)
    last = max(inter.acknowledged_at or first for inter in sent)
    return len(sent) / max(last - first, 1e-9)
