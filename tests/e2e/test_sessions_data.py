"""Group sessions and members' data: /mydata, the operational export, and retention."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services.export import EXPORT_POLICIES
from bot.services.mydata import MyDataService
from tests.e2e.test_sessions import add, bot_of, going, join, run_at, service, sessions, set_up
from tests.harness import Harness


async def test_mydata_shows_and_deletes_answers_and_export_counts_only(hearth: Harness) -> None:
    await set_up(hearth)
    await add(hearth)
    await join(hearth, hearth.member)
    [session_id] = [row[0] for row in await sessions(hearth)]
    await service(hearth).answer(hearth.guild.id, session_id, hearth.member.id, True)
    shown = await hearth.slash(hearth.member, hearth.channel, "mydata show")
    assert "answers to group sessions" in shown.content, shown.content
    assert EXPORT_POLICIES["session_rsvps"] == "counts"
    assert EXPORT_POLICIES["group_sessions"] == "rows"
    report = await MyDataService(bot_of(hearth).db, hearth.clock).delete(
        hearth.guild.id, hearth.member.id
    )
    assert report.total >= 1
    assert await going(hearth, session_id) == []


async def test_retention_forgets_answers_to_long_past_sessions_only(hearth: Harness) -> None:
    await set_up(hearth)
    await add(hearth)  # Tue 3 March
    await add(hearth, start="2026-05-26 19:00")
    await join(hearth, hearth.member)
    old, recent = [row[0] for row in await sessions(hearth)]
    for session_id in (old, recent):
        await service(hearth).answer(hearth.guild.id, session_id, hearth.member.id, True)
    # Kept 90 days by default: on 3 June the March session's answers go, May's stay.
    await run_at(hearth, datetime(2026, 6, 3, 12, 0, tzinfo=UTC))
    assert await going(hearth, old) == [] and await going(hearth, recent) == [hearth.member.id]
    assert len(await sessions(hearth)) == 2  # the sessions themselves stay, with no names
