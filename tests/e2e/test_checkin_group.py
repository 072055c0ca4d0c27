"""Group check-in prompts end to end: posting, answering, summaries, failures, restarts, DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.services.checkin_schedules import CheckinSchedules
from tests.fakediscord.options import ignore_declared_limits
from tests.harness import Harness, bot_of
from tests.helpers import dict_rows, new_channel
from tests.pseudo_locale import given

MONDAY_19 = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # the harness clock starts Monday 12:00 UTC


async def _alerts_on(hearth: Harness) -> None:
    await bot_of(hearth).settings.update(hearth.guild.id, None, alerts_channel_id=hearth.alerts.id)


async def _add(hearth: Harness, **options: Any) -> Any:
    values = {
        "channel": hearth.general,
        "prompt": "How has your week been?",
        "days": "mon,wed,fri",
        "time": "19:00",
        "timezone": "UTC",
    } | options
    return await hearth.slash(hearth.coordinator, hearth.channel, "checkin schedule add", **values)


async def _fire(hearth: Harness, moment: datetime) -> None:
    hearth.clock.set(moment)
    await bot_of(hearth).dispatcher.run_due()


def _prompts(hearth: Harness, channel: Any = None) -> list[Any]:
    return [m for m in hearth.messages(channel or hearth.general) if "Check-in" in m.content]


async def test_a_prompt_is_posted_once_with_mood_buttons_and_a_thread(hearth: Harness) -> None:
    reply = await _add(hearth, thread=True)
    assert reply.ephemeral and "Check-in **#1** is set" in reply.text
    assert f"<t:{int(MONDAY_19.timestamp())}:F>" in reply.text
    audit = await dict_rows(
        hearth, "SELECT action FROM audit_log WHERE guild_id = ?", hearth.guild.id
    )
    assert [row["action"] for row in audit] == ["checkin.schedule_added"]

    await _fire(hearth, MONDAY_19 - timedelta(seconds=1))
    assert _prompts(hearth) == []
    await _fire(hearth, MONDAY_19 + timedelta(seconds=2))
    await _fire(hearth, MONDAY_19 + timedelta(minutes=1))  # a second wake-up sends nothing
    [prompt] = _prompts(hearth)
    assert "How has your week been?" in prompt.content
    assert [c.label for c in prompt.components] == ["1", "2", "3", "4", "5", "Add a private note"]
    [thread] = hearth.fake.threads(hearth.general)
    assert thread.id == prompt.message_id and "Check-in replies" in thread.name
    bot = bot_of(hearth)
    schedules = CheckinSchedules(bot.db, bot.clock, bot.settings)
    [schedule] = await schedules.list_group(hearth.guild.id)
    assert schedule.last_occurrence_at == MONDAY_19
    assert schedule.next_due_at == MONDAY_19 + timedelta(days=2)


async def test_answering_with_buttons_and_a_private_note(hearth: Harness) -> None:
    await bot_of(hearth).settings.update(hearth.guild.id, None, log_channel_id=hearth.log.id)
    await _add(hearth)
    await _fire(hearth, MONDAY_19)
    [prompt] = _prompts(hearth)

    first = await hearth.click(hearth.member, prompt, label="3")
    assert first.ephemeral and "recorded **3**" in first.text
    again = await hearth.click(hearth.member, prompt, label="4")
    assert again.ephemeral and "updated your answer from 3 to **4**" in again.text

    opened = await hearth.click(hearth.member, prompt, label="Add a private note")
    assert opened.modal is not None and opened.modal.title == "A private note"
    saved = await hearth.submit_modal(
        hearth.member, opened, {"Only you will ever see this": "Slept badly, walk helped"}
    )
    assert saved.ephemeral and "private note is saved" in saved.text
    reopened = await hearth.click(hearth.member, prompt, label="Add a private note")
    assert reopened.modal is not None
    assert reopened.modal.fields[0].value == "Slept badly, walk helped"

    [row] = await dict_rows(hearth, "SELECT user_id, mood, note FROM checkin_answers")
    assert (row["user_id"], row["mood"], row["note"]) == (
        hearth.member.id,
        4,
        "Slept badly, walk helped",
    )
    # Nothing about the answer appeared anywhere public.
    assert all("Slept" not in m.text for m in hearth.messages(hearth.general))
    logged = hearth.messages(hearth.log)
    assert logged, "the log channel holds the schedule's audit post, so the check below can fail"
    assert all("Slept" not in m.text for m in logged)


async def test_summary_shows_counts_and_moods_only_from_five_answers(hearth: Harness) -> None:
    await _add(hearth, days="mon,wed")
    await _fire(hearth, MONDAY_19)
    people = [hearth.guild.add_member(f"p{i}") for i in range(5)]
    [first] = _prompts(hearth)
    for person, mood in zip(people[:4], ("1", "2", "2", "5"), strict=True):
        await hearth.click(person, first, label=mood)
    await _fire(hearth, MONDAY_19 + timedelta(days=2))
    second = _prompts(hearth)[-1]
    for person, mood in zip(people, ("3", "3", "4", "5", "5"), strict=True):
        await hearth.click(person, second, label=mood)
    await hearth.click(people[0], second, label="4")  # an update, not a sixth answer

    summary = await hearth.slash(hearth.coordinator, hearth.channel, "checkin summary", id=1)
    lines = summary.text.splitlines()
    wednesday = next(line for line in lines if "5 answered" in line)
    assert "1: 0 · 2: 0 · 3: 1 · 4: 2 · 5: 2" in wednesday
    monday = next(line for line in lines if "4 answered" in line)
    assert "too few answers to show" in monday
    assert all(p.name not in summary.text and str(p.id) not in summary.text for p in people)

    refused = await hearth.slash(hearth.member, hearth.channel, "checkin summary", id=1)
    assert "Only coordinators" in refused.text
    choices = await hearth.autocomplete(
        hearth.coordinator, hearth.channel, "checkin summary", "id", "week"
    )
    assert choices == [{"name": "#1 #general, Mon, Wed 19:00: How has your week been?", "value": 1}]


async def test_bad_input_explains_and_creates_nothing(hearth: Harness) -> None:
    cases = [
        ({"timezone": "Mars/Olympus"}, "isn't a time zone"),
        ({"days": "mon,fry"}, "“fry”"),
        ({"time": "25:00"}, "“25:00” isn't a time of day"),
        ({"prompt": "   "}, "can't be empty"),
        ({"prompt": "x" * 1501}, "keep it to 1500"),
    ]
    # Discord's client stops a 1,501-character prompt (the option declares the limit); a client
    # that ignores the declaration still gets the service's refusal.
    ignore_declared_limits(hearth.fake, "checkin schedule add", "prompt")
    for options, message in cases:
        reply = await _add(hearth, **options)
        assert reply.ephemeral and message in reply.text, reply.text
    assert await dict_rows(hearth, "SELECT id FROM checkin_schedules") == []
    member = await hearth.slash(
        hearth.member,
        hearth.channel,
        "checkin schedule add",
        channel=hearth.general,
        prompt="Hi",
        days="mon",
        time="19:00",
    )
    assert "Only coordinators" in member.text
    assert await dict_rows(hearth, "SELECT id FROM checkin_schedules") == []


async def test_list_pause_resume_remove_and_test(hearth: Harness) -> None:
    await _add(hearth, days="daily")
    listed = await hearth.slash(hearth.coordinator, hearth.channel, "checkin schedule list")
    assert "#1" in listed.text and "Every day at 19:00 (UTC)" in listed.text

    paused = await hearth.slash(hearth.coordinator, hearth.channel, "checkin schedule pause", id=1)
    assert "is paused" in paused.text
    await _fire(hearth, MONDAY_19 + timedelta(minutes=5))
    assert _prompts(hearth) == []
    resumed = await hearth.slash(
        hearth.coordinator, hearth.channel, "checkin schedule resume", id=1
    )
    assert "running again" in resumed.text
    await _fire(hearth, MONDAY_19 + timedelta(days=1, minutes=1))
    assert len(_prompts(hearth)) == 1  # Tuesday's; Monday's was missed while paused

    tested = await hearth.slash(hearth.coordinator, hearth.channel, "checkin schedule test", id=1)
    assert "Posted check-in #1 once" in tested.text
    assert "Check-in (test)" in _prompts(hearth)[-1].content
    [schedule] = await dict_rows(hearth, "SELECT next_due_at FROM checkin_schedules")
    assert schedule["next_due_at"] == int((MONDAY_19 + timedelta(days=2)).timestamp())

    removed = await hearth.slash(
        hearth.coordinator, hearth.channel, "checkin schedule remove", id=1
    )
    assert "is removed" in removed.text
    missing = await hearth.slash(hearth.coordinator, hearth.channel, "checkin schedule pause", id=1)
    assert "no check-in schedule #1" in missing.text
    actions = await dict_rows(hearth, "SELECT action FROM audit_log ORDER BY id")
    assert [row["action"] for row in actions] == [
        "checkin.schedule_added",
        "checkin.schedule_paused",
        "checkin.schedule_resumed",
        "checkin.schedule_tested",
        "checkin.schedule_removed",
    ]


async def test_a_deleted_channel_pauses_its_schedule_and_alerts_coordinators(
    hearth: Harness,
) -> None:
    await _alerts_on(hearth)
    doomed = await new_channel(hearth, "doomed")
    await _add(hearth, channel=doomed, days="daily")
    await _add(hearth, days="daily")
    hearth.guild.delete_channel(doomed)
    await hearth.fake.flush()
    await _fire(hearth, MONDAY_19)
    assert len(_prompts(hearth)) == 1  # the other schedule still posted
    await hearth.wait_for(lambda: len(hearth.messages(hearth.alerts)) == 1)
    alert = hearth.messages(hearth.alerts)[0].text
    assert "Check-in #1" in alert and "paused" in alert
    rows = await dict_rows(hearth, "SELECT id, paused FROM checkin_schedules ORDER BY id")
    assert [(r["id"], r["paused"]) for r in rows] == [(1, 1), (2, 0)]


async def test_restart_neither_duplicates_nor_loses_occurrences(hearth: Harness) -> None:
    await _add(hearth, days="daily")
    await _fire(hearth, MONDAY_19)
    await hearth.restart()
    await bot_of(hearth).dispatcher.run_due()
    [monday] = _prompts(hearth)
    answered = await hearth.click(hearth.member, monday, label="2")  # buttons survive restarts
    assert "recorded **2**" in answered.text

    await hearth.stop()
    hearth.clock.set(MONDAY_19 + timedelta(days=1, minutes=30))  # down over Tuesday 19:00
    await hearth.start()
    await bot_of(hearth).dispatcher.run_due()
    await bot_of(hearth).dispatcher.run_due()
    assert len(_prompts(hearth)) == 2  # Tuesday's, sent late once (within the grace window)


async def test_missed_beyond_the_grace_window_is_skipped(hearth: Harness) -> None:
    await bot_of(hearth).settings.update(hearth.guild.id, None, checkin_grace_minutes=30)
    await _add(hearth, days="daily")
    await hearth.stop()
    hearth.clock.set(MONDAY_19 + timedelta(days=2, minutes=45))  # three missed, latest 45 min ago
    await hearth.start()
    await bot_of(hearth).dispatcher.run_due()
    assert _prompts(hearth) == []
    [schedule] = await dict_rows(hearth, "SELECT next_due_at FROM checkin_schedules")
    assert schedule["next_due_at"] == int((MONDAY_19 + timedelta(days=3)).timestamp())


async def test_a_dst_week_posts_at_19_00_london_every_day(hearth: Harness) -> None:
    await bot_of(hearth).settings.update(hearth.guild.id, None, timezone="Europe/London")
    hearth.clock.set(datetime(2026, 3, 25, 12, 0, tzinfo=UTC))
    await _add(hearth, days="daily", timezone=None)
    moment = hearth.clock.now()
    while moment < datetime(2026, 4, 1, 22, 0, tzinfo=UTC):
        moment += timedelta(hours=1)
        await _fire(hearth, moment)
    rows = await dict_rows(hearth, "SELECT due_at FROM checkin_occurrences ORDER BY due_at")
    hours_utc = [datetime.fromtimestamp(r["due_at"], UTC).hour for r in rows]
    assert hours_utc == [19, 19, 19, 19, 18, 18, 18, 18]  # GMT until 29 March, then BST
    assert len(_prompts(hearth)) == 8


@pytest.mark.parametrize("answer", ["Yes, please", "No, thank you"])
async def test_a_low_answer_offers_support_and_only_yes_sends_anything(
    hearth: Harness, answer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int, str]] = []

    async def request_support(guild_id: int, user_id: int, source: str) -> str:
        calls.append((guild_id, user_id, source))
        return given("A supporter on duty will reach out to you soon.")

    monkeypatch.setattr(bot_of(hearth), "request_support", request_support)
    await _add(hearth, days="daily")
    await _fire(hearth, MONDAY_19)
    [prompt] = _prompts(hearth)
    low = await hearth.click(hearth.member, prompt, label="1")
    assert low.ephemeral
    assert "Would you like a peer supporter to reach out?" in low.text
    assert "contact your local emergency services; `/crisis` lists helplines" in low.text
    assert calls == []
    before = {c.id: len(hearth.messages(c)) for c in hearth.guild.text_channels}
    await hearth.click(hearth.member, low, label=answer)
    if answer == "Yes, please":
        await hearth.wait_for(lambda: "reach out to you soon" in low.text)
        assert calls == [(hearth.guild.id, hearth.member.id, "checkin")]
    else:
        await hearth.wait_for(lambda: "nothing has been sent" in low.text)
        assert calls == []
    assert low.components == []
    assert {c.id: len(hearth.messages(c)) for c in hearth.guild.text_channels} == before


async def test_about_counts_active_schedules(hearth: Harness) -> None:
    await _add(hearth)
    about = await hearth.slash(hearth.member, hearth.channel, "about")
    assert "1 check-in schedule" in about.text and "1 check-in schedules" not in about.text
