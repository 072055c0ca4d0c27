"""A facilitator for each session, through the rota: the slot supporters claim under the usual
rules, the alert when nobody has, and the automatic cancellation of a session that opens only
with a facilitator (on the injectable clock)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.harness import Harness
from tests.helpers import (
    TUE_19,
    add_session,
    claims_of,
    dms_saying,
    join_group,
    make_rota,
    move_session,
    rows,
    run_at,
    session_ids,
    session_service,
    set_up_sessions,
    train,
)


async def facilitated(hearth: Harness, **options: Any) -> int:
    """A group whose sessions get slots on "Hosts", one session Tuesday 19:00, a member going."""
    await set_up_sessions(hearth)
    await make_rota(hearth, "Hosts")
    reply = await hearth.slash(
        hearth.coordinator,
        hearth.channel,
        "group sessions facilitation",
        group="Carers circle",
        rota="Hosts",
        **options,
    )
    assert "gets a slot on **Hosts**" in reply.content, reply.content
    await add_session(hearth)
    await join_group(hearth, hearth.member)
    [session_id] = await session_ids(hearth)
    await session_service(hearth).answer(hearth.guild.id, session_id, hearth.member.id, True)
    return int(session_id)


async def slot_of(hearth: Harness, session_id: int) -> int:
    [(slot_id,)] = await rows(hearth, "SELECT slot_id FROM group_sessions WHERE id = ?", session_id)
    assert slot_id is not None
    return int(slot_id)


def alerts(hearth: Harness) -> list[str]:
    return [m.content for m in hearth.messages(hearth.alerts) if "no facilitator" in m.content]


async def test_the_session_slot_is_claimed_under_the_rota_rules(hearth: Harness) -> None:
    session_id = await facilitated(hearth)
    slot_id = await slot_of(hearth, session_id)
    [(starts, ends)] = await rows(hearth, "SELECT starts_at, ends_at FROM rota_slots")
    assert starts == int(TUE_19.timestamp()) and ends - starts == 90 * 60
    untrained = await hearth.slash(
        hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id)
    )
    assert await claims_of(hearth, slot_id) == [], untrained.content
    await train(hearth, hearth.supporter)
    await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id))
    assert await claims_of(hearth, slot_id) == [hearth.supporter.id]
    # The facilitator sees who is going; a coordinator sees the count only; a member neither.
    who = await hearth.slash(
        hearth.supporter, hearth.channel, "group sessions who", session=str(session_id)
    )
    assert f"<@{hearth.member.id}>" in who.text
    counted = await hearth.slash(
        hearth.coordinator, hearth.channel, "group sessions who", session=str(session_id)
    )
    assert "1 going" in counted.text and f"<@{hearth.member.id}>" not in counted.text
    refused = await hearth.slash(
        hearth.member, hearth.channel, "group sessions who", session=str(session_id)
    )
    assert "Only the session's facilitator" in refused.text


async def test_coordinators_are_alerted_once_when_nobody_has_claimed(hearth: Harness) -> None:
    await facilitated(hearth, alert_hours=12)
    await run_at(hearth, TUE_19 - timedelta(hours=12, minutes=1))
    assert alerts(hearth) == []
    await run_at(hearth, TUE_19 - timedelta(hours=12))
    await hearth.wait_for(lambda: len(alerts(hearth)) == 1)
    await run_at(hearth, TUE_19 - timedelta(hours=6))
    assert len(alerts(hearth)) == 1


async def test_no_alert_once_a_supporter_claimed(hearth: Harness) -> None:
    session_id = await facilitated(hearth, alert_hours=12)
    await train(hearth, hearth.supporter)
    await hearth.slash(
        hearth.supporter, hearth.channel, "rota claim", slot=str(await slot_of(hearth, session_id))
    )
    await run_at(hearth, TUE_19 - timedelta(hours=12))
    await run_at(hearth, TUE_19 - timedelta(hours=1))
    assert alerts(hearth) == []


async def test_a_session_that_opens_only_with_a_facilitator_is_cancelled_kindly(
    hearth: Harness,
) -> None:
    session_id = await facilitated(hearth, opens_only_with_facilitator=True)
    [event] = hearth.fake.scheduled_events(hearth.guild)
    await run_at(hearth, TUE_19 - timedelta(minutes=1))
    assert (await rows(hearth, "SELECT cancelled_at FROM group_sessions")) == [(None,)]
    await run_at(hearth, TUE_19)
    await hearth.wait_for(lambda: len(dms_saying(hearth, hearth.member, "cancelled")) == 1)
    [text] = dms_saying(hearth, hearth.member, "cancelled")
    assert "facilitator" in text and "/support" in text and "/crisis" in text
    [(cancelled, reason)] = await rows(
        hearth, "SELECT cancelled_at, reason FROM group_sessions WHERE id = ?", session_id
    )
    assert cancelled is not None and "facilitator" in reason
    assert event.status == 4


async def test_a_claimed_session_opens_as_planned(hearth: Harness) -> None:
    session_id = await facilitated(hearth, opens_only_with_facilitator=True)
    await train(hearth, hearth.supporter)
    await hearth.slash(
        hearth.supporter, hearth.channel, "rota claim", slot=str(await slot_of(hearth, session_id))
    )
    await run_at(hearth, TUE_19)
    assert (await rows(hearth, "SELECT cancelled_at FROM group_sessions")) == [(None,)]
    assert dms_saying(hearth, hearth.member, "cancelled") == []


async def test_a_claimed_session_is_not_moved_behind_its_facilitator(hearth: Harness) -> None:
    session_id = await facilitated(hearth)
    slot_id = await slot_of(hearth, session_id)
    await train(hearth, hearth.supporter)
    await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id))
    reply = await move_session(hearth, session_id)
    assert "already facilitating" in reply.content and "Nothing was changed" in reply.content
    [(starts,)] = await rows(hearth, "SELECT starts_at FROM group_sessions")
    assert starts == int(TUE_19.timestamp())
    assert await claims_of(hearth, slot_id) == [hearth.supporter.id]
