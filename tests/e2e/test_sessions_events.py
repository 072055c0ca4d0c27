"""Sessions as Discord Scheduled Events through the fake: created, moved and cancelled with the
session; refused without Manage Events (the session stays, the fix is named); forgotten when
deleted by hand; Discord's "Interested" counting as Going."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.fakediscord import DEFAULT_BOT, Perm
from tests.fakediscord.models import VOICE
from tests.harness import Harness
from tests.helpers import (
    TUE_19,
    add_session,
    join_group,
    move_session,
    rows,
    session_ids,
    session_rows,
    session_service,
    set_up_sessions,
)

GOING = "SELECT user_id FROM session_rsvps WHERE going = 1"


async def settle(hearth: Harness, sql: str, expected: list[tuple[object, ...]]) -> None:
    """Wait for a gateway event's effect in the store, which wakes no fake-side wait: each
    flush lets the bot take the events already sent to it and its handlers run."""
    for _ in range(100):
        if await rows(hearth, sql) == expected:
            return
        await hearth.fake.flush()
    assert await rows(hearth, sql) == expected


def events(hearth: Harness) -> list[object]:
    return list(hearth.fake.scheduled_events(hearth.guild))


async def event_ids(hearth: Harness) -> list[int | None]:
    return [r[0] for r in await rows(hearth, "SELECT event_id FROM group_sessions ORDER BY id")]


async def test_the_event_follows_the_session_add_move_cancel(hearth: Harness) -> None:
    await set_up_sessions(hearth, create_channel=True)
    reply = await add_session(hearth)
    assert "Manage Events" not in reply.content, reply.content
    [event] = hearth.fake.scheduled_events(hearth.guild)
    assert event.name == "Carers circle" and event.entity_type == 3
    assert event.scheduled_start_time == TUE_19 and event.location == "#carers-circle"
    assert event.scheduled_end_time is not None
    assert (event.scheduled_end_time - event.scheduled_start_time).total_seconds() == 90 * 60
    assert await event_ids(hearth) == [event.id]
    [session_id] = await session_ids(hearth)
    await move_session(hearth, session_id)
    assert event.scheduled_start_time == datetime(2026, 3, 4, 18, 0, tzinfo=UTC)
    await hearth.slash(
        hearth.coordinator, hearth.channel, "group sessions cancel", session=str(session_id)
    )
    assert event.status == 4


async def test_without_manage_events_the_session_exists_and_the_fix_is_named(
    hearth: Harness,
) -> None:
    await set_up_sessions(hearth)
    hearth.guild.set_bot_permissions(DEFAULT_BOT & ~Perm.MANAGE_EVENTS & ~Perm.CREATE_EVENTS)
    reply = await add_session(hearth)
    assert reply.ephemeral and "Planned a session" in reply.content
    assert "**Manage Events**" in reply.content and "Server Settings → Roles" in reply.content
    assert events(hearth) == [] and await event_ids(hearth) == [None]
    checked = await hearth.slash(hearth.coordinator, hearth.channel, "admin permissions")
    assert "Manage Events" in checked.text and "Events list" in checked.text, checked.text


async def test_an_event_deleted_by_hand_is_forgotten_not_recreated(hearth: Harness) -> None:
    await set_up_sessions(hearth)
    await add_session(hearth)
    [event] = hearth.fake.scheduled_events(hearth.guild)
    hearth.fake.delete_event_by_hand(hearth.guild, event)
    await hearth.fake.flush()
    await settle(hearth, "SELECT event_id FROM group_sessions", [(0,)])
    [session_id] = await session_ids(hearth)
    await move_session(hearth, session_id)
    assert events(hearth) == [] and len(await session_rows(hearth)) == 1


async def test_interested_on_the_event_counts_as_going_for_members_only(hearth: Harness) -> None:
    await set_up_sessions(hearth)
    await add_session(hearth)
    await join_group(hearth, hearth.member)
    [event] = hearth.fake.scheduled_events(hearth.guild)
    [session_id] = await session_ids(hearth)
    member_user = hearth.fake.users[hearth.member.id]
    hearth.fake.mark_interested(hearth.guild, event, member_user)
    hearth.fake.mark_interested(hearth.guild, event, hearth.fake.users[hearth.supporter.id])
    await settle(hearth, GOING, [(hearth.member.id,)])
    assert await rows(hearth, "SELECT user_id FROM session_rsvps") == [(hearth.member.id,)]
    hearth.fake.mark_interested(hearth.guild, event, member_user, on=False)
    await settle(hearth, GOING, [])
    # Going in Hearth is kept on Hearth's side (a bot cannot mark anyone interested).
    await session_service(hearth).answer(hearth.guild.id, session_id, hearth.member.id, True)
    assert hearth.member.id not in event.interested


async def test_a_linked_voice_channel_holds_the_event(hearth: Harness) -> None:
    await set_up_sessions(hearth)
    room = hearth.guild.add_channel("Carers room", VOICE)
    await hearth.fake.flush()
    reply = await hearth.slash(
        hearth.coordinator,
        hearth.channel,
        "group sessions room",
        group="Carers circle",
        channel=room,
    )
    assert f"<#{room.id}>" in reply.content, reply.content
    await add_session(hearth)
    [event] = hearth.fake.scheduled_events(hearth.guild)
    assert event.entity_type == 2 and event.channel_id == room.id and event.location is None
