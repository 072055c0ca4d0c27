"""Group sessions and members' data: /mydata, the operational export, and retention."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services.data import declared
from bot.services.mydata import MyDataService
from tests.harness import Harness, bot_of
from tests.helpers import (
    add_session,
    going_to,
    join_group,
    member_going,
    run_at,
    session_ids,
    session_rows,
    session_service,
    set_up_sessions,
)


async def test_mydata_shows_and_deletes_answers_and_export_counts_only(hearth: Harness) -> None:
    session_id = await member_going(hearth)
    shown = await hearth.slash(hearth.member, hearth.channel, "mydata show")
    assert "answers to group sessions" in shown.content, shown.content
    assert declared().tables["session_rsvps"].export == "counts"
    assert declared().tables["group_sessions"].export == "rows"
    report = await MyDataService(bot_of(hearth).db, hearth.clock).delete(
        hearth.guild.id, hearth.member.id
    )
    assert report.total >= 1
    assert await going_to(hearth, session_id) == []


async def test_retention_forgets_answers_to_long_past_sessions_only(hearth: Harness) -> None:
    await set_up_sessions(hearth)
    await add_session(hearth)  # Tue 3 March
    await add_session(hearth, start="2026-05-26 19:00")
    await join_group(hearth, hearth.member)
    old, recent = await session_ids(hearth)
    for session_id in (old, recent):
        await session_service(hearth).answer(hearth.guild.id, session_id, hearth.member.id, True)
    # Kept 90 days by default: on 3 June the March session's answers go, May's stay.
    await run_at(hearth, datetime(2026, 6, 3, 12, 0, tzinfo=UTC))
    assert await going_to(hearth, old) == [] and await going_to(hearth, recent) == [
        hearth.member.id
    ]
    assert len(await session_rows(hearth)) == 2  # the sessions themselves stay, with no names
