"""Hearth runs several shards in one process, against a fake that shards like Discord.

Each test builds its own bot (`HearthDriver.shard_count` / `shard_ids`) over servers spread
across shards with `fake.add_guild(..., shard=(i, n))`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.app import HearthBot
from bot.gateway_limits import SessionStartLimitReached
from bot.shards import ShardScope
from tests.fakediscord import FakeDiscord, FakeGuild, FakeMember
from tests.fakediscord.gateway import shard_of
from tests.harness import ErrorWatch, Harness, HearthDriver, bot_of

Sharded = Callable[[int | None], Harness]


@pytest.fixture
def sharded(fake: FakeDiscord, clock: Any, tmp_path: Path, error_watch: ErrorWatch) -> Sharded:
    """Builds the standard server and the real bot running `shard_count` shards (not started)."""

    def build(shard_count: int | None) -> Harness:
        driver = HearthDriver(tmp_path / "hearth.db", clock)
        driver.shard_count = shard_count
        return Harness.standard(fake, driver, error_watch, clock)

    return build


def server_on(fake: FakeDiscord, shard: int, count: int) -> tuple[FakeGuild, FakeMember]:
    """Another server, on shard `shard` of `count`, with #general and one member."""
    guild = fake.add_guild(f"Server on shard {shard}", shard=(shard, count))
    guild.add_text_channel("general")
    return guild, guild.add_member(f"member-{shard}")


def identify_window(monkeypatch: pytest.MonkeyPatch, fake: FakeDiscord, seconds: float) -> None:
    """Discord's 5 s between IDENTIFYs of one key, shortened alike for the bot and the fake."""
    monkeypatch.setattr(HearthBot, "identify_window", seconds)
    fake.gateway.identify_window = seconds


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.app"]


async def test_three_shards_in_one_process_answer_and_resume_alone(
    fake: FakeDiscord, sharded: Sharded, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.app")
    fake.gateway.max_concurrency = 3  # all three may IDENTIFY at once
    hearth = sharded(3)
    home = shard_of(hearth.guild.id, 3)
    people: dict[int, tuple[FakeGuild, FakeMember]] = {home: (hearth.guild, hearth.member)}
    for shard in {0, 1, 2} - {home}:
        people[shard] = server_on(fake, shard, 3)
    async with hearth:
        bot = bot_of(hearth)
        assert bot.shard_layout == ShardScope(3, frozenset({0, 1, 2}))
        assert fake.gateway.identify_count == 3 and fake.gateway.identify_refusals == 0
        assert {g.shard_id for g in bot.guilds} == {0, 1, 2}
        for shard, (guild, member) in sorted(people.items()):
            reply = await hearth.slash(member, guild.channel("general"), "about")
            assert reply.ephemeral and "not a crisis service" in reply.text
            (session,) = fake.gateway.shard_sessions(shard)
            assert session.events.count("INTERACTION_CREATE") == 1
        lines = logged(caplog)
        for shard in range(3):
            assert f"shard {shard} connected" in lines
            assert f"shard {shard} ready: 1 servers" in lines
        assert any(line.endswith("ready in 3 servers (shards 0-2 of 3)") for line in lines)

        kept = {i: fake.gateway.shard_sessions(i)[0].conn for i in (0, 2)}
        fake.drop_connection(shard=1)
        await hearth.wait_for(lambda: fake.gateway.resume_count == 1, what="shard 1's RESUME")
        guild, member = people[1]
        reply = await hearth.slash(member, guild.channel("general"), "about")
        assert "not a crisis service" in reply.text
        assert fake.gateway.identify_count == 3  # nobody IDENTIFYed again
        assert {i: fake.gateway.shard_sessions(i)[0].conn for i in (0, 2)} == kept
        lines = logged(caplog)
        assert "shard 1 disconnected" in lines and "shard 1 resumed" in lines
        assert not {"shard 0 disconnected", "shard 2 disconnected"} & set(lines)


async def test_a_server_on_a_dropped_shard_gets_what_it_missed(
    fake: FakeDiscord, sharded: Sharded
) -> None:
    fake.gateway.max_concurrency = 2
    hearth = sharded(2)
    away = 1 - shard_of(hearth.guild.id, 2)
    guild, _ = server_on(fake, away, 2)
    async with hearth:
        bot = bot_of(hearth)
        (session,) = fake.gateway.shard_sessions(away)
        fake.drop_connection(shard=away)
        await hearth.wait_for(lambda: session.conn is None, what="the drop")
        newcomer = guild.add_member("newcomer")  # while the shard is away
        await hearth.wait_for(lambda: session.conn is not None, what="the RESUME")
        await fake.flush()
        cached = bot.get_guild(guild.id)
        assert cached is not None
        await hearth.wait_for(lambda: cached.get_member(newcomer.id) is not None)


async def test_an_unsharded_bot_past_the_limit_is_closed_4011_and_the_sharded_one_connects(
    fake: FakeDiscord, sharded: Sharded, clock: Any, tmp_path: Path, error_watch: ErrorWatch
) -> None:
    fake.gateway.max_guilds_per_shard = 2  # Discord's 2,500, lowered for the test
    hearth = sharded(1)
    for shard in range(2):
        server_on(fake, shard, 2)  # three servers in all
    with pytest.raises(discord.ConnectionClosed) as closed:
        await hearth.start()
    assert closed.value.code == 4011
    assert [code for _, code in fake.gateway.closed_with] == [4011]

    fake.gateway.max_concurrency = 2
    again = Harness(fake, HearthDriver(tmp_path / "again.db", clock), error_watch)
    again.driver.shard_count = 2  # type: ignore[attr-defined]  # a HearthDriver
    again.guild = hearth.guild
    async with again:
        assert len(bot_of(again).guilds) == 3
        assert fake.gateway.identify_count == 2


async def test_without_shard_count_the_bot_follows_discords_recommendation(
    fake: FakeDiscord, sharded: Sharded
) -> None:
    fake.gateway.recommended_shards = 2
    fake.gateway.max_concurrency = 2
    async with sharded(None) as hearth:
        assert bot_of(hearth).shard_layout == ShardScope(2, frozenset({0, 1}))
        assert fake.request_count("GET", "/gateway/bot") == 1
        assert sorted(s.shard_id for s in fake.gateway.live_sessions) == [0, 1]


async def test_identifies_are_paced_by_max_concurrency(
    fake: FakeDiscord, sharded: Sharded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One IDENTIFY per key per window: the fake refuses (op 9) any faster, so no refusal means
    the bot waited. Both windows are shortened from Discord's 5 s to keep the test quick."""
    identify_window(monkeypatch, fake, 0.3)
    fake.gateway.max_concurrency = 2  # keys 0 and 1: shards 0 and 1 at once, 2 waits for 0
    async with sharded(3):
        assert fake.gateway.identify_count == 3 and fake.gateway.identify_refusals == 0


async def test_too_few_session_starts_left_refuses_before_connecting(
    fake: FakeDiscord, sharded: Sharded
) -> None:
    fake.gateway.session_start_remaining = 2
    fake.gateway.max_concurrency = 3
    hearth = sharded(3)
    with pytest.raises(SessionStartLimitReached, match=r"2 more gateway session starts.*needs 3"):
        await hearth.start()
    assert fake.gateway.identify_count == 0 and fake.gateway.token_resets == 0
    assert fake.gateway.session_start_remaining == 2 and not fake.gateway.connections


async def test_reconcile_only_judges_servers_on_this_process_shards(
    fake: FakeDiscord, sharded: Sharded
) -> None:
    fake.gateway.max_concurrency = 2
    hearth = sharded(2)
    mine = shard_of(hearth.guild.id, 2)
    theirs, _ = server_on(fake, 1 - mine, 2)
    gone, _ = server_on(fake, mine, 2)
    await hearth.start()
    registry = bot_of(hearth).guild_registry
    assert await registry.present_ids() >= {hearth.guild.id, theirs.id, gone.id}
    await hearth.stop()
    fake.remove_bot_from_guild(gone)  # while Hearth is offline
    fake.remove_bot_from_guild(theirs)  # as well; but another process would judge that one
    hearth.driver.shard_ids = [mine]  # type: ignore[attr-defined]  # a HearthDriver
    async with hearth:
        present = await bot_of(hearth).guild_registry.present_ids()
        assert hearth.guild.id in present and theirs.id in present
        assert gone.id not in present
        assert [g.id for g in bot_of(hearth).guilds] == [hearth.guild.id]


async def test_a_shard_whose_session_discord_forgot_identifies_again_alone_in_its_turn(
    fake: FakeDiscord, sharded: Sharded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Discord forgets a session (op 9 on RESUME): the shard IDENTIFYs again, no sooner than
    the window after its last one allows, so Discord does not refuse it; the other shard stays."""
    identify_window(monkeypatch, fake, 1.5)  # long enough to fall inside
    fake.gateway.max_concurrency = 2
    async with sharded(2) as hearth:
        fake.gateway.invalidate_sessions(shard=0)
        fake.drop_connection(shard=0)
        await hearth.wait_for(lambda: fake.gateway.identify_count == 3, what="a new IDENTIFY")
        assert fake.gateway.identify_refusals == 0 and fake.gateway.resume_count == 0
        assert sorted(s.shard_id for s in fake.gateway.live_sessions) == [0, 1]
        reply = await hearth.slash(hearth.member, hearth.channel, "about")
        assert "not a crisis service" in reply.text
