"""The bot's shard scope, given once (`HearthBot.shard_scope`), reaches what it claims: the outbox
of another shard's server is left for that shard's process, and a server on another shard is not
taken for gone when this process starts; the bot holds its shards' lease until it stops."""

from __future__ import annotations

import discord
import pytest

from bot import i18n
from bot.outbox_kinds import message_specs
from bot.services.mydata import MyDataService
from bot.services.shard_leases import (
    LEASE,
    RENEW_EVERY,
    ProcessIdentity,
    ShardLeases,
    ShardsTaken,
)
from bot.shards import ShardScope, shard_of
from cogs.mydata import AFTER_DELETE, follow_up
from tests.harness import Harness, bot_of
from tests.helpers import create_group


@pytest.fixture(autouse=True)
async def greeted(hearth: Harness) -> None:
    """The owner's greeting goes first, so the outbox below holds only the test's rows."""
    await bot_of(hearth).dispatcher.run_due()
    await hearth.wait_for(lambda: len(hearth.dms(hearth.owner)) == 1, what="the greeting")


def scopes(guild_id: int) -> tuple[ShardScope, ShardScope]:
    """(the scope of the test server's shard, the other one) among two shards."""
    mine = shard_of(guild_id, 2)
    return ShardScope(2, frozenset({mine})), ShardScope(2, frozenset({1 - mine}))


async def test_outbox_rows_wait_for_the_process_of_their_servers_shard(hearth: Harness) -> None:
    bot = bot_of(hearth)
    ours, theirs = scopes(hearth.guild.id)
    assert bot.shard_scope == ShardScope.everything()
    bot.shard_scope = theirs
    assert bot.dispatcher.scope == theirs
    now = hearth.clock.now()
    specs = message_specs(hearth.guild.id, "dm", now, "Your place is confirmed.",
                          user_id=hearth.member.id)  # fmt: skip
    await bot.outbox_store.enqueue(specs, now)
    assert await bot.dispatcher.next_due() is None  # not ours: no wake-up, no spin
    await bot.dispatcher.run_due()
    await hearth.fake.flush()
    assert hearth.dms(hearth.member) == []
    assert (await bot.outbox_store.counts(hearth.guild.id)).get("pending") == 1
    bot.shard_scope = ours  # the process of its shard sends it
    await bot.dispatcher.run_due()
    await hearth.wait_for(lambda: len(hearth.dms(hearth.member)) == 1, what="the DM")


async def test_a_server_on_another_shard_is_not_taken_for_gone(hearth: Harness) -> None:
    bot = bot_of(hearth)
    ours, theirs = scopes(hearth.guild.id)
    elsewhere = next(
        g for g in range(hearth.guild.id + 1, hearth.guild.id + (1 << 24), 1 << 22)
        if theirs.owns(g)
    )  # fmt: skip
    await bot.guild_registry.joined(elsewhere)
    bot.shard_scope = ours
    await bot.reconcile_guilds()
    assert elsewhere in await bot.guild_registry.present_ids()
    bot.shard_scope = ShardScope.everything()  # one process: it really is gone
    await bot.reconcile_guilds()
    assert elsewhere not in await bot.guild_registry.present_ids()


async def test_the_bot_holds_its_shards_until_it_stops_and_stops_if_they_are_taken(
    hearth: Harness,
) -> None:
    """`claim_shards` (what `python -m bot run` calls before connecting) takes the lease under
    the outbox's owner name; if another process takes the shards over (its lease ran out while
    it was frozen), the bot asks to be stopped rather than run them twice."""
    bot = bot_of(hearth)
    await bot.claim_shards()
    [lease] = await bot.shard_leases.live()
    assert (lease.shard_count, lease.shard_id, lease.holder) == (1, 0, bot.outbox.owner)
    other = ShardLeases(bot.db, hearth.clock, ProcessIdentity("other:1:ab", None, 0))
    with pytest.raises(ShardsTaken, match="Shard 0 \\(of 1\\) is already run"):
        await other.claim(ShardScope.everything())
    hearth.clock.advance(LEASE)  # frozen: no renewal for a whole lease
    await other.claim(ShardScope.everything())
    hearth.expect_errors("Another Hearth process took over all servers")

    async def at_once(seconds: float) -> None:
        assert seconds == RENEW_EVERY.total_seconds()

    await bot.shard_leases.keep(bot._shards_taken_over, sleep=at_once)
    assert bot.stop_requested.is_set() and bot.shards_lost is not None
    assert "stopping, so that no shard runs twice" in str(bot.shards_lost)


async def test_a_clean_stop_releases_the_shards(hearth: Harness) -> None:
    bot = bot_of(hearth)
    await bot.claim_shards()
    await hearth.restart()  # the old bot closes: its successor claims at once
    again = bot_of(hearth)
    await again.claim_shards()
    assert [lease.holder for lease in await again.shard_leases.live()] == [again.outbox.owner]


async def test_an_alert_for_another_shards_server_is_left_to_its_process_and_wakes_it(
    hearth: Harness,
) -> None:
    """A member's yes pressed in a DM reaches shard 0's process, whatever their server: the
    alert it raises is left, unleased, for the process of the server's shard (which has the
    server in its cache), and that process is told at once (on PostgreSQL: NOTIFY)."""
    bot = bot_of(hearth)
    await bot.settings.update(hearth.guild.id, None, alerts_channel_id=hearth.alerts.id)
    ours, theirs = scopes(hearth.guild.id)
    bot.shard_scope = theirs
    mark = bot.invalidations.mark()
    assert await bot.alert(discord.Object(hearth.guild.id), "Someone asked for a check-in.")
    await hearth.fake.flush()
    assert not any("asked for a check-in" in m.content for m in hearth.messages(hearth.alerts))
    assert (await bot.outbox_store.counts(hearth.guild.id)).get("pending") == 1
    if bot.db.engine == "postgresql":  # SQLite serves one process: nobody else to tell
        assert await bot.invalidations.wait_heard(f"wake:{hearth.guild.id}", 1.0, after=mark)
    bot.shard_scope = ours  # the process of its shard, woken, sends it
    bot.outbox.invalidate(str(hearth.guild.id))
    await bot.dispatcher.run_due()
    await hearth.wait_for(
        lambda: any("asked for a check-in" in m.content for m in hearth.messages(hearth.alerts)),
        what="the alert",
    )


async def test_a_yes_from_a_dm_for_another_processs_server_still_reaches_its_coordinators(
    hearth: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = bot_of(hearth)
    await bot.settings.update(hearth.guild.id, None, alerts_channel_id=hearth.alerts.id)
    guild_id, real_get_guild = hearth.guild.id, bot.get_guild
    ours, theirs = scopes(guild_id)
    bot.shard_scope = theirs  # this process runs the other shard: the server isn't in its cache
    monkeypatch.setattr(
        bot, "get_guild", lambda gid: None if gid == guild_id else real_get_guild(gid)
    )
    said = await bot.request_support(guild_id, hearth.member.id, "checkin")
    said = said.replace(i18n.OPEN, "").replace(i18n.CLOSE, "")  # as read, in a pseudo-locale run
    assert said.startswith("Thank you for telling me. I've asked the coordinators to reach out")
    monkeypatch.setattr(bot, "get_guild", real_get_guild)
    bot.shard_scope = ours
    await bot.dispatcher.run_due()
    await hearth.wait_for(
        lambda: any(
            f"<@{hearth.member.id}> asked for someone to reach out to them (from checkin)"
            in m.content
            for m in hearth.messages(hearth.alerts)
        ),
        what="the coordinators' alert",
    )


async def test_a_delete_from_a_dm_finishes_in_the_process_of_each_servers_shard(
    hearth: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`/mydata delete` from a DM covers every server, but reaches shard 0's process: for a
    server another process runs, taking the group role and moving the waitlist up is left to
    that process (a timer due now, and a wake-up), and happens there."""
    bot = bot_of(hearth)
    await create_group(hearth, capacity=1)
    await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    await hearth.slash(hearth.supporter, hearth.channel, "group join", name="Carers circle")
    await hearth.wait_for(lambda: "Carers circle" in hearth.role_names(hearth.member))
    guild_id, real_get_guild = hearth.guild.id, bot.get_guild
    ours, theirs = scopes(guild_id)
    bot.shard_scope = theirs
    monkeypatch.setattr(
        bot, "get_guild", lambda gid: None if gid == guild_id else real_get_guild(gid)
    )
    mark = bot.invalidations.mark()
    report = await bot.service(MyDataService).delete(None, hearth.member.id)
    await follow_up(bot, hearth.member.id, report)
    [left] = await bot.timers.pending(AFTER_DELETE, guild_id)
    assert left.payload["user_id"] == hearth.member.id
    if bot.db.engine == "postgresql":
        assert await bot.invalidations.wait_heard(f"wake:{guild_id}", 1.0, after=mark)
    await hearth.fake.flush()
    assert "Carers circle" in hearth.role_names(hearth.member)  # not this process's to do

    monkeypatch.setattr(bot, "get_guild", real_get_guild)
    bot.shard_scope = ours  # the server's own process runs it
    await bot.dispatcher.run_due()
    await hearth.wait_for(lambda: "Carers circle" not in hearth.role_names(hearth.member))
    await hearth.wait_for(lambda: "Carers circle" in hearth.role_names(hearth.supporter))
    assert await bot.timers.pending(AFTER_DELETE, guild_id) == []
