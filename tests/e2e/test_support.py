"""`/support`: a private thread with the on-duty supporters, claim race, unclaimed alert, close."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.db import to_ts
from bot.services.crisis import CrisisService
from tests.fakediscord import FakeMember
from tests.harness import Harness, bot_of
from tests.helpers import add_support_channel, dict_rows, put_on_duty


async def requested(hearth: Harness, *on_duty: FakeMember) -> None:
    """A #support channel, these supporters (by default the standard one) on duty now, and the
    standard member's `/support` request made."""
    await add_support_channel(hearth)
    await put_on_duty(hearth, *(on_duty or (hearth.supporter,)))
    await hearth.slash(hearth.member, hearth.general, "support")


async def stored_requests(hearth: Harness) -> list[dict[str, object]]:
    """Every column of every request: a test checks that none of them holds the member's note."""
    return await dict_rows(hearth, "SELECT * FROM support_requests ORDER BY id")


async def test_request_with_supporters_on_duty_opens_a_private_thread_for_the_right_people(
    hearth: Harness,
) -> None:
    support = await add_support_channel(hearth)
    second = hearth.guild.add_member("sky", roles=[hearth.supporter_role])
    await put_on_duty(hearth, hearth.supporter, second)

    reply = await hearth.slash(hearth.member, hearth.general, "support", note="rough day, sorry")
    assert reply.ephemeral
    assert "private thread" in reply.text
    assert f"<@{hearth.supporter.id}>" in reply.text and f"<@{second.id}>" in reply.text
    assert "Someone will reply" in reply.text

    [thread] = hearth.fake.threads(support)
    assert thread.is_private_thread and not thread.invitable
    bot_user = bot_of(hearth).user
    assert bot_user is not None
    bot_id = bot_user.id
    expected = {
        hearth.member.id,
        hearth.supporter.id,
        second.id,
        hearth.coordinator.id,
        hearth.owner.id,
        bot_id,
    }
    assert thread.members == expected
    messages = hearth.messages(thread)
    ping = messages[0]
    assert hearth.supporter.id in ping.message.mention_ids and second.id in ping.message.mention_ids
    assert hearth.member.id not in ping.message.mention_ids
    assert ping.button("I'll take this") and ping.button("Close")
    assert "rough day, sorry" in messages[1].content
    # Nothing public: no message in #general or #support itself.
    assert hearth.fake.channel_messages(hearth.general) == []
    assert hearth.fake.channel_messages(support) == []

    [row] = await stored_requests(hearth)
    assert row["user_id"] == hearth.member.id and row["state"] == "open"
    assert row["thread_id"] == thread.id
    assert "rough day" not in " ".join(str(value) for value in row.values())


async def test_one_open_request_per_member_links_the_open_one(hearth: Harness) -> None:
    await requested(hearth)
    again = await hearth.slash(hearth.member, hearth.general, "support")
    assert "already have an open support request" in again.text
    [thread] = hearth.fake.threads()
    assert f"<#{thread.id}>" in again.text
    assert len(await stored_requests(hearth)) == 1


async def test_no_one_on_duty_says_so_with_the_next_shift_and_crisis_lines(
    hearth: Harness,
) -> None:
    await add_support_channel(hearth)
    await put_on_duty(hearth, hearth.supporter, starts_in=timedelta(hours=3))
    crisis = bot_of(hearth).service(CrisisService)
    await crisis.add(hearth.guild.id, hearth.coordinator.id, "Samaritans", "call 116 123", "", "")
    reply = await hearth.slash(hearth.member, hearth.general, "support")
    starts = to_ts(hearth.clock.now() + timedelta(hours=3))
    assert "no peer supporter is on duty right now" in reply.text
    assert f"<t:{starts}:F>" in reply.text
    assert "Samaritans" in reply.text and "emergency services" in reply.text
    [alert] = hearth.messages(hearth.alerts)
    assert f"<@{hearth.member.id}>" in alert.content and "no one is on duty" in alert.content
    [thread] = hearth.fake.threads()
    assert hearth.supporter.id not in thread.members  # not on duty yet
    assert {hearth.member.id, hearth.coordinator.id} <= thread.members


async def test_without_a_support_channel_the_member_is_pointed_to_setup_and_coordinators_told(
    hearth: Harness,
) -> None:
    await bot_of(hearth).settings.update(hearth.guild.id, None, alerts_channel_id=hearth.alerts.id)
    reply = await hearth.slash(hearth.member, hearth.general, "support")
    assert "/setup" in reply.text and "support channel" in reply.text
    [alert] = hearth.messages(hearth.alerts)
    assert f"<@{hearth.member.id}>" in alert.content
    assert await stored_requests(hearth) == []


async def test_without_thread_permission_the_on_duty_supporters_are_dmed(hearth: Harness) -> None:
    support = await add_support_channel(hearth, threads=False)
    await put_on_duty(hearth, hearth.supporter)
    reply = await hearth.slash(hearth.member, hearth.general, "support", note="please")
    assert "couldn't open a private thread" in reply.text
    assert f"<@{hearth.supporter.id}>" in reply.text
    assert hearth.fake.threads(support) == []
    [dm] = hearth.dms(hearth.supporter)
    assert f"<@{hearth.member.id}>" in dm.content and "please" in dm.content
    claimed = await hearth.click(hearth.supporter, dm, label="I'll take this")
    assert claimed.kind != "error"
    await hearth.wait_for(lambda: len(hearth.fake.dm_messages(hearth.member)) == 1)
    assert f"<@{hearth.supporter.id}>" in hearth.dms(hearth.member)[0].content
    [row] = await stored_requests(hearth)
    assert row["claimed_by"] == hearth.supporter.id and row["thread_id"] is None


async def test_claim_race_exactly_one_supporter_wins_and_the_other_is_told_who(
    hearth: Harness,
) -> None:
    second = hearth.guild.add_member("sky", roles=[hearth.supporter_role])
    await requested(hearth, hearth.supporter, second)
    [thread] = hearth.fake.threads()
    ping = hearth.messages(thread)[0]

    replies = await asyncio.gather(
        hearth.click(hearth.supporter, ping, label="I'll take this"),
        hearth.click(second, ping, label="I'll take this"),
    )
    [row] = await stored_requests(hearth)
    winner = row["claimed_by"]
    assert winner in {hearth.supporter.id, second.id}
    assert sorted(reply.kind for reply in replies) == ["message", "update"]
    texts = [
        " ".join(m.content for m in hearth.fake.ephemeral_messages(person))
        for person in (hearth.supporter, second)
    ]
    assert sum("already taken" in text for text in texts) == 1
    assert sum("It's yours" in text for text in texts) == 1
    assert any(f"<@{winner}> has already taken" in text for text in texts)
    await hearth.wait_for(
        lambda: any("is taking this" in m.content for m in hearth.messages(thread))
    )


async def test_the_member_cannot_claim_their_own_request(hearth: Harness) -> None:
    await requested(hearth)
    [thread] = hearth.fake.threads()
    reply = await hearth.click(hearth.member, hearth.messages(thread)[0], label="I'll take this")
    assert "Only peer supporters and coordinators" in reply.text
    [row] = await stored_requests(hearth)
    assert row["claimed_by"] is None


async def test_unclaimed_request_alerts_coordinators_once_after_the_configured_minutes(
    hearth: Harness,
) -> None:
    await requested(hearth)
    hearth.clock.advance(timedelta(minutes=14))
    await bot_of(hearth).dispatcher.run_due()
    assert hearth.messages(hearth.alerts) == []
    hearth.clock.advance(timedelta(minutes=1))
    await bot_of(hearth).dispatcher.run_due()
    await hearth.wait_for(lambda: len(hearth.fake.channel_messages(hearth.alerts)) == 1)
    assert "has not been taken for 15 minutes" in hearth.messages(hearth.alerts)[0].content
    hearth.clock.advance(timedelta(hours=1))
    await bot_of(hearth).dispatcher.run_due()
    assert len(hearth.messages(hearth.alerts)) == 1


async def test_claimed_request_cancels_the_alert_and_buttons_survive_a_restart(
    hearth: Harness,
) -> None:
    await requested(hearth)
    await hearth.restart()
    [thread] = hearth.fake.threads()
    await hearth.click(hearth.supporter, hearth.messages(thread)[0], label="I'll take this")
    assert await bot_of(hearth).timers.pending("support.unclaimed") == []
    hearth.clock.advance(timedelta(minutes=30))
    await bot_of(hearth).dispatcher.run_due()
    assert hearth.messages(hearth.alerts) == []


async def test_close_archives_and_locks_the_thread_and_allows_a_new_request(
    hearth: Harness,
) -> None:
    await requested(hearth)
    [thread] = hearth.fake.threads()
    outsider = hearth.guild.add_member("olly")
    assert outsider.id not in thread.members  # private: others can't even see the thread

    closed = await hearth.click(hearth.member, hearth.messages(thread)[0], label="Close")
    assert "Closed" in closed.text
    assert thread.archived and thread.locked
    [row] = await stored_requests(hearth)
    assert row["state"] == "closed" and row["closed_by"] == hearth.member.id
    assert row["closed_at"] == to_ts(hearth.clock.now())
    assert await bot_of(hearth).timers.pending("support.unclaimed") == []

    again = await hearth.slash(hearth.member, hearth.general, "support")
    assert "private thread" in again.text
    assert len(await stored_requests(hearth)) == 2


async def test_checkin_yes_opens_a_request(
    hearth: Harness,
) -> None:
    await add_support_channel(hearth)
    await put_on_duty(hearth, hearth.supporter)
    text = await bot_of(hearth).request_support(hearth.guild.id, hearth.member.id, "checkin")
    assert "private thread" in text
    [row] = await stored_requests(hearth)
    assert row["source"] == "checkin" and row["user_id"] == hearth.member.id
