"""`/group sessions` through the fake Discord: planning, answers, the last-place race,
reminders and notices through the outbox, and what /mydata and the export show."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.harness import Harness
from tests.helpers import (
    TUE_19,
    add_session,
    dms_saying,
    going_to,
    join_group,
    member_going,
    move_session,
    rows,
    run_at,
    session_ids,
    session_rows,
    session_service,
    sessions_list,
    set_up_sessions,
)


async def test_add_weekly_sessions_keep_local_time_across_dst(hearth: Harness) -> None:
    await set_up_sessions(hearth)
    reply = await add_session(hearth, repeat_weeks=5)
    assert reply.ephemeral and "Planned 5 weekly sessions" in reply.content, reply.content
    found = await session_rows(hearth)
    # London moves to BST on 29 March: 19:00 local is 19:00 UTC, then 18:00 UTC.
    starts = [datetime.fromtimestamp(row[1], UTC).hour for row in found]
    assert starts == [19, 19, 19, 19, 18]
    assert all(row[2] - row[1] == 90 * 60 for row in found)
    assert len({row[5] for row in found}) == 1 and found[0][5] == found[0][0]


async def test_past_overlap_and_archived_are_refused_and_create_nothing(hearth: Harness) -> None:
    await set_up_sessions(hearth)
    past = await add_session(hearth, start="2026-03-01 19:00")
    assert "already passed" in past.content and await session_rows(hearth) == []
    bad = await add_session(hearth, duration="forever")
    assert "couldn't read" in bad.content and await session_rows(hearth) == []
    await add_session(hearth)
    overlap = await add_session(hearth, start="2026-03-03 20:00", repeat_weeks=3)
    assert "overlap" in overlap.content and "Nothing was changed" in overlap.content
    assert len(await session_rows(hearth)) == 1
    await hearth.slash(hearth.coordinator, hearth.channel, "group archive", name="Carers circle")
    archived = await add_session(hearth, start="2026-03-10 19:00")
    assert "archived" in archived.content and len(await session_rows(hearth)) == 1


async def test_members_answer_and_see_their_answer_and_the_count(hearth: Harness) -> None:
    await set_up_sessions(hearth)
    await add_session(hearth)
    await join_group(hearth, hearth.member)
    listing = await sessions_list(hearth, hearth.member)
    assert "0 going" in listing.content
    [session_id] = await session_ids(hearth)
    reply = await hearth.click(
        hearth.member, listing, custom_id=f"hearth:session:going:{session_id}"
    )
    assert reply.ephemeral and "You're **going**" in reply.content and "1 going" in reply.content
    assert await going_to(hearth, session_id) == [hearth.member.id]
    again = await sessions_list(hearth, hearth.member)
    assert "1 going · you're going" in again.content
    reply = await hearth.click(
        hearth.member, listing, custom_id=f"hearth:session:cant:{session_id}"
    )
    assert "can't make it" in reply.content and "0 going" in reply.content
    assert await going_to(hearth, session_id) == []
    # Someone outside the group is refused, and nothing is stored for them.
    theirs = await sessions_list(hearth, hearth.supporter)
    outsider = await hearth.click(
        hearth.supporter, theirs, custom_id=f"hearth:session:going:{session_id}"
    )
    assert "Only members of **Carers circle**" in outsider.content
    stored = await rows(hearth, "SELECT user_id FROM session_rsvps")
    assert stored == [(hearth.member.id,)]


async def test_buttons_work_after_a_restart(hearth: Harness) -> None:
    await set_up_sessions(hearth)
    await add_session(hearth)
    await join_group(hearth, hearth.member)
    listing = await sessions_list(hearth, hearth.member)
    await hearth.restart()
    [session_id] = await session_ids(hearth)
    reply = await hearth.click(
        hearth.member, listing, custom_id=f"hearth:session:going:{session_id}"
    )
    assert "You're **going**" in reply.content


async def test_twenty_members_pressing_going_for_the_last_place_one_wins(hearth: Harness) -> None:
    group_id = await set_up_sessions(hearth)
    await add_session(hearth)
    members = [hearth.guild.add_member(f"m{n}") for n in range(20)]
    await hearth.fake.flush()
    for member in members:
        await join_group(hearth, member)
    await hearth.slash(
        hearth.coordinator, hearth.channel, "group sessions places", group="Carers circle", places=1
    )
    assert (await rows(hearth, "SELECT session_places FROM groups WHERE id = ?", group_id)) == [
        (1,)
    ]
    listings = [await sessions_list(hearth, member) for member in members]
    [session_id] = await session_ids(hearth)
    custom_id = f"hearth:session:going:{session_id}"
    replies = await asyncio.gather(
        *(
            hearth.click(member, listing, custom_id=custom_id)
            for member, listing in zip(members, listings, strict=True)
        )
    )
    winners = [r for r in replies if "You're **going**" in r.content]
    refused = [r for r in replies if "places for this session are taken" in r.content]
    assert len(winners) == 1 and len(refused) == 19
    assert len(await going_to(hearth, session_id)) == 1


async def test_reminders_reach_the_people_going_exactly_once(hearth: Harness) -> None:
    await set_up_sessions(hearth)
    await add_session(hearth)
    quiet = hearth.guild.add_member("quiet")
    await hearth.fake.flush()
    for member in (hearth.member, quiet):
        await join_group(hearth, member)
    [session_id] = await session_ids(hearth)
    for member in (hearth.member, quiet):
        await session_service(hearth).answer(hearth.guild.id, session_id, member.id, True)
    off = await hearth.slash(quiet, hearth.channel, "group sessions reminders", on=False)
    assert "off" in off.content
    await run_at(hearth, TUE_19 - timedelta(hours=24, minutes=1))
    assert dms_saying(hearth, hearth.member, "Reminder") == []
    await run_at(hearth, TUE_19 - timedelta(hours=24))
    await hearth.wait_for(lambda: len(dms_saying(hearth, hearth.member, "Reminder")) == 1)
    await hearth.restart()
    await run_at(hearth, TUE_19 - timedelta(hours=23))
    await run_at(hearth, TUE_19 - timedelta(hours=1))
    await hearth.wait_for(lambda: len(dms_saying(hearth, hearth.member, "Reminder")) == 2)
    await run_at(hearth, TUE_19 - timedelta(minutes=30))
    assert len(dms_saying(hearth, hearth.member, "Reminder")) == 2
    assert f"<t:{int(TUE_19.timestamp())}:F>" in dms_saying(hearth, hearth.member, "Reminder")[0]
    assert dms_saying(hearth, quiet, "Reminder") == []


async def test_cancel_tells_everyone_going_once_and_holds_it_for_closed_dms(
    hearth: Harness,
) -> None:
    await set_up_sessions(hearth)
    await add_session(hearth, repeat_weeks=3)
    closed = hearth.guild.add_member("closed")
    await hearth.fake.flush()
    for member in (hearth.member, closed):
        await join_group(hearth, member)
    first, second, third = await session_ids(hearth)
    answers = session_service(hearth)
    for session_id in (first, second):
        for member in (hearth.member, closed):
            await answers.answer(hearth.guild.id, session_id, member.id, True)
    closed.dms_closed = True
    member_refused = await hearth.slash(
        hearth.member, hearth.channel, "group sessions cancel", session=str(second)
    )
    assert "Only coordinators" in member_refused.content
    reply = await hearth.slash(
        hearth.coordinator,
        hearth.channel,
        "group sessions cancel",
        session=f"#{second}",
        rest_of_series=True,
        reason="the room is closed",
    )
    assert "Cancelled 2 session(s)" in reply.content and "2 notice(s)" in reply.content
    await run_at(hearth, hearth.clock.now())
    await hearth.wait_for(lambda: len(dms_saying(hearth, hearth.member, "cancelled")) == 1)
    [text] = dms_saying(hearth, hearth.member, "cancelled")
    assert "the room is closed" in text and "/support" in text and "/crisis" in text
    found = {row[0]: row for row in await session_rows(hearth)}
    assert found[first][3] is None and found[second][3] is not None and found[third][3] is not None
    # The member with closed DMs sees it at their next command, once.
    later = await sessions_list(hearth, closed)
    await hearth.wait_for(lambda: any("cancelled" in m.content for m in later.followups))
    # No reminder for a cancelled session.
    await run_at(hearth, TUE_19 + timedelta(weeks=1) - timedelta(hours=1))
    assert dms_saying(hearth, hearth.member, "Reminder") == []


async def test_move_tells_the_people_going_and_moves_the_reminder(hearth: Harness) -> None:
    session_id = await member_going(hearth)
    reply = await move_session(hearth, session_id)
    assert "Moved 1 session(s)" in reply.content
    wed_18 = datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
    [row] = await session_rows(hearth)
    assert row[1] == int(wed_18.timestamp()) and row[2] - row[1] == 90 * 60
    await run_at(hearth, hearth.clock.now())
    await hearth.wait_for(lambda: len(dms_saying(hearth, hearth.member, "has moved")) == 1)
    assert f"<t:{int(wed_18.timestamp())}:F>" in dms_saying(hearth, hearth.member, "has moved")[0]
    await run_at(hearth, TUE_19 - timedelta(hours=24))  # the old time's reminder: gone
    assert dms_saying(hearth, hearth.member, "Reminder") == []
    await run_at(hearth, wed_18 - timedelta(hours=24))
    await hearth.wait_for(lambda: len(dms_saying(hearth, hearth.member, "Reminder")) == 1)
    assert f"<t:{int(wed_18.timestamp())}:F>" in dms_saying(hearth, hearth.member, "Reminder")[0]


async def test_about_counts_upcoming_sessions_and_help_lists_the_commands(hearth: Harness) -> None:
    await set_up_sessions(hearth)
    await add_session(hearth, repeat_weeks=3)
    about = await hearth.slash(hearth.member, hearth.channel, "about")
    assert "upcoming sessions" in about.text.lower() and "3" in about.text, about.text
    helped = await hearth.slash(hearth.member, hearth.channel, "help", command="group")
    assert "sessions list" in helped.text and "sessions reminders" in helped.text, helped.text


async def test_a_long_series_is_paged_with_buttons_on_every_page(hearth: Harness) -> None:
    await set_up_sessions(hearth)
    await add_session(hearth, repeat_weeks=25)
    await join_group(hearth, hearth.member)
    listing = await sessions_list(hearth, hearth.member)
    assert "(page 1 of 3)" in listing.content
    ids = await session_ids(hearth)
    page2 = await hearth.click(hearth.member, listing, label="Next →")
    assert f"#{ids[10]}" in page2.text and f"#{ids[9]}" not in page2.text
    reply = await hearth.click(hearth.member, page2, custom_id=f"hearth:session:going:{ids[10]}")
    assert "You're **going**" in reply.content


async def test_moving_the_rest_of_a_series_keeps_local_time_across_dst(hearth: Harness) -> None:
    await set_up_sessions(hearth)
    await add_session(hearth, repeat_weeks=6)  # Tuesdays 3 March to 7 April, 19:00 London
    ids = await session_ids(hearth)
    reply = await hearth.slash(
        hearth.coordinator,
        hearth.channel,
        "group sessions move",
        session=f"#{ids[2]}",
        start="2026-03-18 18:30",
        rest_of_series=True,
        reason="the room moved to Wednesdays",
    )
    assert "Moved 4 session(s)" in reply.content, reply.content
    found = await session_rows(hearth)
    local = [
        datetime.fromtimestamp(row[1], UTC).astimezone(ZoneInfo("Europe/London")) for row in found
    ]
    assert [(d.strftime("%a"), d.hour, d.minute) for d in local] == [
        ("Tue", 19, 0), ("Tue", 19, 0),
        ("Wed", 18, 30), ("Wed", 18, 30), ("Wed", 18, 30), ("Wed", 18, 30),
    ]  # fmt: skip
    assert all(row[2] - row[1] == 90 * 60 for row in found)
