"""Personal check-ins end to end: DMs, closed DMs, pausing, history with its chart, deleting."""

from __future__ import annotations

import struct
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.services.checkin_schedules import CheckinSchedules
from bot.services.checkins import Schedule
from tests.harness import Harness, bot_of

TUESDAY_8 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)  # the harness clock starts Monday 12:00 UTC


async def _on(hearth: Harness, person: Any = None, **options: Any) -> Any:
    values = {"days": "daily", "time": "08:00", "timezone": "UTC"} | options
    return await hearth.slash(person or hearth.member, hearth.channel, "checkin me on", **values)


async def _fire(hearth: Harness, moment: datetime) -> None:
    hearth.clock.set(moment)
    await bot_of(hearth).dispatcher.run_due()


def _checkins(hearth: Harness, person: Any = None) -> list[Any]:
    return [m for m in hearth.dms(person or hearth.member) if "How are you today?" in m.content]


async def _schedule(hearth: Harness) -> Schedule | None:
    """The member's personal check-in schedule, as the check-in service reads it."""
    bot = bot_of(hearth)
    schedules = CheckinSchedules(bot.db, bot.clock, bot.settings)
    return await schedules.personal(hearth.guild.id, hearth.member.id)


async def test_switching_on_sends_a_welcome_dm_then_daily_check_ins(hearth: Harness) -> None:
    reply = await _on(hearth)
    assert reply.ephemeral and "Personal check-ins are on: Every day at 08:00 (UTC)" in reply.text
    assert f"<t:{int(TUESDAY_8.timestamp())}:F>" in reply.text
    [welcome] = hearth.dms(hearth.member)
    assert "switched on personal check-ins" in welcome.content

    await _fire(hearth, TUESDAY_8 + timedelta(seconds=1))
    await _fire(hearth, TUESDAY_8 + timedelta(minutes=2))
    [dm] = _checkins(hearth)
    assert [c.label for c in dm.components] == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "Skip",
        "Add a private note",
    ]
    answered = await hearth.click(hearth.member, dm, label="4")
    assert answered.ephemeral and "recorded **4**" in answered.text
    opened = await hearth.click(hearth.member, dm, label="Add a private note")
    assert opened.modal is not None
    saved = await hearth.submit_modal(hearth.member, opened, {"Only you will ever see this": "ok"})
    assert "private note is saved" in saved.text
    skipped = await hearth.click(hearth.member, dm, label="Skip")
    assert "nothing recorded" in skipped.text
    [row] = await bot_of(hearth).db.fetchall("SELECT mood, note FROM checkin_answers")
    assert (row["mood"], row["note"]) == (4, "ok")

    await hearth.restart()  # DM buttons keep working after a restart
    again = await hearth.click(hearth.member, dm, label="5")
    assert "updated your answer from 4 to **5**" in again.text


async def test_closed_dms_refuse_to_switch_on(hearth: Harness) -> None:
    hearth.member.dms_closed = True
    reply = await _on(hearth)
    assert reply.ephemeral
    assert "couldn't send you a DM" in reply.text and "**not** switched on" in reply.text
    assert await _schedule(hearth) is None


async def test_bad_input_is_refused_before_any_dm(hearth: Harness) -> None:
    for options, message in [
        ({"days": "someday"}, "“someday”"),
        ({"time": "24:00"}, "isn't a time of day"),
        ({"timezone": "Nowhere/Town"}, "isn't a time zone"),
    ]:
        reply = await _on(hearth, **options)
        assert message in reply.text
    assert hearth.dms(hearth.member) == []
    assert await _schedule(hearth) is None


async def test_dms_closed_later_pause_and_the_member_is_told_next_time(hearth: Harness) -> None:
    await _on(hearth)
    other = hearth.guild.add_member("olive")
    await _on(hearth, other)
    hearth.member.dms_closed = True
    await _fire(hearth, TUESDAY_8)
    assert _checkins(hearth) == []
    assert len(_checkins(hearth, other)) == 1  # everyone else still gets theirs
    schedule = await _schedule(hearth)
    assert schedule is not None and schedule.paused
    assert schedule.paused_reason is not None and "closed" in schedule.paused_reason

    await _fire(hearth, TUESDAY_8 + timedelta(days=1))
    assert _checkins(hearth) == []
    hearth.member.dms_closed = False
    history = await hearth.slash(hearth.member, hearth.channel, "checkin history")
    notice = await history.followup(0)
    assert "paused your check-ins" in notice.text and notice.ephemeral


async def test_pause_for_days_then_resume_by_itself_and_off(hearth: Harness) -> None:
    await _on(hearth)
    paused = await hearth.slash(hearth.member, hearth.channel, "checkin me pause", days=3)
    assert "restart by themselves" in paused.text
    for day in range(4):
        await _fire(hearth, TUESDAY_8 + timedelta(days=day))
    assert len(_checkins(hearth)) == 1  # Tue, Wed, Thu skipped; Friday's arrives
    off = await hearth.slash(hearth.member, hearth.channel, "checkin me off")
    assert "Personal check-ins are off" in off.text
    await _fire(hearth, TUESDAY_8 + timedelta(days=4))
    assert len(_checkins(hearth)) == 1
    again = await hearth.slash(hearth.member, hearth.channel, "checkin me off")
    assert "weren't on" in again.text


async def test_a_member_who_leaves_is_paused(hearth: Harness) -> None:
    leaver = hearth.guild.add_member("lee")
    await _on(hearth, leaver)
    hearth.guild.remove_member(leaver)
    await hearth.fake.flush()
    await hearth.slash(hearth.member, hearth.channel, "about")  # the leave event was handled
    await _fire(hearth, TUESDAY_8)
    assert _checkins(hearth, leaver) == []
    row = await bot_of(hearth).db.fetchone(
        "SELECT paused, paused_reason FROM checkin_schedules WHERE user_id = ?", (leaver.id,)
    )
    assert row is not None
    assert (row["paused"], row["paused_reason"]) == (1, "you left the server")


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    idat = data.index(b"IDAT")
    (length,) = struct.unpack(">I", data[idat - 4 : idat])
    raw = zlib.decompress(data[idat + 4 : idat + 4 + length])
    assert len(raw) == height * (width * 3 + 1)
    return width, height


async def test_history_with_a_chart_then_delete_after_confirming(hearth: Harness) -> None:
    await _on(hearth)
    for day, mood in enumerate(("2", "3", "5")):
        await _fire(hearth, TUESDAY_8 + timedelta(days=day))
        await hearth.click(hearth.member, _checkins(hearth)[-1], label=mood)
    history = await hearth.slash(hearth.member, hearth.channel, "checkin history", days=7)
    assert history.ephemeral and "3 answers; average mood 3.3" in history.text
    chart = history.file("checkins.png")
    width, height = _png_size(chart.data)
    assert width >= 160 and height == 160

    empty = await hearth.slash(hearth.supporter, hearth.channel, "checkin history")
    assert "no check-in answers" in empty.text and empty.files == []

    asked = await hearth.slash(hearth.member, hearth.channel, "checkin delete")
    assert "all 3 of your check-in answers" in asked.text
    kept = await hearth.click(hearth.member, asked, label="Keep them")
    assert kept.kind == "update" and "nothing was deleted" in asked.text
    assert await bot_of(hearth).db.fetchval("SELECT COUNT(*) FROM checkin_answers") == 3

    asked = await hearth.slash(hearth.member, hearth.channel, "checkin delete")
    await hearth.click(hearth.member, asked, label="Delete everything")
    assert "deleted 3 check-in answers" in asked.text
    assert await bot_of(hearth).db.fetchval("SELECT COUNT(*) FROM checkin_answers") == 0
    assert await _schedule(hearth) is not None  # the schedule itself is unchanged


async def test_retention_deletes_old_answers_daily(hearth: Harness) -> None:
    await bot_of(hearth).settings.update(hearth.guild.id, None, retention_days=7)
    await _on(hearth)
    await _fire(hearth, TUESDAY_8)
    await hearth.click(hearth.member, _checkins(hearth)[-1], label="3")
    await _fire(hearth, TUESDAY_8 + timedelta(days=6, hours=1))
    assert await bot_of(hearth).db.fetchval("SELECT COUNT(*) FROM checkin_answers") == 1
    await _fire(hearth, TUESDAY_8 + timedelta(days=8, hours=1))
    assert await bot_of(hearth).db.fetchval("SELECT COUNT(*) FROM checkin_answers") == 0
    [timer] = await bot_of(hearth).timers.pending("checkin_retention")
    assert timer.due_at > hearth.clock.now()
