"""The fake Discord against a bare discord.py bot: every Discord rule the Hearth tests rely on."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import discord
import pytest

from tests.fakediscord import DEFAULT_BOT, ActionError, FakeDiscord, Perm
from tests.fakediscord.__main__ import build_sample_server
from tests.fakediscord.probe import BareDriver, ProbeBot
from tests.harness import ErrorWatch, Harness

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x03"


@pytest.fixture
async def world(fake: FakeDiscord, error_watch: ErrorWatch) -> AsyncIterator[Harness]:
    async with Harness.standard(fake, BareDriver(), error_watch) as harness:
        yield harness


def bot_of(world: Harness) -> ProbeBot:
    assert isinstance(world.bot, ProbeBot)
    return world.bot


def guild_of(world: Harness) -> discord.Guild:
    guild = world.bot.get_guild(world.guild.id) if world.bot else None
    assert guild is not None
    return guild


async def test_connects_syncs_and_sees_the_server(world: Harness) -> None:
    fake = world.fake
    assert fake.request_count("PUT", "/applications/{application_id}/commands") == 1
    assert {c["name"] for c in fake.commands()} >= {"echo", "group", "slow"}
    assert {m.name for m in guild_of(world).members} >= {"cora", "sam", "max", "owner"}
    assert {c.name for c in guild_of(world).text_channels} == {"general", "alerts", "log"}
    assert fake.gateway.identify_count == 1
    guild = await bot_of(world).fetch_guild(world.guild.id)
    assert guild.name == "Test Server" and guild.owner_id == world.owner.id
    assert {r.name for r in await guild.fetch_roles()} >= {"@everyone", "coordinator", "Hearth"}
    assert len(await guild.fetch_channels()) == 3
    assert (await guild.fetch_member(world.member.id)).name == "max"
    assert len([m async for m in guild.fetch_members(limit=None)]) == 5


async def test_typed_options_resolve_and_reply_is_ephemeral(world: Harness) -> None:
    reply = await world.slash(
        world.member,
        world.channel,
        "echo",
        text="hi",
        count=3,
        flag=True,
        ratio=0.5,
        who=world.supporter,
        where=world.alerts,
        role=world.supporter_role,
        file=("a.png", PNG),
    )
    assert reply.ephemeral and reply.kind == "message"
    assert reply.content == repr(
        ["hi", 3, True, 0.5, "sam", "alerts", "supporter", ("a.png", len(PNG))]
    )
    assert reply.files[0].filename == "copy-a.png" and reply.files[0].data == PNG
    assert world.fake.channel_messages(world.channel) == []  # only max saw it
    with pytest.raises(ActionError, match="takes a whole number"):
        await world.slash(world.member, world.channel, "echo", text="x", count="3")
    with pytest.raises(ActionError, match="needs option 'count'"):
        await world.slash(world.member, world.channel, "echo", text="x")


async def test_subcommand_button_select_modal_and_autocomplete(world: Harness) -> None:
    alice = world.guild.add_member("alice")
    assert [
        c["name"]
        for c in await world.autocomplete(alice, world.channel, "group join", "name", "Ca")
    ] == ["Carers", "Cats"]
    reply = await world.slash(alice, world.channel, "group join", name="Carers")
    assert not reply.ephemeral and reply.content == "joined Carers"
    assert [c.label for c in reply.components] == ["I agree", "Say more", None]
    picked = await world.select(alice, reply, ["Cake"])
    assert picked.content == "picked ['c']"
    opened = await world.click(alice, reply, label="Say more")
    assert opened.kind == "modal" and opened.modal and opened.modal.fields[0].label == "Your words"
    with pytest.raises(ActionError, match=r"must be 0\.\.50"):
        await world.submit_modal(alice, opened, {"Your words": "x" * 51})
    submitted = await world.submit_modal(alice, opened, {"Your words": "thanks"})
    assert submitted.content == "got thanks"
    updated = await world.click(alice, reply, label="I agree")
    assert updated.kind == "update" and reply.content == "agreed" and reply.components == []


async def test_deferred_reply_is_replaced_by_first_followup(world: Harness) -> None:
    reply = await world.slash(world.member, world.channel, "slow")
    assert reply.deferred and reply.content == "done" and reply.ephemeral and not reply.loading
    more = await reply.followup(0)
    assert more.content == "more" and more.ephemeral
    assert (
        world.fake.ephemeral_messages(world.member)
        and world.fake.channel_messages(world.channel) == []
    )


async def test_click_on_a_channel_message(world: Harness) -> None:
    await world.slash(world.coordinator, world.channel, "panel")
    panel = world.messages(world.channel)[-1]
    assert panel.content == "panel" and not panel.ephemeral
    await world.click(world.member, panel, custom_id="agree")
    assert panel.content == "agreed"
    with pytest.raises(ActionError, match="no component"):
        await world.click(world.member, panel, label="I agree")


async def test_hidden_command_and_second_and_late_acknowledgement(world: Harness) -> None:
    with pytest.raises(ActionError, match="cannot see /admin_only"):
        await world.slash(world.member, world.channel, "admin_only")
    assert (await world.slash(world.coordinator, world.channel, "admin_only")).content == "ok"
    bot = bot_of(world)
    await world.slash(world.member, world.channel, "twice")
    await world.wait_for(lambda: "twice" in bot.notes)
    assert bot.notes["twice"] == 40060
    inter = world.fake.actions.slash(world.member, world.channel, "late", {})
    await world.wait_for(lambda: "late_started" in bot.notes)
    world.fake.advance_time(3.5)
    bot.gate.set()
    await world.wait_for(lambda: "late" in bot.notes)
    assert bot.notes["late"] == 10062 and not inter.acknowledged


async def test_dms_files_and_closed_dms(world: Harness) -> None:
    bot = bot_of(world)
    user = await bot.fetch_user(world.member.id)
    await user.send("hello there", file=discord.File(io.BytesIO(b"BEGIN:VCALENDAR"), "meet.ics"))
    [dm] = world.dms(world.member)
    assert dm.content == "hello there" and dm.file("meet.ics").data == b"BEGIN:VCALENDAR"
    assert dm.file("meet.ics").content_type == "text/calendar"
    world.supporter.dms_closed = True
    with pytest.raises(discord.Forbidden) as caught:
        await (await bot.fetch_user(world.supporter.id)).send("x")
    assert caught.value.code == 50007


async def test_role_changes_follow_permissions_and_hierarchy(world: Harness) -> None:
    bot, g = bot_of(world), world.guild
    member = guild_of(world).get_member(world.member.id)
    assert member is not None
    await member.add_roles(discord.Object(world.supporter_role.id))
    assert world.supporter_role.id in g.member_role_ids(world.member)
    await world.wait_for(lambda: "supporter" in bot.notes.get("member_update", []))
    admin = g.add_role("admin", position=g.bot_role.position + 1)
    with pytest.raises(discord.Forbidden) as caught:
        await member.add_roles(discord.Object(admin.id))
    assert caught.value.code == 50013 and "not below the bot's top role" in world.fake.denials[-1]
    made = await guild_of(world).create_role(name="Group: Carers")
    assert g.roles[made.id].position == 1 and g.roles[made.id].name == "Group: Carers"
    await made.edit(name="Group: Cats")
    assert g.roles[made.id].name == "Group: Cats"
    with pytest.raises(discord.Forbidden):  # cannot grant what it does not have
        await guild_of(world).create_role(
            name="x", permissions=discord.Permissions(administrator=True)
        )
    g.set_bot_permissions(DEFAULT_BOT | Perm.MANAGE_NICKNAMES)
    await member.edit(nick="Maxi")
    assert g.members[world.member.id].nick == "Maxi"
    owner = guild_of(world).get_member(world.owner.id) or await guild_of(world).fetch_member(
        world.owner.id
    )
    with pytest.raises(discord.Forbidden):  # nobody outranks the owner
        await owner.edit(nick="Boss")
    g.set_bot_permissions(Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES)
    with pytest.raises(discord.Forbidden):
        await member.remove_roles(discord.Object(world.supporter_role.id))
    assert "MANAGE_ROLES" in world.fake.denials[-1]


async def test_channels_with_overwrites_pins_and_private_threads(world: Harness) -> None:
    guild, fake, g = guild_of(world), world.fake, world.guild
    max_member = guild.get_member(world.member.id)
    assert max_member is not None
    see = discord.PermissionOverwrite(view_channel=True)
    hidden: dict[discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite] = {
        guild.default_role: discord.PermissionOverwrite(view_channel=False),
        max_member: see,
    }
    with pytest.raises(discord.Forbidden):  # the bot hid the channel from itself: as on Discord
        await (await guild.create_text_channel("Group Carers", overwrites=hidden)).send("x")
    created = await guild.create_text_channel("Group Carers", overwrites=hidden | {guild.me: see})
    assert created.name == "group-carers"
    fake_channel = g.channels[created.id]
    assert g.permissions_for(world.member, fake_channel) & Perm.VIEW_CHANNEL
    assert not g.permissions_for(world.supporter, fake_channel) & Perm.VIEW_CHANNEL
    with pytest.raises(discord.Forbidden):
        await guild.create_text_channel(
            "x", overwrites={guild.default_role: discord.PermissionOverwrite(administrator=True)}
        )
    message = await created.send("pin me")
    await message.pin()
    assert [m.id for m in fake.pins(fake_channel)] == [message.id]
    assert [m.id for m in [p async for p in created.pins()]] == [message.id]
    thread = await created.create_thread(
        name="support", type=discord.ChannelType.private_thread, invitable=False
    )
    await thread.add_user(discord.Object(world.member.id))
    fake_thread = fake.threads(fake_channel)[0]
    assert fake_thread.is_private_thread and fake_thread.members == {
        fake.bot_user.id,
        world.member.id,
    }
    await thread.edit(archived=True, locked=True)
    assert fake_thread.archived and fake_thread.locked
    with pytest.raises(discord.HTTPException) as caught:
        await thread.add_user(discord.Object(world.supporter.id))
    assert caught.value.code == 50083
    await created.edit(name="Renamed Group", topic="peer support")
    assert fake_channel.name == "renamed-group" and fake_channel.topic == "peer support"
    g.set_bot_permissions(Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES)
    g.set_role_permissions(g.everyone_role, Perm.VIEW_CHANNEL)  # @everyone may make threads too
    with pytest.raises(discord.Forbidden):
        await message.unpin()
    with pytest.raises(discord.Forbidden):
        await created.create_thread(name="no", type=discord.ChannelType.private_thread)


async def test_scheduled_events(world: Harness, clock: Any) -> None:
    guild = guild_of(world)
    start = clock.now() + timedelta(days=1)
    event = await guild.create_scheduled_event(
        name="Meet-up",
        start_time=start,
        end_time=start + timedelta(hours=1),
        entity_type=discord.EntityType.external,
        location="Cafe",
        privacy_level=discord.PrivacyLevel.guild_only,
    )
    assert [e.name for e in world.fake.scheduled_events(world.guild)] == ["Meet-up"]
    await event.edit(name="Coffee")
    assert world.fake.scheduled_events(world.guild)[0].name == "Coffee"
    await event.delete()
    assert world.fake.scheduled_events(world.guild) == []
    with pytest.raises(discord.HTTPException, match="past"):
        await guild.create_scheduled_event(
            name="Old",
            start_time=clock.now() - timedelta(hours=1),
            end_time=clock.now(),
            entity_type=discord.EntityType.external,
            location="x",
            privacy_level=discord.PrivacyLevel.guild_only,
        )


async def test_rate_limits_are_ridden_out(world: Harness) -> None:
    fake = world.fake
    channel = world.bot.get_channel(world.general.id) if world.bot else None
    assert isinstance(channel, discord.TextChannel)
    fake.rate_limit_next("POST", r"^/channels/\d+/messages$", retry_after=0.05)
    await channel.send("after a 429")
    assert fake.rate_limited == [("POST", f"/channels/{world.general.id}/messages", False)]
    fake.enforce_global_limit(per_second=3, window=0.2)
    await asyncio.gather(*(channel.send(f"burst {i}") for i in range(6)))
    assert len(fake.channel_messages(world.general)) == 7
    assert any(is_global for _, _, is_global in fake.rate_limited)
    reply = await world.slash(world.member, world.channel, "twice")  # callbacks are exempt
    assert reply.content == "first"


@pytest.mark.allow_invalid_requests  # sends a 26-character nonce on purpose
async def test_a_repeated_nonce_with_enforce_nonce_returns_the_first_message(
    world: Harness,
) -> None:
    fake = world.fake
    channel = world.bot.get_channel(world.general.id) if world.bot else None
    assert isinstance(channel, discord.TextChannel)
    # discord.py sends `enforce_nonce: true` with every nonce it is given.
    first = await channel.send("once", nonce="hob1")
    again = await channel.send("once, retried", nonce="hob1")
    assert again.id == first.id and again.content == "once"
    assert [m.content for m in fake.channel_messages(world.general)] == ["once"]
    other = await channel.send("another", nonce="hob2")
    assert other.id != first.id
    # Without enforce_nonce Discord only echoes the nonce, so the same nonce posts again.
    route = discord.http.Route("POST", "/channels/{channel_id}/messages", channel_id=channel.id)
    await world.bot.http.request(route, json={"content": "loose", "nonce": "hob1"})  # type: ignore[union-attr]  # set once started
    assert len(fake.channel_messages(world.general)) == 3
    with pytest.raises(discord.HTTPException) as refused:
        await channel.send("too long", nonce="n" * 26)
    assert refused.value.code == 50035
    # After Discord's few minutes the nonce is free again.
    fake.nonces = {key: (mid, at - timedelta(minutes=10)) for key, (mid, at) in fake.nonces.items()}
    late = await channel.send("once, much later", nonce="hob1")
    assert late.id != first.id


async def test_server_errors_on_demand(world: Harness) -> None:
    fake = world.fake
    channel = world.bot.get_channel(world.general.id) if world.bot else None
    assert isinstance(channel, discord.TextChannel)
    fake.fail_next("POST", r"^/channels/\d+/messages$", status=503)
    with pytest.raises(discord.DiscordServerError):
        await channel.send("during an outage")
    await channel.send("after it")
    assert [m.content for m in fake.channel_messages(world.general)] == ["after it"]


async def test_reconnect_resumes_and_replays_missed_events(world: Harness) -> None:
    fake, bot = world.fake, bot_of(world)
    fake.drop_connection()
    await world.wait_for(lambda: not fake.bot_connected, what="the drop")
    world.guild.add_member("newcomer")  # sent while the bot is away
    await world.wait_for(lambda: bot.notes.get("joined") == "newcomer", what="the replayed join")
    assert fake.gateway.resume_count == 1 and fake.gateway.identify_count == 1
    await world.restart()
    assert fake.gateway.identify_count == 2
    assert (await world.slash(world.member, world.channel, "slow")).content == "done"


async def test_message_content_needs_the_intent(fake: FakeDiscord, error_watch: ErrorWatch) -> None:
    async with Harness.standard(
        fake,
        BareDriver(discord.Intents(guilds=True, members=True, guild_messages=True)),
        error_watch,
    ) as world:
        bot = bot_of(world)
        events = fake.gateway.live_sessions[0].events
        await world.slash(world.member, world.channel, "echo", text="x", count=1)
        assert "MESSAGE_CREATE" not in events  # ephemeral replies never reach the bot
        plain = await world.say(world.member, world.channel, "secret")
        mention = await world.say(world.member, world.channel, f"{fake.bot_user.mention} hi")
        await world.wait_for(lambda: f"message:{mention.id}" in bot.notes)
        assert bot.notes[f"message:{plain.id}"] == "" and "hi" in bot.notes[f"message:{mention.id}"]
    fake.set_privileged_intents(members=False)
    with pytest.raises(discord.PrivilegedIntentsRequired):
        await world.start()


@pytest.mark.allow_unimplemented
async def test_unimplemented_routes_are_recorded(world: Harness) -> None:
    with pytest.raises(discord.NotFound):
        await guild_of(world).text_channels[0].create_invite()
    assert world.fake.unimplemented == [
        f"POST /channels/{guild_of(world).text_channels[0].id}/invites"
    ]


async def test_guilds_joined_and_left_at_runtime_and_context_menus(world: Harness) -> None:
    bot = bot_of(world)
    second = world.fake.add_guild("Second Server")
    await world.wait_for(lambda: bot.notes.get("guild_join") == "Second Server")
    assert bot.get_guild(second.id) is not None
    world.fake.remove_bot_from_guild(second)
    await world.wait_for(lambda: bot.notes.get("guild_remove") == "Second Server")
    bot.notes.clear()
    await guild_of(world).leave()
    assert not world.guild.bot_present
    await world.wait_for(lambda: bot.notes.get("guild_remove") == "Test Server")
    world.fake.add_bot_to_guild(world.guild)
    await world.wait_for(lambda: bot.notes.get("guild_join") == "Test Server")
    reply = await world.context_menu(world.member, world.channel, "Profile", world.supporter)
    assert reply.content == "profile of sam"


async def test_wait_for_explains_timeouts_and_sample_server_builds(world: Harness) -> None:
    with pytest.raises(AssertionError, match=r"timed out after 0\.05s waiting for nothing"):
        await world.wait_for(lambda: False, timeout=0.05, what="nothing")
    other = FakeDiscord()
    guild = build_sample_server(other)
    assert {r.name for r in guild.roles.values()} >= {"coordinator", "supporter"}
    assert any(m.dms_closed for m in guild.members.values())


async def test_hearth_fixture_runs_the_real_bot(hearth: Harness) -> None:
    reply = await hearth.slash(hearth.member, hearth.channel, "about")
    assert reply.ephemeral and "not a crisis service" in reply.text
    await hearth.restart()
    assert hearth.fake.gateway.identify_count == 2
    assert (await hearth.slash(hearth.coordinator, hearth.channel, "help")).ephemeral
