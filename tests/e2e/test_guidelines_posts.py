"""Posted copies: pinned, edited in place on a new version, re-posted on a schedule, still
working after a restart, and a deleted message, channel or permission never crashes anything."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from tests.fakediscord import FakeChannel, Overwrite, Perm
from tests.fakediscord.messages import delete_message
from tests.harness import Harness, bot_of
from tests.helpers import AGREE, dict_rows, new_channel, post, save, use_alerts_channel


def deny_bot(hearth: Harness, channel: FakeChannel, permissions: int) -> None:
    """A server admin takes permissions from Hearth's role in one channel."""
    role = hearth.guild.bot_role
    channel.overwrites[role.id] = Overwrite(role.id, 0, 0, permissions)
    hearth.guild.channel_updated(channel)


async def test_post_sends_the_embed_with_an_agree_button_and_pins_it(hearth: Harness) -> None:
    reply = await post(hearth, hearth.general)
    assert "no server guidelines yet" in reply.content
    assert hearth.fake.channel_messages(hearth.general) == []

    await save(hearth, "Be kind.")
    reply = await post(hearth, hearth.general)
    assert reply.ephemeral
    assert "Posted version 1 of the server guidelines" in reply.text and "pinned it" in reply.text
    [copy] = hearth.messages(hearth.general)
    assert copy.embeds[0]["description"] == "Be kind."
    assert "Version 1" in copy.embeds[0]["footer"]["text"]
    assert copy.button(AGREE).custom_id == "hearth:gl:agree:0"
    assert [m.id for m in hearth.fake.pins(hearth.general)] == [copy.message_id]
    stored = await dict_rows(hearth, "SELECT channel_id, message_id, version FROM guideline_posts")
    assert stored == [
        {"channel_id": hearth.general.id, "message_id": copy.message_id, "version": 1}
    ]
    actions = await dict_rows(hearth, "SELECT action FROM audit_log ORDER BY id")
    assert actions[-1] == {"action": "guidelines.posted"}

    agreed = await hearth.click(hearth.member, copy, label=AGREE)
    assert agreed.ephemeral and "accepted version 1" in agreed.content


async def test_posting_again_in_the_same_channel_replaces_the_pinned_copy(hearth: Harness) -> None:
    await save(hearth, "Be kind.")
    await post(hearth, hearth.general)
    reply = await post(hearth, hearth.general)
    assert "earlier copy there was unpinned" in reply.text
    old, new = hearth.messages(hearth.general)
    assert not old.pinned and new.pinned
    stored = await dict_rows(hearth, "SELECT message_id FROM guideline_posts")
    assert stored == [{"message_id": new.message_id}]


async def test_a_new_version_edits_every_posted_copy_in_place(hearth: Harness) -> None:
    welcome = await new_channel(hearth, "welcome")
    await save(hearth, "Version one")
    await post(hearth, hearth.general)
    await post(hearth, welcome)
    before = [m.message_id for m in hearth.messages(hearth.general) + hearth.messages(welcome)]

    reply = await save(hearth, "Version two")
    assert "Saved version 2" in reply.text and "Updated 2 posted copies" in reply.text
    copies = hearth.messages(hearth.general) + hearth.messages(welcome)
    assert [m.message_id for m in copies] == before  # edited, not re-sent
    for copy in copies:
        assert copy.embeds[0]["description"] == "Version two"
        assert "Version 2" in copy.embeds[0]["footer"]["text"]
        assert copy.pinned and copy.button(AGREE)
    stored = await dict_rows(hearth, "SELECT version FROM guideline_posts")
    assert stored == [{"version": 2}, {"version": 2}]
    agreed = await hearth.click(hearth.member, copies[0], label=AGREE)
    assert "accepted version 2" in agreed.content


async def test_a_deleted_copy_is_forgotten_quietly_and_logged(
    hearth: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await use_alerts_channel(hearth)
    await save(hearth, "Version one")
    await post(hearth, hearth.general)
    [copy] = hearth.fake.channel_messages(hearth.general)
    delete_message(hearth.fake, copy)
    await hearth.fake.flush()

    with caplog.at_level(logging.INFO, logger="cogs.guidelines"):
        reply = await save(hearth, "Version two")
    assert "Saved version 2" in reply.text and "couldn't be updated" not in reply.text
    assert await dict_rows(hearth, "SELECT * FROM guideline_posts") == []
    assert hearth.fake.channel_messages(hearth.alerts) == []
    assert any("was deleted; forgotten" in r.getMessage() for r in caplog.records)
    assert all(r.levelno == logging.INFO for r in caplog.records if "forgotten" in r.getMessage())


async def test_a_lost_permission_is_reported_to_coordinators_and_the_copy_kept(
    hearth: Harness,
) -> None:
    await use_alerts_channel(hearth)
    await save(hearth, "Version one")
    await post(hearth, hearth.general)
    deny_bot(hearth, hearth.general, Perm.VIEW_CHANNEL)
    await hearth.fake.flush()

    reply = await save(hearth, "Version two")
    assert "Saved version 2" in reply.text
    assert "1 posted copy couldn't be updated" in reply.text and "permission" in reply.text
    [alert] = hearth.messages(hearth.alerts)
    assert f"<#{hearth.general.id}>" in alert.content and "permission" in alert.content
    assert await dict_rows(hearth, "SELECT version FROM guideline_posts") == [{"version": 1}]


async def test_a_deleted_channel_is_reported_and_its_copy_forgotten(hearth: Harness) -> None:
    await use_alerts_channel(hearth)
    doomed = await new_channel(hearth, "doomed")
    await save(hearth, "Version one")
    await post(hearth, doomed)
    hearth.guild.delete_channel(doomed)
    await hearth.fake.flush()

    reply = await save(hearth, "Version two")
    assert "Saved version 2" in reply.text
    [alert] = hearth.messages(hearth.alerts)
    assert "the channel was deleted" in alert.content
    assert await dict_rows(hearth, "SELECT * FROM guideline_posts") == []


async def test_posting_without_permission_explains_and_stores_nothing(hearth: Harness) -> None:
    await save(hearth, "Be kind.")
    deny_bot(hearth, hearth.general, Perm.SEND_MESSAGES)
    await hearth.fake.flush()
    reply = await post(hearth, hearth.general)
    assert "I can't post in" in reply.text and "Nothing was posted" in reply.text
    assert await dict_rows(hearth, "SELECT * FROM guideline_posts") == []


async def test_posting_where_pinning_is_not_allowed_posts_and_says_so(hearth: Harness) -> None:
    await save(hearth, "Be kind.")
    deny_bot(hearth, hearth.general, Perm.PIN_MESSAGES | Perm.MANAGE_MESSAGES)
    await hearth.fake.flush()
    reply = await post(hearth, hearth.general)
    assert "Posted version 1" in reply.text and "couldn't pin it" in reply.text
    assert hearth.fake.pins(hearth.general) == []
    assert len(await dict_rows(hearth, "SELECT * FROM guideline_posts")) == 1


async def test_agree_on_a_posted_copy_still_works_after_a_restart(hearth: Harness) -> None:
    await save(hearth, "Be kind.")
    await post(hearth, hearth.general)
    await hearth.restart()
    [copy] = hearth.messages(hearth.general)
    agreed = await hearth.click(hearth.member, copy, label=AGREE)
    assert "accepted version 1" in agreed.content
    again = await hearth.click(hearth.member, copy, label=AGREE)
    assert "already accepted version 1" in again.content


async def test_reposting_posts_a_fresh_copy_once_per_occurrence_and_unpins_the_old(
    hearth: Harness,
) -> None:
    bot = bot_of(hearth)
    await save(hearth, "Be kind.")
    await post(hearth, hearth.general)
    reply = await hearth.slash(
        hearth.coordinator,
        hearth.channel,
        "guidelines repost start",
        channel=hearth.general,
        every_days=3,
    )
    [schedule] = await dict_rows(hearth, "SELECT next_due_at FROM guideline_reposts")
    assert f"<t:{schedule['next_due_at']}:F>" in reply.content
    start = hearth.clock.now()
    assert schedule["next_due_at"] == int((start + timedelta(days=3)).timestamp())

    hearth.clock.advance(timedelta(days=2, hours=23))
    await bot.dispatcher.run_due()
    assert len(hearth.messages(hearth.general)) == 1  # not due yet

    hearth.clock.advance(timedelta(hours=1))
    await bot.dispatcher.run_due()
    await bot.dispatcher.run_due()  # a second wake-up for the same occurrence posts nothing
    old, fresh = hearth.messages(hearth.general)
    assert not old.pinned and fresh.pinned
    assert fresh.embeds[0]["description"] == "Be kind."
    assert await dict_rows(hearth, "SELECT message_id FROM guideline_posts") == [
        {"message_id": fresh.message_id}
    ]
    [schedule] = await dict_rows(hearth, "SELECT next_due_at FROM guideline_reposts")
    assert schedule["next_due_at"] == int((start + timedelta(days=6)).timestamp())

    await hearth.restart()
    bot = bot_of(hearth)
    hearth.clock.advance(timedelta(days=3))
    await bot.dispatcher.run_due()
    assert len(hearth.messages(hearth.general)) == 3
    newest = hearth.messages(hearth.general)[-1]
    agreed = await hearth.click(hearth.member, newest, label=AGREE)
    assert "accepted version 1" in agreed.content

    stopped = await hearth.slash(
        hearth.coordinator, hearth.channel, "guidelines repost stop", channel=hearth.general
    )
    assert "Stopped re-posting" in stopped.content
    assert await dict_rows(hearth, "SELECT * FROM guideline_reposts") == []
    actions = await dict_rows(hearth, "SELECT action FROM audit_log WHERE action LIKE '%repost%'")
    assert actions == [
        {"action": "guidelines.repost_scheduled"},
        {"action": "guidelines.repost_stopped"},
    ]
    hearth.clock.advance(timedelta(days=30))
    await bot.dispatcher.run_due()
    assert len(hearth.messages(hearth.general)) == 3
    again = await hearth.slash(
        hearth.coordinator, hearth.channel, "guidelines repost stop", channel=hearth.general
    )
    assert "Nothing is being re-posted" in again.content


async def test_a_repost_into_a_deleted_channel_stops_and_tells_coordinators(
    hearth: Harness,
) -> None:
    await use_alerts_channel(hearth)
    doomed = await new_channel(hearth, "doomed")
    await save(hearth, "Be kind.")
    await hearth.slash(
        hearth.coordinator,
        hearth.channel,
        "guidelines repost start",
        channel=doomed,
        every_days=1,
    )
    hearth.guild.delete_channel(doomed)
    await hearth.fake.flush()
    hearth.clock.advance(timedelta(days=1))
    await bot_of(hearth).dispatcher.run_due()
    [alert] = hearth.messages(hearth.alerts)
    assert "stopped re-posting" in alert.content and "deleted" in alert.content
    assert await dict_rows(hearth, "SELECT * FROM guideline_reposts") == []


async def test_a_repost_without_permission_tells_coordinators_and_keeps_the_schedule(
    hearth: Harness,
) -> None:
    await use_alerts_channel(hearth)
    await save(hearth, "Be kind.")
    await hearth.slash(
        hearth.coordinator,
        hearth.channel,
        "guidelines repost start",
        channel=hearth.general,
        every_days=1,
    )
    deny_bot(hearth, hearth.general, Perm.SEND_MESSAGES)
    await hearth.fake.flush()
    hearth.clock.advance(timedelta(days=1))
    await bot_of(hearth).dispatcher.run_due()
    [alert] = hearth.messages(hearth.alerts)
    assert "Scheduled re-post" in alert.content and "I can't post in" in alert.content
    assert len(await dict_rows(hearth, "SELECT * FROM guideline_reposts")) == 1
    assert hearth.fake.channel_messages(hearth.general) == []
