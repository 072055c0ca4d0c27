"""Hearth as several real processes, each running a range of shards, over one PostgreSQL database.

- A race for the last place, run at once in servers on every shard (so in every process): one
  winner a place, everyone else told why, on a database all the processes write.
- A burst of due items spread over servers on every shard: each delivered exactly once, the
  processes together under the bot's one global rate limit, never refused with a 429.
- One process killed with SIGKILL mid-burst: the others carry on (their servers' items arrive,
  their members are answered), its servers' items wait, and when it restarts they arrive too,
  nothing lost or doubled.

Several processes need PostgreSQL (SQLite serves one process: a sharded process is refused on
it, see tests/unit/test_config_shards.py), so these skip on the SQLite run of the suite.
`HEARTH_FLEET_ITEMS` sizes the burst (10,000 by default).
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db import open_database
from tests.e2e.crash import Burst, build_burst, delivered
from tests.e2e.fleet import fleet, wait_all_sent, wait_healthy
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember
from tests.fakediscord.models import FakeInteraction
from tests.fakediscord.views import Reply
from tests.stores import new_target, on_postgres

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="several processes need PostgreSQL (SQLite serves one)"
)

SHARDS = 4
TWO_PROCESSES = [[0, 1], [2, 3]]
RACERS = 100
ITEMS = int(os.environ.get("HEARTH_FLEET_ITEMS", "10000"))
# Discord raises the global limit of a big bot on request; the burst test runs at such a limit
# (configured for the bot, enforced by the fake) so 10,000 items take seconds, not minutes.
GRANTED_PER_SECOND = 800
DELIVER_TIMEOUT = 600.0


async def answered(fake: FakeDiscord, inter: FakeInteraction) -> Reply:
    """What the person saw: the bot must acknowledge within Discord's 3 seconds."""
    assert await fake.wait_for(lambda: inter.acknowledged, 3.0), f"{inter.name}: no answer in 3 s"
    reply = Reply(fake, inter)
    if inter.response_type == 5:  # deferred: wait for the real reply to replace "thinking…"
        assert await fake.wait_for(lambda: not reply.loading, 10.0)
    return reply


async def slash(
    fake: FakeDiscord, person: FakeMember, guild: FakeGuild, path: str, **options: object
) -> Reply:
    return await answered(fake, fake.actions.slash(person, guild.channel("general"), path, options))


def servers_on_every_shard(fake: FakeDiscord) -> list[FakeGuild]:
    servers = []
    for shard in range(SHARDS):
        guild = fake.add_guild(f"Peer space {shard}", shard=(shard, SHARDS))
        guild.add_text_channel("general")
        servers.append(guild)
    return servers


@pytest.fixture
async def live() -> AsyncIterator[FakeDiscord]:
    """A fake on the real clock (the bots are real processes), with nothing in it yet."""
    started = FakeDiscord()
    await started.start("127.0.0.1", 0)
    try:
        yield started
    finally:
        await started.stop()


async def test_a_race_for_the_last_place_on_every_shard_has_one_winner_each(
    live: FakeDiscord, tmp_path: Path
) -> None:
    fake = live
    servers = servers_on_every_shard(fake)
    racers = {
        guild.id: [guild.add_member(f"racer-{guild.id}-{n}") for n in range(RACERS // SHARDS)]
        for guild in servers
    }
    target = new_target(tmp_path / "hearth.db")
    async with fleet(fake, target, tmp_path, SHARDS, TWO_PROCESSES) as crew:
        await crew.start()
        report = await wait_healthy(crew.processes[0].folder)  # any process's config will do
        assert "healthy: every shard is ready" in report
        assert "shards 0-1 of 4: ready since" in report and "shards 2-3 of 4: ready since" in report
        for guild in servers:  # each owner, answered by the process of their server's shard
            made = await slash(fake, guild.owner, guild, "group create", name="Last place",
                               description="One place left", capacity=1)  # fmt: skip
            assert "Created" in made.content, made.content

        everyone = [(guild, person) for guild in servers for person in racers[guild.id]]
        sent = [
            fake.actions.slash(
                person, guild.channel("general"), "group join", {"name": "Last place"}
            )
            for guild, person in everyone
        ]  # fmt: skip: all dispatched before any answer, to every process at once
        replies = await asyncio.gather(*(answered(fake, inter) for inter in sent))

        for guild in servers:
            texts = [r.content for (g, _), r in zip(everyone, replies, strict=True) if g is guild]
            assert sum("You're in" in text for text in texts) == 1, texts
            assert sum("is full right now" in text for text in texts) == len(texts) - 1
            assert all(r.ephemeral for r in replies)
        members, waiting = await _places(target, [guild.id for guild in servers])
        assert members == dict.fromkeys((guild.id for guild in servers), 1)
        assert waiting == dict.fromkeys((guild.id for guild in servers), RACERS // SHARDS - 1)
        await crew.stop()
        crew.assert_clean()


async def _places(
    target: str | Path, guild_ids: list[int]
) -> tuple[dict[int, int], dict[int, int]]:
    """Members and people waiting, per server, as stored."""
    db = open_database(target)
    await db.connect()
    try:
        counts = []
        for table in ("group_members", "group_waitlist"):
            rows = await db.fetchall(
                f"SELECT g.guild_id AS guild_id, COUNT(*) AS n FROM {table} t "
                "JOIN groups g ON g.id = t.group_id GROUP BY g.guild_id"
            )
            counts.append({int(row["guild_id"]): int(row["n"]) for row in rows})
    finally:
        await db.close()
    return counts[0], counts[1]


async def _bursts(fake: FakeDiscord, target: str | Path, total: int) -> list[Burst]:
    """`total` items due now, split evenly over one server on each shard."""
    return [
        await build_burst(fake, total // SHARDS, target, shard=(shard, SHARDS))
        for shard in range(SHARDS)
    ]


def _assert_each_once(fake: FakeDiscord, bursts: list[Burst]) -> None:
    for burst in bursts:
        received = burst.received(fake)
        lost = burst.expected - set(received)
        doubled = {item: n for item, n in received.items() if n > 1}
        assert not lost, f"lost: {sorted(lost)[:10]}"
        assert not doubled, f"duplicated: {dict(list(doubled.items())[:10])}"
        assert set(received) == burst.expected, sorted(set(received) - burst.expected)[:5]


async def test_a_burst_over_every_shard_is_delivered_once_under_one_global_limit(
    live: FakeDiscord, tmp_path: Path
) -> None:
    fake = live
    target = new_target(tmp_path / "hearth.db")
    bursts = await _bursts(fake, target, ITEMS)
    fake.enforce_global_limit(GRANTED_PER_SECOND)
    ranges = [[0], [1], [2, 3]]  # three processes, unevenly loaded
    async with fleet(
        fake, target, tmp_path, SHARDS, ranges, requests_per_second=GRANTED_PER_SECOND
    ) as crew:
        await crew.start()
        await wait_all_sent(fake, target, bursts, DELIVER_TIMEOUT)
        await crew.stop()
        crew.assert_clean()
    _assert_each_once(fake, bursts)
    assert fake.rate_limited == []
    assert fake.peak_requests_per_second() <= GRANTED_PER_SECOND
    # Every process did its own servers' share: none was idle, none did another's.
    for process, burst_shards in zip(crew.processes, ranges, strict=True):
        assert "ready in" in process.log and process.shard_ids == burst_shards


async def test_a_killed_process_leaves_the_others_running_and_loses_nothing(
    live: FakeDiscord, tmp_path: Path
) -> None:
    fake = live
    target = new_target(tmp_path / "hearth.db")
    bursts = await _bursts(fake, target, min(ITEMS, 2000))
    fake.enforce_global_limit(GRANTED_PER_SECOND)
    async with fleet(
        fake, target, tmp_path, SHARDS, TWO_PROCESSES, requests_per_second=GRANTED_PER_SECOND
    ) as crew:
        victim = crew.processes[1]
        theirs = [b for b in bursts if crew.process_of(fake.guilds[b.guild_id]) is victim]
        ours = [b for b in bursts if b not in theirs]
        await crew.start()
        await fake.wait_for(lambda: sum(delivered(fake, b) for b in theirs) >= 50, 60)
        await victim.kill()  # SIGKILL, mid-burst

        # The survivor finishes its own servers' items and still answers its members.
        await fake.wait_for(
            lambda: all(set(b.received(fake)) >= b.expected for b in ours), DELIVER_TIMEOUT
        )
        guild = fake.guilds[ours[0].guild_id]
        guild.add_text_channel("general")
        about = await slash(fake, guild.owner, guild, "about")
        assert "Hearth" in about.content
        stalled = Counter({b.guild_id: len(b.expected - set(b.received(fake))) for b in theirs})
        assert sum(stalled.values()) > 0  # the killed process's servers wait for it

        await victim.start()  # its shards come back: the lease of a dead pid is taken at once
        await victim.wait_ready()
        assert "shards 2-3 of 4: ready since" in await wait_healthy(victim.folder)
        await wait_all_sent(fake, target, bursts, DELIVER_TIMEOUT)
        await crew.stop()
        crew.assert_clean()
    _assert_each_once(fake, bursts)
    assert fake.rate_limited == []
