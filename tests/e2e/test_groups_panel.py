"""The sign-up panel: buttons, the menu for many groups, live counts, restarts, deleted panels."""

from __future__ import annotations

import logging

import discord
import pytest

from tests.harness import Harness, bot_of
from tests.helpers import create_group, rows


async def post_panel(hearth: Harness) -> int:
    reply = await hearth.slash(
        hearth.coordinator, hearth.channel, "group panel", channel=hearth.general
    )
    assert reply.ephemeral and "Posted the sign-up panel" in reply.content
    panels = hearth.messages(hearth.general)
    assert len(panels) == 1
    return panels[0].message_id


async def test_panel_buttons_join_and_leave_and_counts_update_in_place(hearth: Harness) -> None:
    await create_group(hearth, capacity=1, meets="Tuesdays 19:00")
    await create_group(hearth, "Walking group")
    panel_id = await post_panel(hearth)
    panel = hearth.messages(hearth.general)[0]
    assert "1 place left (of 1)" in panel.text and "Tuesdays 19:00" in panel.text
    assert [c.label for c in panel.components] == [
        "Join Carers circle",
        "Leave Carers circle",
        "Join Walking group",
        "Leave Walking group",
    ]
    joined = await hearth.click(hearth.member, panel, label="Join Carers circle")
    assert joined.ephemeral and "You're in “Carers circle”" in joined.content
    assert "Carers circle" in hearth.role_names(hearth.member)
    await hearth.wait_for(lambda: "Full (1 place)" in panel.text, what="the panel to show it full")

    queued = await hearth.click(hearth.supporter, panel, label="Join Carers circle")
    assert "number **1** in line" in queued.content
    await hearth.wait_for(lambda: "1 on the waitlist" in panel.text)

    not_in = await hearth.click(hearth.owner, panel, label="Leave Walking group")
    assert not_in.ephemeral and "nothing to leave" in not_in.content
    left = await hearth.click(hearth.member, panel, label="Leave Carers circle")
    assert left.ephemeral and "You've left" in left.content
    await hearth.wait_for(lambda: "Carers circle" in hearth.role_names(hearth.supporter))
    await hearth.wait_for(lambda: "waitlist" not in panel.text)
    assert [m.message_id for m in hearth.messages(hearth.general)] == [panel_id]  # no announcements
    assert await rows(hearth, "SELECT channel_id FROM group_panels") == [(hearth.general.id,)]
    audit = await rows(hearth, "SELECT action FROM audit_log WHERE action = 'group.panel_posted'")
    assert audit == [("group.panel_posted",)]


async def test_panel_keeps_working_after_a_restart(hearth: Harness) -> None:
    await create_group(hearth, capacity=2)
    await post_panel(hearth)
    await hearth.restart()
    panel = hearth.messages(hearth.general)[0]
    joined = await hearth.click(hearth.member, panel, label="Join Carers circle")
    assert "You're in" in joined.content and "Carers circle" in hearth.role_names(hearth.member)
    await hearth.wait_for(lambda: "1 place left (of 2)" in panel.text)
    # New groups appear on the remembered panel after the restart too.
    await create_group(hearth, "Walking group")
    await hearth.wait_for(lambda: any(c.label == "Join Walking group" for c in panel.components))


async def test_many_groups_use_a_menu_then_private_join_and_leave(hearth: Harness) -> None:
    for n in range(6):
        await create_group(hearth, f"Group {n}", capacity=3)
    await post_panel(hearth)
    panel = hearth.messages(hearth.general)[0]
    assert [c.kind for c in panel.components] == ["select"]
    assert len(panel.components[0].options) == 6
    await hearth.restart()
    picked = await hearth.select(hearth.member, panel, ["Group 4"])
    assert picked.ephemeral and "Group 4" in picked.text and "3 places left" in picked.text
    joined = await hearth.click(hearth.member, picked, label="Join")
    assert joined.message_id == picked.message_id  # the private message is edited, not repeated
    await hearth.wait_for(lambda: "You're in “Group 4”" in joined.content)
    assert "Group 4" in hearth.role_names(hearth.member)
    await hearth.wait_for(lambda: "2 places left (of 3)" in panel.text)
    again = await hearth.select(hearth.member, panel, ["Group 4"])
    left = await hearth.click(hearth.member, again, label="Leave")
    await hearth.wait_for(lambda: "You've left “Group 4”" in left.content)
    assert "Group 4" not in hearth.role_names(hearth.member)


async def test_archived_groups_leave_the_panel_and_an_empty_panel_says_so(hearth: Harness) -> None:
    await create_group(hearth)
    await post_panel(hearth)
    panel = hearth.messages(hearth.general)[0]
    await hearth.slash(hearth.coordinator, hearth.channel, "group archive", name="Carers circle")
    await hearth.wait_for(lambda: "no open groups" in panel.text)
    assert panel.components == []


async def test_a_deleted_panel_is_forgotten_quietly(
    hearth: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await create_group(hearth)
    panel_id = await post_panel(hearth)
    channel = bot_of(hearth).get_channel(hearth.general.id)
    assert isinstance(channel, discord.TextChannel)
    await channel.get_partial_message(panel_id).delete()
    with caplog.at_level(logging.INFO, logger="cogs.groups"):
        await create_group(hearth, "Walking group")  # panels are refreshed before the reply
    assert "forgetting it" in caplog.text
    assert await rows(hearth, "SELECT COUNT(*) FROM group_panels") == [(0,)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
