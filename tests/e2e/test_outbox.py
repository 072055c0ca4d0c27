"""The outbox through the fake: failures classified (5xx retried with backoff, closed DMs held,
an unknown channel pauses its schedule), and start-up resuming what a dead process left, under
each kind's staleness rule."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import discord
import pytest

from bot.delivery import Outbox
from bot.outbox_kinds import DirectMessage, message_specs
from bot.services.outbox import LEASE, MAX_ATTEMPTS, OutboxSpec, backoff
from tests.harness import Harness, bot_of
from tests.helpers import new_channel
from tests.pseudo_locale import given

MESSAGES = "POST /channels/{channel_id}/messages"
MONDAY_19 = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def greeted(hearth: Harness) -> None:
    """Every test server's owner is greeted through the outbox first: let that finish, so the
    requests and rows below are the test's own."""
    await bot_of(hearth).dispatcher.run_due()
    await hearth.wait_for(lambda: len(hearth.dms(hearth.owner)) == 1, what="the greeting")


async def rows(hearth: Harness) -> list[Any]:
    """The outbox, but for the owner's greeting every test server starts with."""
    return await bot_of(hearth).db.fetchall(
        "SELECT * FROM outbox WHERE kind NOT LIKE 'greeting%' ORDER BY id"
    )


async def member_dm_posts(hearth: Harness) -> str:
    """The path of posts to the member's DM channel (not the owner's greeting, say)."""
    channel = await bot_of(hearth).create_dm(discord.Object(id=hearth.member.id))
    return f"^/channels/{channel.id}/messages$"


async def run_due(hearth: Harness, after: timedelta = timedelta(0)) -> None:
    hearth.clock.advance(after)
    await bot_of(hearth).dispatcher.run_due()
    await hearth.fake.flush()


async def test_a_server_error_is_retried_with_backoff_and_sent_once(hearth: Harness) -> None:
    bot = bot_of(hearth)
    hearth.fake.fail_next("POST", await member_dm_posts(hearth), status=503)
    assert not await bot.dm(hearth.guild.id, hearth.member.id, given("Your place is confirmed."))
    [row] = await rows(hearth)
    assert (row["status"], row["attempts"], row["error"]) == ("pending", 1, "503/0")
    await run_due(hearth, backoff(1) - timedelta(seconds=1))
    assert hearth.dms(hearth.member) == []  # not before its backoff
    await run_due(hearth, timedelta(seconds=1))
    [dm] = hearth.dms(hearth.member)
    assert dm.content == "Your place is confirmed."
    [row] = await rows(hearth)
    assert (row["status"], row["attempts"], row["message_id"]) == ("sent", 2, dm.message_id)
    await run_due(hearth, timedelta(hours=1))
    assert len(hearth.dms(hearth.member)) == 1


async def test_server_errors_are_given_up_after_bounded_tries_and_reported(
    hearth: Harness,
) -> None:
    hearth.expect_errors("failed 5 times .*given up")
    path = await member_dm_posts(hearth)
    hearth.fake.fail_next("POST", path, status=503, count=MAX_ATTEMPTS + 1)
    await bot_of(hearth).dm(hearth.guild.id, hearth.member.id, "Hello")
    for attempt in range(1, MAX_ATTEMPTS):
        await run_due(hearth, backoff(attempt))
    [row] = await rows(hearth)
    assert (row["status"], row["attempts"]) == ("failed", MAX_ATTEMPTS)
    assert row["error"] == "transient: 503/0" and row["payload"] == "{}"
    tried = hearth.fake.requests[MESSAGES]
    await run_due(hearth, timedelta(days=1))
    assert hearth.fake.requests[MESSAGES] == tried  # never retried forever
    assert hearth.dms(hearth.member) == []


async def test_closed_dms_hold_the_notice_once_and_are_not_retried(hearth: Harness) -> None:
    closed = hearth.guild.add_member("quinn", dms_closed=True)
    await hearth.fake.flush()
    assert not await bot_of(hearth).dm(hearth.guild.id, closed.id, given("A place opened for you."))
    [row] = await rows(hearth)
    assert (row["status"], row["error"]) == ("failed", "refused 403/50007")
    tried = hearth.fake.requests[MESSAGES]
    await run_due(hearth, timedelta(hours=2))
    assert hearth.fake.requests[MESSAGES] == tried
    assert await bot_of(hearth).notices.take(closed.id) == ["A place opened for you."]


async def test_an_unknown_channel_pauses_the_schedule_and_tells_coordinators(
    hearth: Harness,
) -> None:
    await bot_of(hearth).settings.update(hearth.guild.id, None, alerts_channel_id=hearth.alerts.id)
    doomed = await new_channel(hearth, "doomed")
    await hearth.slash(
        hearth.coordinator, hearth.channel, "checkin schedule add",
        channel=doomed, prompt="How are you?", days="daily", time="19:00", timezone="UTC",
    )  # fmt: skip
    # Deleted while Hearth was away: its cache still has the channel, Discord says 10003.
    hearth.guild.channels.pop(doomed.id)
    hearth.clock.set(MONDAY_19)
    await run_due(hearth)
    prompt = [row for row in await rows(hearth) if row["kind"] == "checkin.group"]
    assert [(r["status"], r["error"]) for r in prompt] == [("failed", "refused 404/10003")]
    [schedule] = await bot_of(hearth).db.fetchall("SELECT paused FROM checkin_schedules")
    assert schedule["paused"] == 1
    await hearth.wait_for(lambda: len(hearth.messages(hearth.alerts)) == 1)
    assert "paused" in hearth.messages(hearth.alerts)[0].text


async def test_start_up_resumes_a_dead_processs_items_and_drops_the_stale_ones(
    hearth: Harness,
) -> None:
    bot, now = bot_of(hearth), hearth.clock.now()
    group = await hearth.slash(
        hearth.coordinator, hearth.channel, "group create", name="Carers", description="Us"
    )
    assert "Carers" in group.text
    group_id = await bot.db.fetchval("SELECT id FROM groups")
    specs = [
        OutboxSpec(hearth.guild.id, "dm", now, user_id=hearth.member.id,
                   payload={"content": given("Still wanted")}),
        # A waitlist promotion for someone who is not (or no longer) in the group.
        OutboxSpec(hearth.guild.id, "group.promoted", now, user_id=hearth.supporter.id,
                   payload={"content": "You're in Carers", "group_id": group_id}),
        # A reminder whose shift starts before the bot is back.
        OutboxSpec(hearth.guild.id, "rota.reminder", now, user_id=hearth.supporter.id,
                   payload={"claim_id": 1, "hours": 1, "next_hours": None},
                   expires_at=now + timedelta(seconds=30)),
        # A check-in prompt whose grace window ends before the bot is back.
        OutboxSpec(hearth.guild.id, "checkin.group", now, channel_id=hearth.general.id,
                   payload={"occurrence_id": 1, "schedule_id": None, "prompt": "Hi"},
                   expires_at=now + timedelta(seconds=30)),
    ]  # fmt: skip
    await bot.outbox_store.enqueue(specs, now, lease_owner="a-process-that-died")
    await hearth.restart()
    await run_due(hearth)
    assert hearth.dms(hearth.member) == []  # the dead process's lease still holds
    await run_due(hearth, LEASE)
    assert [m.content for m in hearth.dms(hearth.member)] == ["Still wanted"]
    assert hearth.dms(hearth.supporter) == []
    assert [m for m in hearth.messages(hearth.general) if "Check-in" in m.content] == []
    outcome = [(r["kind"], r["status"], r["error"]) for r in await rows(hearth)]
    assert outcome == [
        ("dm", "sent", None),
        ("group.promoted", "dropped", "no longer wanted"),
        ("rota.reminder", "dropped", "expired"),
        ("checkin.group", "dropped", "expired"),
    ]


ITEMS = 150


async def test_concurrent_dispatch_runs_and_a_second_sender_send_each_item_once(
    hearth: Harness,
) -> None:
    """Exactly once comes from the database: three runs in this process and a second sender
    with its own lease owner (as another process sharing the database) drain one outbox.
    More items than the first claims of all four runs take together (4 × 20), so on either
    engine every sender is still claiming while the others send."""
    bot, now = bot_of(hearth), hearth.clock.now()
    specs = [
        spec
        for i in range(ITEMS)
        for spec in message_specs(
            hearth.guild.id, "dm", now, given(f"note {i}"), user_id=hearth.member.id
        )
    ]
    await bot.outbox_store.enqueue(specs, now)
    second = Outbox(bot, bot.outbox_store, bot.clock, owner="another-process", batch=5)
    second.register("dm", DirectMessage(bot))
    await asyncio.gather(
        second.run_due(now), bot.dispatcher.run_due(), bot.outbox.run_due(now),
        bot.outbox.run_due(now),
    )  # fmt: skip
    await hearth.fake.flush()
    received = Counter(m.content for m in hearth.dms(hearth.member))
    assert received == Counter({f"note {i}": 1 for i in range(ITEMS)})
    assert second.accepted > 0 and bot.outbox.accepted > 0  # both really sent some
    owners = await bot.db.fetchall("SELECT DISTINCT status FROM outbox")
    assert [row["status"] for row in owners] == ["sent"]


async def test_a_long_alert_or_dm_arrives_whole_in_several_messages(hearth: Harness) -> None:
    """Whatever grows with the server (the shifts a leaver freed, a list of helplines) must
    never lose its end to Discord's 2,000 characters: the outbox keeps one row per part."""
    bot = bot_of(hearth)
    await bot.settings.update(hearth.guild.id, None, alerts_channel_id=hearth.alerts.id)
    lines = [given(f"line {i}: " + "x" * 290) for i in range(20)]  # ~6,000 characters in all
    guild = bot.get_guild(hearth.guild.id)
    assert guild is not None
    assert await bot.alert(guild, "\n".join(lines))
    posts = hearth.messages(hearth.alerts)
    assert len(posts) == 4
    assert all(len(post.content) <= 2000 for post in posts)
    assert "\n".join(post.content for post in posts).split("\n") == lines
    assert await bot.dm(hearth.guild.id, hearth.member.id, "\n".join(lines))
    assert "\n".join(dm.content for dm in hearth.dms(hearth.member)).split("\n") == lines
    assert {row["status"] for row in await rows(hearth)} == {"sent"}
