"""The keyword watch: on (private signposts, no public trace), off, and with the intent missing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests.harness import Harness, bot_of
from tests.helpers import put_on_duty, watch_general

INTENT_ON = {"discord": {"message_content": True}}


async def set_up_watch(hearth: Harness, *, enabled: bool = True) -> str:
    """Watch #general for one phrase; returns what the coordinator saw on switching it on."""
    return (await watch_general(hearth, "Want To Disappear", enabled=enabled)).text


async def settle(hearth: Harness) -> None:
    """Let the bot handle every message event sent so far (a cheap round trip after it)."""
    await hearth.fake.flush()
    await hearth.slash(hearth.owner, hearth.log, "crisis")


class TestWithTheIntent:
    @pytest.fixture
    def hearth_config(self) -> dict[str, Any]:
        return INTENT_ON

    async def test_a_match_signposts_the_author_and_alerts_on_duty_privately(
        self, hearth: Harness
    ) -> None:
        switched = await set_up_watch(hearth)
        assert "The keyword watch is on" in switched and "can't work yet" not in switched
        await put_on_duty(hearth, hearth.supporter)
        message = await hearth.say(hearth.member, hearth.general, "i just want to disappear tbh")
        await hearth.wait_for(lambda: len(hearth.fake.dm_messages(hearth.supporter)) == 1)
        [note] = hearth.dms(hearth.member)
        assert "Samaritans" in note.content and "emergency services" in note.content
        assert "/support" in note.content
        [alert] = hearth.dms(hearth.supporter)
        assert f"/{hearth.general.id}/{message.id}" in alert.content
        assert "disappear" not in alert.content
        # Nothing public: only the member's own message is in the channel.
        assert [m.id for m in hearth.fake.channel_messages(hearth.general)] == [message.id]
        dumped = await bot_of(hearth).db.fetchall(
            "SELECT guild_id, user_id, last_at FROM crisis_watch_signposted"
        )
        assert [dict(r) for r in dumped] == [
            {
                "guild_id": hearth.guild.id,
                "user_id": hearth.member.id,
                "last_at": int(hearth.clock.now().timestamp()),
            }
        ]

    async def test_at_most_once_an_hour_per_member_and_nothing_for_other_text(
        self, hearth: Harness
    ) -> None:
        await set_up_watch(hearth)
        await put_on_duty(hearth, hearth.supporter)
        await hearth.say(hearth.member, hearth.general, "I want to disappear")
        await hearth.say(hearth.member, hearth.general, "want to disappear, really")
        await hearth.say(hearth.supporter, hearth.general, "what a lovely day")
        await hearth.say(hearth.supporter, hearth.general, "disappearing ink!")  # not whole words
        await hearth.wait_for(lambda: len(hearth.fake.dm_messages(hearth.supporter)) == 1)
        await settle(hearth)
        assert len(hearth.dms(hearth.member)) == 1
        assert len(hearth.dms(hearth.supporter)) == 1
        hearth.clock.advance(timedelta(hours=1))
        await hearth.say(hearth.member, hearth.general, "still want to disappear")
        await hearth.wait_for(lambda: len(hearth.fake.dm_messages(hearth.member)) == 2)

    async def test_closed_dms_hold_the_note_and_no_one_on_duty_alerts_coordinators(
        self, hearth: Harness
    ) -> None:
        await set_up_watch(hearth)
        hearth.member.dms_closed = True
        await hearth.say(hearth.member, hearth.general, "I want to disappear")
        await hearth.wait_for(lambda: len(hearth.fake.channel_messages(hearth.alerts)) == 1)
        assert "No supporter is on duty" in hearth.messages(hearth.alerts)[0].content
        reply = await hearth.slash(hearth.member, hearth.general, "crisis")
        held = await reply.followup(0)
        assert "Samaritans" in held.content

    async def test_off_or_unwatched_channel_reads_nothing(self, hearth: Harness) -> None:
        await set_up_watch(hearth, enabled=False)
        await hearth.say(hearth.member, hearth.general, "I want to disappear")
        await hearth.say(hearth.member, hearth.log, "I want to disappear")
        await settle(hearth)
        assert hearth.dms(hearth.member) == []
        assert hearth.messages(hearth.alerts) == []


async def test_without_the_intent_coordinators_are_told_and_nothing_arrives(
    hearth: Harness,
) -> None:
    switched = await set_up_watch(hearth)
    assert "can't work yet" in switched and "message_content = true" in switched
    listed = await hearth.slash(hearth.coordinator, hearth.general, "admin crisis list")
    assert "can't work yet" in listed.text
    await hearth.say(hearth.member, hearth.general, "I want to disappear")
    await settle(hearth)
    assert hearth.dms(hearth.member) == []
    assert hearth.messages(hearth.alerts) == []
