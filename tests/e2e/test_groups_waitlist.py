"""The waitlist, the race for the last place, leaving the server, and missing role permissions."""

from __future__ import annotations

import asyncio

from tests.fakediscord import DEFAULT_BOT, Perm
from tests.harness import Harness
from tests.helpers import configure, create_group, dms_saying, group_id, rows


async def test_a_freed_place_goes_to_the_first_in_line_with_role_and_dm(hearth: Harness) -> None:
    await create_group(hearth, capacity=1)
    await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    first = await hearth.slash(hearth.supporter, hearth.channel, "group join", name="Carers circle")
    second = await hearth.slash(hearth.owner, hearth.channel, "group join", name="Carers circle")
    assert first.ephemeral and "number **1** in line" in first.content
    assert "number **2** in line" in second.content
    assert "Carers circle" not in hearth.role_names(hearth.supporter)
    dup = await hearth.slash(hearth.supporter, hearth.channel, "group join", name="Carers circle")
    assert "already on the waitlist" in dup.content and "number 1 in line" in dup.content

    await hearth.slash(hearth.member, hearth.channel, "group leave", name="Carers circle")
    assert "Carers circle" in hearth.role_names(hearth.supporter)
    await hearth.wait_for(lambda: dms_saying(hearth, hearth.supporter, "a place opened"))
    assert "Carers circle" not in hearth.role_names(hearth.owner)
    gid = await group_id(hearth, "Carers circle")
    assert await rows(hearth, "SELECT user_id FROM group_members WHERE group_id = ?", gid) == [
        (hearth.supporter.id,)
    ]
    assert await rows(hearth, "SELECT user_id FROM group_waitlist") == [(hearth.owner.id,)]
    moved_up = await hearth.slash(hearth.owner, hearth.channel, "group info", name="Carers circle")
    assert "1 on the waitlist" in moved_up.text
    off = await hearth.slash(hearth.owner, hearth.channel, "group leave", name="Carers circle")
    assert "off the waitlist" in off.content
    assert await rows(hearth, "SELECT COUNT(*) FROM group_waitlist") == [(0,)]


async def test_closed_dms_hold_the_promotion_notice_for_the_next_command(hearth: Harness) -> None:
    shy = hearth.guild.add_member("shy", dms_closed=True)
    await hearth.fake.flush()
    await create_group(hearth, capacity=1)
    await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    await hearth.slash(shy, hearth.channel, "group join", name="Carers circle")
    await hearth.slash(hearth.member, hearth.channel, "group leave", name="Carers circle")
    assert "Carers circle" in hearth.role_names(shy)
    assert hearth.dms(shy) == []
    later = await hearth.slash(shy, hearth.channel, "group list")
    notice = await later.followup(0)
    assert notice.ephemeral and "a place opened in “Carers circle”" in notice.content


async def test_twenty_members_racing_for_the_last_place_exactly_one_gets_it(
    hearth: Harness,
) -> None:
    await create_group(hearth, capacity=2)
    await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    racers = [hearth.guild.add_member(f"racer{n}") for n in range(20)]
    await hearth.fake.flush()
    replies = await asyncio.gather(
        *(hearth.slash(r, hearth.channel, "group join", name="Carers circle") for r in racers)
    )
    winners = [r for r in replies if "You're in" in r.content]
    queued = sorted(
        int(r.content.split("number **")[1].split("**")[0])
        for r in replies
        if "waitlist" in r.content
    )
    assert len(winners) == 1 and queued == list(range(1, 20))
    assert all(r.ephemeral for r in replies)
    with_role = [r for r in racers if "Carers circle" in hearth.role_names(r)]
    assert len(with_role) == 1
    gid = await group_id(hearth, "Carers circle")
    assert await rows(hearth, "SELECT COUNT(*) FROM group_members WHERE group_id = ?", gid) == [
        (2,)
    ]
    assert await rows(hearth, "SELECT COUNT(*) FROM group_waitlist") == [(19,)]
    assert hearth.messages(hearth.general) == []


async def test_leaving_the_server_leaves_groups_and_promotes_the_waitlist(
    hearth: Harness,
) -> None:
    await create_group(hearth, capacity=1)
    await create_group(hearth, "Walking group", capacity=1)
    await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    await hearth.slash(hearth.supporter, hearth.channel, "group join", name="Walking group")
    await hearth.slash(hearth.member, hearth.channel, "group join", name="Walking group")
    await hearth.slash(hearth.supporter, hearth.channel, "group join", name="Carers circle")
    hearth.guild.remove_member(hearth.member)
    await hearth.wait_for(lambda: "Carers circle" in hearth.role_names(hearth.supporter))
    await hearth.wait_for(lambda: dms_saying(hearth, hearth.supporter, "a place opened"))
    member_rows = await rows(
        hearth, "SELECT COUNT(*) FROM group_members WHERE user_id = ?", hearth.member.id
    )
    assert member_rows == [(0,)]
    assert await rows(hearth, "SELECT user_id FROM group_waitlist") == []


async def test_without_manage_roles_the_join_is_undone_and_coordinators_told(
    hearth: Harness,
) -> None:
    await configure(hearth)
    await create_group(hearth, capacity=3)
    hearth.guild.set_bot_permissions(DEFAULT_BOT & ~Perm.MANAGE_ROLES)
    await hearth.fake.flush()
    reply = await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    assert reply.ephemeral
    assert (
        "couldn't give you the role" in reply.content
        and "coordinators have been told" in reply.content
    )
    assert "Carers circle" not in hearth.role_names(hearth.member)
    assert await rows(hearth, "SELECT COUNT(*) FROM group_members") == [(0,)]
    await hearth.wait_for(
        lambda: any("Manage Roles" in m.content for m in hearth.messages(hearth.log))
    )
    alert = next(m.content for m in hearth.messages(hearth.log) if "Manage Roles" in m.content)
    assert "Fix:" in alert and f"<@{hearth.member.id}>" in alert
    assert hearth.messages(hearth.general) == []

    hearth.guild.set_bot_permissions(DEFAULT_BOT)
    await hearth.fake.flush()
    retry = await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    assert "You're in" in retry.content and "Carers circle" in hearth.role_names(hearth.member)


async def test_a_group_role_above_the_bot_is_named_in_the_fix(hearth: Harness) -> None:
    await configure(hearth)
    await create_group(hearth)
    role = hearth.guild.role("Carers circle")
    hearth.guild.move_role(role, hearth.guild.bot_role.position + 1)
    await hearth.fake.flush()
    reply = await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    assert "couldn't give you the role" in reply.content
    assert await rows(hearth, "SELECT COUNT(*) FROM group_members") == [(0,)]
    await hearth.wait_for(
        lambda: any("above my highest role" in m.content for m in hearth.messages(hearth.log))
    )


async def test_a_failed_promotion_keeps_the_member_first_in_line(hearth: Harness) -> None:
    await configure(hearth)
    await create_group(hearth, capacity=1)
    await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    await hearth.slash(hearth.supporter, hearth.channel, "group join", name="Carers circle")
    await hearth.slash(hearth.owner, hearth.channel, "group join", name="Carers circle")
    hearth.guild.set_bot_permissions(DEFAULT_BOT & ~Perm.MANAGE_ROLES)
    await hearth.fake.flush()
    left = await hearth.slash(hearth.member, hearth.channel, "group leave", name="Carers circle")
    assert "You've left" in left.content and "coordinators have been told" in left.content
    assert await rows(hearth, "SELECT COUNT(*) FROM group_members") == [(0,)]
    assert await rows(hearth, "SELECT user_id FROM group_waitlist ORDER BY position") == [
        (hearth.supporter.id,),
        (hearth.owner.id,),
    ]
    assert dms_saying(hearth, hearth.supporter, "a place opened") == []
    assert any("Manage Roles" in m.content for m in hearth.messages(hearth.log))

    hearth.guild.set_bot_permissions(DEFAULT_BOT)
    await hearth.fake.flush()
    # Once fixed, the next change (here a capacity edit) fills the place in order.
    await hearth.slash(
        hearth.coordinator, hearth.channel, "group edit", name="Carers circle", capacity=1
    )
    assert "Carers circle" in hearth.role_names(hearth.supporter)
    assert "Carers circle" not in hearth.role_names(hearth.owner)


async def test_someone_who_left_while_the_bot_was_away_is_skipped(hearth: Harness) -> None:
    await create_group(hearth, capacity=1)
    await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    await hearth.slash(hearth.supporter, hearth.channel, "group join", name="Carers circle")
    await hearth.slash(hearth.owner, hearth.channel, "group join", name="Carers circle")
    await hearth.stop()
    hearth.guild.members.pop(hearth.supporter.id)  # gone while Hearth was offline: no event
    await hearth.start()
    await hearth.slash(hearth.member, hearth.channel, "group leave", name="Carers circle")
    assert "Carers circle" in hearth.role_names(hearth.owner)
    assert await rows(hearth, "SELECT user_id FROM group_members") == [(hearth.owner.id,)]
    assert await rows(hearth, "SELECT COUNT(*) FROM group_waitlist") == [(0,)]
