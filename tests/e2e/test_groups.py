"""`/group` through the fake Discord: every command, refusal and the join gate."""

from __future__ import annotations

import asyncio
from typing import Any

import discord

from bot.features import Feature, GateStep
from tests.fakediscord import DEFAULT_BOT, FakeMember, Perm
from tests.fakediscord.views import Reply
from tests.harness import Harness, bot_of
from tests.helpers import configure, create_group, dms_saying, group_create, rows
from tests.pseudo_locale import given


async def remove_from_carers(hearth: Harness, member: FakeMember) -> Reply:
    """A coordinator takes `member` out of Carers circle, whatever it answers."""
    return await hearth.slash(
        hearth.coordinator, hearth.channel, "group remove", name="Carers circle", member=member
    )


async def test_create_makes_a_plain_role_and_a_private_channel(hearth: Harness) -> None:
    await configure(hearth)
    reply = await create_group(
        hearth, capacity=8, meets="Tuesdays 19:00 UK time", create_channel=True
    )
    assert "8 places left (of 8)" in reply.content and "Tuesdays 19:00" in reply.content
    role = hearth.guild.role("Carers circle")
    assert role.permissions == 0 and not role.mentionable
    channel = hearth.guild.channel("carers-circle")
    g = hearth.guild
    assert channel.overwrites[g.id].deny & Perm.VIEW_CHANNEL
    for allowed in (role.id, hearth.supporter_role.id, hearth.coordinator_role.id, g.bot_member.id):
        assert channel.overwrites[allowed].allow & Perm.VIEW_CHANNEL
    assert not g.permissions_for(hearth.member, channel) & Perm.VIEW_CHANNEL
    assert g.permissions_for(hearth.supporter, channel) & Perm.VIEW_CHANNEL
    stored = await rows(
        hearth, "SELECT name, capacity, meets, role_id, channel_id, archived_at FROM groups"
    )
    assert stored == [("Carers circle", 8, "Tuesdays 19:00 UK time", role.id, channel.id, None)]
    assert await rows(hearth, "SELECT action FROM audit_log") == [("group.created",)]
    assert any("**Group created** — " in m.content for m in hearth.messages(hearth.log))
    assert hearth.messages(hearth.general) == []


async def test_create_refuses_duplicates_and_unusable_roles_and_changes_nothing(
    hearth: Harness,
) -> None:
    await create_group(hearth)
    roles_before = len(hearth.guild.roles)
    dup = await group_create(hearth, "CARERS  circle")
    assert dup.ephemeral and "already a group called “Carers circle”" in dup.content
    high = hearth.guild.add_role("mods", position=hearth.guild.bot_role.position + 1)
    await hearth.fake.flush()
    above = await group_create(hearth, "Mods", role=high)
    assert "above my highest role" in above.content and "Nothing was changed" in above.content
    taken = await group_create(hearth, "Second", role=hearth.guild.role("Carers circle"))
    assert "already belongs to the group “Carers circle”" in taken.content
    both = await group_create(hearth, "Third", channel=hearth.general, create_channel=True)
    assert "not both" in both.content
    assert len(hearth.guild.roles) == roles_before + 1  # only the "mods" role made by the test
    assert await rows(hearth, "SELECT name FROM groups") == [("Carers circle",)]


async def test_create_with_an_existing_role_and_channel(hearth: Harness) -> None:
    role = hearth.guild.add_role("walkers")
    await hearth.fake.flush()
    await create_group(hearth, "Walking group", role=role, channel=hearth.general)
    assert await rows(hearth, "SELECT role_id, channel_id, capacity FROM groups") == [
        (role.id, hearth.general.id, None)
    ]
    reply = await hearth.slash(hearth.member, hearth.channel, "group join", name="walking group")
    assert "walkers" in hearth.role_names(hearth.member)
    assert f"<#{hearth.general.id}>" in reply.content
    renamed = await hearth.slash(hearth.coordinator, hearth.channel, "group edit",
                                 name="Walking group", new_name="Rambling group")  # fmt: skip
    assert "Updated “Rambling group”" in renamed.content and "Its role" not in renamed.content
    assert role.name == "walkers"  # a role the coordinators named themselves stays theirs


async def test_members_cannot_use_coordinator_commands(hearth: Harness) -> None:
    await create_group(hearth)
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("group create", {"name": "Mine", "description": "x"}),
        ("group edit", {"name": "Carers circle", "capacity": 1}),
        ("group archive", {"name": "Carers circle"}),
        ("group remove", {"name": "Carers circle", "member": hearth.supporter}),
        ("group members", {"name": "Carers circle"}),
        ("group panel", {"channel": hearth.general}),
    ]
    for path, options in attempts:
        reply = await hearth.slash(hearth.member, hearth.channel, path, **options)
        assert reply.ephemeral and "Only coordinators" in reply.content, path
    assert await rows(hearth, "SELECT name, capacity, archived_at FROM groups") == [
        ("Carers circle", None, None)
    ]
    assert await rows(hearth, "SELECT COUNT(*) FROM group_panels") == [(0,)]


async def test_list_and_info_show_places_and_waitlist_but_never_who(hearth: Harness) -> None:
    await create_group(hearth, capacity=1, meets="Mondays")
    await create_group(hearth, "Walking group")
    await hearth.slash(hearth.supporter, hearth.channel, "group join", name="Carers circle")
    await hearth.slash(hearth.owner, hearth.channel, "group join", name="Carers circle")
    listing = await hearth.slash(hearth.member, hearth.channel, "group list")
    assert listing.ephemeral
    assert (
        "**Carers circle** · meets Mondays — Full (1 place) · 1 on the waitlist" in listing.content
    )
    assert "**Walking group** — Open, no size limit" in listing.content
    info = await hearth.slash(hearth.member, hearth.channel, "group info", name="carers circle")
    assert info.ephemeral and "Mondays" in info.text and "1 on the waitlist" in info.text
    for reply in (listing, info):
        assert str(hearth.supporter.id) not in reply.text and "sam" not in reply.text
    unknown = await hearth.slash(hearth.member, hearth.channel, "group info", name="Knitting")
    assert "couldn't find a group called “Knitting”" in unknown.content


async def test_join_and_leave_with_every_refusal(hearth: Harness) -> None:
    await create_group(hearth)
    member = hearth.member
    joined = await hearth.slash(member, hearth.channel, "group join", name="carers circle")
    assert joined.ephemeral and "You're in “Carers circle”" in joined.content
    assert "Carers circle" in hearth.role_names(member)
    twice = await hearth.slash(member, hearth.channel, "group join", name="Carers circle")
    assert twice.ephemeral and "already in" in twice.content
    unknown = await hearth.slash(member, hearth.channel, "group join", name="Knitting")
    assert "couldn't find a group" in unknown.content
    left = await hearth.slash(member, hearth.channel, "group leave", name="Carers circle")
    assert left.ephemeral and "You've left “Carers circle”" in left.content
    assert "Carers circle" not in hearth.role_names(member)
    again = await hearth.slash(member, hearth.channel, "group leave", name="Carers circle")
    assert "nothing to leave" in again.content
    assert await rows(hearth, "SELECT COUNT(*) FROM group_members") == [(0,)]
    assert hearth.messages(hearth.general) == []  # never announced


async def test_edit_lowering_capacity_keeps_members_and_raising_it_promotes(
    hearth: Harness,
) -> None:
    await configure(hearth)
    await create_group(hearth, capacity=2)
    for person in (hearth.member, hearth.supporter):
        await hearth.slash(person, hearth.channel, "group join", name="Carers circle")
    lowered = await hearth.slash(
        hearth.coordinator, hearth.channel, "group edit", name="Carers circle", capacity=1
    )
    assert "capacity 2 → 1" in lowered.content and "everyone stays" in lowered.content
    waiting = await hearth.slash(hearth.owner, hearth.channel, "group join", name="Carers circle")
    assert "number **1** in line" in waiting.content
    assert "Carers circle" not in hearth.role_names(hearth.owner)
    raised = await hearth.slash(
        hearth.coordinator,
        hearth.channel,
        "group edit",
        name="Carers circle",
        capacity=3,
        new_name="Carers' circle",
        meets="Wednesdays",
    )
    assert "Updated “Carers' circle”" in raised.content
    assert "Its role is now called “Carers' circle” too" in raised.content
    assert "Carers' circle" in hearth.role_names(hearth.owner)  # the role Hearth made, renamed
    await hearth.wait_for(
        lambda: dms_saying(hearth, hearth.owner, "a place opened in “Carers' circle”")
    )
    assert await rows(hearth, "SELECT name, capacity, meets FROM groups") == [
        ("Carers' circle", 3, "Wednesdays")
    ]
    audit = await rows(hearth, "SELECT action, detail FROM audit_log WHERE action = 'group.edited'")
    assert len(audit) == 2 and "capacity 1 → 3" in audit[1][1]


async def test_archive_stops_joins_members_keep_their_role_waitlist_is_told(
    hearth: Harness,
) -> None:
    await create_group(hearth, capacity=1)
    await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    await hearth.slash(hearth.supporter, hearth.channel, "group join", name="Carers circle")
    reply = await hearth.slash(
        hearth.coordinator, hearth.channel, "group archive", name="Carers circle"
    )
    assert (
        "Archived “Carers circle”" in reply.content and "1 people on its waitlist" in reply.content
    )
    assert "Carers circle" in hearth.role_names(hearth.member)
    await hearth.wait_for(lambda: dms_saying(hearth, hearth.supporter, "closed to new members"))
    refused = await hearth.slash(hearth.owner, hearth.channel, "group join", name="Carers circle")
    assert "archived" in refused.content and "Nothing was changed" in refused.content
    assert await rows(hearth, "SELECT COUNT(*) FROM group_waitlist") == [(0,)]
    again = await hearth.slash(
        hearth.coordinator, hearth.channel, "group archive", name="Carers circle"
    )
    assert "already archived" in again.content
    listing = await hearth.slash(hearth.member, hearth.channel, "group list")
    assert "no open groups" in listing.content
    left = await hearth.slash(hearth.member, hearth.channel, "group leave", name="Carers circle")
    assert "You've left" in left.content and "Carers circle" not in hearth.role_names(hearth.member)


async def test_reopen_undoes_an_archive_and_is_audited(hearth: Harness) -> None:
    await create_group(hearth, capacity=2)
    await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    await hearth.slash(hearth.coordinator, hearth.channel, "group archive", name="Carers circle")
    choices = await hearth.autocomplete(
        hearth.coordinator, hearth.channel, "group reopen", "name", "car"
    )
    assert [c["value"] for c in choices] == ["Carers circle"]

    reply = await hearth.slash(
        hearth.coordinator, hearth.channel, "group reopen", name="carers CIRCLE"
    )
    assert reply.ephemeral and "Reopened “Carers circle”" in reply.content
    assert "1 place left (of 2)" in reply.content
    assert await rows(hearth, "SELECT archived_at FROM groups") == [(None,)]
    assert "Carers circle" in hearth.role_names(hearth.member)  # members were never touched
    joined = await hearth.slash(hearth.owner, hearth.channel, "group join", name="Carers circle")
    assert "You're in" in joined.content
    listing = await hearth.slash(hearth.member, hearth.channel, "group list")
    assert "Carers circle" in listing.content
    assert await rows(
        hearth, "SELECT action, detail FROM audit_log WHERE action LIKE 'group.re%'"
    ) == [("group.reopened", "Carers circle")]

    again = await hearth.slash(
        hearth.coordinator, hearth.channel, "group reopen", name="Carers circle"
    )
    assert "isn't archived" in again.content and "Nothing was changed" in again.content
    assert (
        await hearth.autocomplete(hearth.coordinator, hearth.channel, "group reopen", "name", "car")
        == []
    )


async def test_remove_takes_the_role_promotes_and_is_audited(hearth: Harness) -> None:
    await configure(hearth)
    await create_group(hearth, capacity=1)
    await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    await hearth.slash(hearth.supporter, hearth.channel, "group join", name="Carers circle")
    reply = await remove_from_carers(hearth, hearth.member)
    assert reply.ephemeral and "Removed" in reply.content
    assert "Carers circle" not in hearth.role_names(hearth.member)
    assert "Carers circle" in hearth.role_names(hearth.supporter)
    assert await rows(hearth, "SELECT user_id FROM group_members") == [(hearth.supporter.id,)]
    audit = await rows(hearth, "SELECT action, detail FROM audit_log WHERE action LIKE '%removed'")
    assert audit == [("group.member_removed", f"<@{hearth.member.id}> from Carers circle")]
    assert dms_saying(hearth, hearth.member, "Carers circle") == []  # told personally instead
    missing = await remove_from_carers(hearth, hearth.owner)
    assert "isn't in “Carers circle”" in missing.content


async def test_members_shows_roster_and_waitlist_in_order(hearth: Harness) -> None:
    await create_group(hearth, capacity=1)
    for person in (hearth.member, hearth.supporter, hearth.owner):
        await hearth.slash(person, hearth.channel, "group join", name="Carers circle")
    reply = await hearth.slash(
        hearth.coordinator, hearth.channel, "group members", name="Carers circle"
    )
    assert reply.ephemeral
    text = reply.content
    assert f"1. <@{hearth.member.id}>" in text
    waitlist = text.split("**Waitlist**")[1]
    assert waitlist.index(f"<@{hearth.supporter.id}>") < waitlist.index(f"<@{hearth.owner.id}>")


async def test_autocomplete_offers_the_right_groups(hearth: Harness) -> None:
    await create_group(hearth)
    await create_group(hearth, "Carers' walk")
    await create_group(hearth, "Old group")
    await hearth.slash(hearth.coordinator, hearth.channel, "group archive", name="Old group")
    await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers' walk")
    join = await hearth.autocomplete(hearth.member, hearth.channel, "group join", "name", "car")
    assert [c["value"] for c in join] == ["Carers circle", "Carers' walk"]
    leave = await hearth.autocomplete(hearth.member, hearth.channel, "group leave", "name", "")
    assert [c["value"] for c in leave] == ["Carers' walk"]
    info = await hearth.autocomplete(hearth.member, hearth.channel, "group info", "name", "old")
    assert [c["value"] for c in info] == ["Old group"]


async def test_about_counts_open_groups(hearth: Harness) -> None:
    await create_group(hearth)
    await create_group(hearth, "Old group")
    await hearth.slash(hearth.coordinator, hearth.channel, "group archive", name="Old group")
    reply = await hearth.slash(hearth.member, hearth.channel, "about")
    assert "1 group" in reply.content and "1 groups" not in reply.content


class AgreeFirst:
    """A stand-in for the guidelines gate: one "I agree" before the join completes."""

    def __init__(self) -> None:
        self.agreed: set[int] = set()

    async def next_step(self, guild_id: int, user_id: int, group_id: int) -> GateStep | None:
        if user_id in self.agreed:
            return None
        gate = self

        class Agree(discord.ui.View):
            @discord.ui.button(label=given("I agree"))
            async def agree(self, interaction: discord.Interaction, _: Any) -> None:
                gate.agreed.add(interaction.user.id)
                cog = interaction.client.get_cog("Groups")  # type: ignore[attr-defined]  # a cog by name
                await cog.continue_join(interaction, group_id)

        return GateStep(
            embed=discord.Embed(title=given("Group guidelines"), description=given("Be kind.")),
            view=Agree(),
        )


async def test_a_join_gate_is_shown_first_and_agreeing_completes_the_join(
    hearth: Harness,
) -> None:
    bot_of(hearth).features.add(Feature(name="agree first", join_gates=[AgreeFirst()]))
    await create_group(hearth)
    step = await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    assert step.ephemeral and "Be kind." in step.text
    assert await rows(hearth, "SELECT COUNT(*) FROM group_members") == [(0,)]
    done = await hearth.click(hearth.member, step, label="I agree")
    assert done.message_id == step.message_id  # the private message is edited in place
    await hearth.wait_for(lambda: "You're in “Carers circle”" in done.content)
    assert done.components == [] and done.embeds == []
    assert "Carers circle" in hearth.role_names(hearth.member)
    assert await rows(hearth, "SELECT user_id FROM group_members") == [(hearth.member.id,)]


async def test_a_create_that_fails_part_way_leaves_no_stray_role(hearth: Harness) -> None:
    hearth.guild.set_bot_permissions(DEFAULT_BOT & ~Perm.MANAGE_CHANNELS)
    await hearth.fake.flush()
    roles_before = set(hearth.guild.roles)
    reply = await group_create(hearth, "Carers circle", create_channel=True)
    assert "Manage Channels" in reply.content and "Nothing was changed" in reply.content
    await hearth.wait_for(lambda: set(hearth.guild.roles) == roles_before, what="role cleanup")
    assert await rows(hearth, "SELECT COUNT(*) FROM groups") == [(0,)]

    hearth.guild.set_bot_permissions(DEFAULT_BOT & ~Perm.MANAGE_ROLES)
    await hearth.fake.flush()
    no_roles = await group_create(hearth, "Carers circle")
    assert "Manage Roles" in no_roles.content and "Nothing was changed" in no_roles.content
    assert await rows(hearth, "SELECT COUNT(*) FROM groups") == [(0,)]


async def test_two_coordinators_creating_the_same_name_at_once(hearth: Harness) -> None:
    roles_before = len(hearth.guild.roles)
    replies = await asyncio.gather(
        *(
            hearth.slash(person, hearth.channel, "group create", name=name, description="x")
            for person, name in ((hearth.coordinator, "Carers"), (hearth.owner, "carers"))
        )
    )
    assert sorted("Created" in r.content for r in replies) == [False, True]
    assert any("already a group called" in r.content for r in replies)
    assert await rows(hearth, "SELECT COUNT(*) FROM groups") == [(1,)]
    await hearth.wait_for(lambda: len(hearth.guild.roles) == roles_before + 1)
