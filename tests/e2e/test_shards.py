"""The bot's shard scope, given once (`HearthBot.shard_scope`), reaches what it claims: the outbox
of another shard's server is left for that shard's process, and a server on another shard is not
taken for gone when this process starts."""

from __future__ import annotations

import pytest

from bot.outbox_kinds import message_specs
from bot.shards import ShardScope, shard_of
from tests.harness import Harness, bot_of


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
