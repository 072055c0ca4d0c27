"""Check-in schedules: parsing, exactly-once claiming, the grace window and DST."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot import i18n
from bot.clock import FakeClock
from bot.db import Database, Tx, to_ts
from bot.errors import UserFacingError
from bot.services.checkin_due import CheckinSource
from bot.services.checkin_schedules import AlreadyStopped, CheckinSchedules
from bot.services.checkins import (
    Occurrence,
    describe_days,
    describe_when,
    parse_days,
    parse_time,
)
from bot.services.settings import SettingsService
from tests.harness import ErrorWatch

GUILD = 1
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))  # Monday


@pytest.fixture
def schedules(db: Database, clock: FakeClock) -> CheckinSchedules:
    return CheckinSchedules(db, clock, SettingsService(db, clock, "Europe/London"))


class Recorder:
    def __init__(self, delay: float = 0) -> None:
        self.sent: list[Occurrence] = []
        self.delay = delay

    async def __call__(self, occurrence: Occurrence) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.sent.append(occurrence)


async def sent_at(
    schedules: CheckinSchedules, clock: FakeClock, moment: datetime
) -> list[Occurrence]:
    """Jump the clock to `moment` and run the due check-ins once: what was sent."""
    sent = Recorder()
    clock.set(moment)
    await CheckinSource(schedules, sent).run_due(clock.now())
    return sent.sent


async def sent_stepping(
    schedules: CheckinSchedules, clock: FakeClock, until: datetime, step: timedelta
) -> list[Occurrence]:
    """Move the clock on by `step` until `until`, running the due check-ins after each step (as
    the dispatcher would): everything that was sent."""
    sent = Recorder()
    source = CheckinSource(schedules, sent)
    while clock.now() < until:
        clock.advance(step)
        await source.run_due(clock.now())
    return sent.sent


def test_day_names_parse_and_describe() -> None:
    assert parse_days("mon,wed,fri") == 0b10101
    assert parse_days("Monday Wednesday") == 0b101
    assert parse_days("weekdays") == 0b11111
    assert parse_days("daily") == 0b1111111
    assert describe_days(parse_days("sat, sun")) == "Weekends"
    assert describe_days(0b10101) == "Mon, Wed, Fri"
    for bad in ("fry", "", "mon,funday"):
        with pytest.raises(UserFacingError):
            parse_days(bad)


@pytest.mark.parametrize(
    ("typed", "mask"),
    [
        ("lunes, miércoles, viernes", 0b10101),
        ("lun,mié,vie", 0b10101),
        ("LUNES Miercoles VIERNES", 0b10101),
        ("mie y vie", 0b10100),
        ("martes mar", 0b10),
        ("jueves,jue", 0b1000),
        ("sábado, sabado, SÁB, sab", 0b100000),
        ("domingo dom", 0b1000000),
        ("MON, Tue, wednesday, THURS, fri, Sat, sunday", 0b1111111),
        ("lunes, tue, miércoles", 0b111),  # the languages mix: one parser for every reader
        ("laborables", 0b11111),
        ("Finde", 0b1100000),
        ("diario", 0b1111111),
    ],
)
def test_day_names_are_accepted_in_english_and_spanish_in_any_case(typed: str, mask: int) -> None:
    assert parse_days(typed) == mask


def test_days_are_described_in_the_readers_language() -> None:
    spanish = i18n.texts("es")
    assert describe_days(0b10101, spanish) == "lun, mié, vie"
    assert describe_days(0b1100000, spanish) == "Fines de semana"
    assert describe_days(0b1000010, spanish) == "mar, dom"
    assert describe_days(0b1111111, spanish) == "Todos los días"
    assert describe_days(0b0011111, spanish) == "Entre semana"
    assert describe_when(0b1000001, "19:00", "Europe/Madrid", spanish) == (
        "lun, dom a las 19:00 (Europe/Madrid)"
    )
    assert describe_when(0b1000001, "19:00", "Europe/London") == "Mon, Sun at 19:00 (Europe/London)"
    # A day nobody's language knows is refused in the reader's language, naming what was typed.
    with pytest.raises(UserFacingError) as refused:
        parse_days("lunes, funday")
    assert refused.value.text(spanish).startswith("No reconozco el día “funday”.")
    assert "I don't recognise the day “funday”" in refused.value.message


def test_times_are_24_hour_and_valid() -> None:
    assert parse_time("19:00").hour == 19
    assert parse_time("7:05").minute == 5
    for bad in ("25:00", "19:60", "7pm", "", "19"):
        with pytest.raises(UserFacingError):
            parse_time(bad)


@pytest.mark.parametrize(
    ("prompt", "days", "at", "zone", "message"),
    [
        ("", "mon", "19:00", None, "can't be empty"),
        ("x" * 1501, "mon", "19:00", None, "1500"),
        ("How are you?", "fry", "19:00", None, "fry"),
        ("How are you?", "mon", "25:00", None, "25:00"),
        ("How are you?", "mon", "19:00", "Mars/Olympus", "Mars/Olympus"),
    ],
)
async def test_bad_input_creates_nothing(
    schedules: CheckinSchedules, prompt: str, days: str, at: str, zone: str | None, message: str
) -> None:
    with pytest.raises(UserFacingError, match=message):
        await schedules.add_group(GUILD, 9, 100, prompt, days, at, zone, False)
    assert await schedules.list_group(GUILD) == []


async def test_default_zone_is_the_servers(schedules: CheckinSchedules) -> None:
    created = await schedules.add_group(GUILD, 9, 100, "Hi", "mon", "19:00", None, False)
    assert created.zone == "Europe/London"
    assert created.next_due_at == datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
    assert await CheckinSource(schedules, Recorder()).next_due() == created.next_due_at


async def test_each_occurrence_is_claimed_once_and_recorded(
    schedules: CheckinSchedules, clock: FakeClock
) -> None:
    created = await schedules.add_group(GUILD, 9, 100, "Hi", "mon,wed", "19:00", None, False)
    sent = Recorder()
    source = CheckinSource(schedules, sent)
    await source.run_due(clock.now())
    assert sent.sent == []
    clock.set(datetime(2026, 3, 2, 19, 0, 5, tzinfo=UTC))
    await source.run_due(clock.now())
    await source.run_due(clock.now())
    assert [o.schedule_id for o in sent.sent] == [created.id]
    assert sent.sent[0].due_at == datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
    after = await schedules.get_group(GUILD, created.id)
    assert after.last_occurrence_at == datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
    assert after.next_due_at == datetime(2026, 3, 4, 19, 0, tzinfo=UTC)


async def test_two_concurrent_runs_over_1000_schedules_send_each_once(
    db: Database, schedules: CheckinSchedules, clock: FakeClock
) -> None:
    due = to_ts(clock.now())

    def _fill(tx: Tx) -> None:
        tx.executemany(
            "INSERT INTO checkin_schedules (guild_id, kind, user_id, days, local_time, zone, "
            "next_due_at, created_by, created_at) VALUES (?, 'personal', ?, 127, '12:00', "
            "'UTC', ?, ?, ?)",
            [(GUILD + i % 7, 1000 + i, due, 1000 + i, due) for i in range(1000)],
        )

    await db.write(_fill)
    sent = Recorder(delay=0.0001)
    first, second = CheckinSource(schedules, sent), CheckinSource(schedules, sent)
    await asyncio.gather(first.run_due(clock.now()), second.run_due(clock.now()))
    counts = Counter(occurrence.user_id for occurrence in sent.sent)
    assert len(counts) == 1000
    assert set(counts.values()) == {1}
    assert await db.fetchval("SELECT COUNT(*) FROM checkin_occurrences") == 1000
    assert await CheckinSource(schedules, Recorder()).next_due() == clock.now() + timedelta(days=1)


async def test_one_failing_target_never_stops_the_rest(
    schedules: CheckinSchedules, clock: FakeClock, error_watch: ErrorWatch
) -> None:
    for channel in (100, 101, 102):
        await schedules.add_group(GUILD, 9, channel, "Hi", "mon", "19:00", None, False)
    delivered: list[int | None] = []

    async def flaky(occurrence: Occurrence) -> None:
        if occurrence.channel_id == 101:
            raise RuntimeError("boom")
        delivered.append(occurrence.channel_id)

    clock.set(datetime(2026, 3, 2, 19, 1, tzinfo=UTC))
    error_watch.expect("check-in occurrence .* could not be delivered")
    await CheckinSource(schedules, flaky).run_due(clock.now())
    assert sorted(c for c in delivered if c is not None) == [100, 102]
    assert None not in delivered


async def test_missed_beyond_grace_is_skipped_not_burst(
    schedules: CheckinSchedules, clock: FakeClock
) -> None:
    created = await schedules.add_group(GUILD, 9, 100, "Hi", "daily", "19:00", None, False)
    # Down from Monday noon until Thursday 21:00: three occurrences missed, the last by 2 hours.
    assert await sent_at(schedules, clock, datetime(2026, 3, 5, 21, 0, tzinfo=UTC)) == []
    after = await schedules.get_group(GUILD, created.id)
    assert after.next_due_at == datetime(2026, 3, 6, 19, 0, tzinfo=UTC)


async def test_missed_within_grace_is_sent_late_once(
    schedules: CheckinSchedules, clock: FakeClock
) -> None:
    await schedules.add_group(GUILD, 9, 100, "Hi", "daily", "19:00", None, False)
    sent = Recorder()
    clock.set(datetime(2026, 3, 5, 19, 40, tzinfo=UTC))  # three missed; the latest 40 min ago
    source = CheckinSource(schedules, sent)
    await source.run_due(clock.now())
    await source.run_due(clock.now())
    assert [o.due_at for o in sent.sent] == [datetime(2026, 3, 5, 19, 0, tzinfo=UTC)]


async def test_a_dst_week_keeps_19_00_london(schedules: CheckinSchedules, clock: FakeClock) -> None:
    clock.set(datetime(2026, 3, 25, 12, 0, tzinfo=UTC))
    await schedules.add_group(GUILD, 9, 100, "Hi", "daily", "19:00", "Europe/London", False)
    until = datetime(2026, 4, 1, 23, 0, tzinfo=UTC)
    sent = await sent_stepping(schedules, clock, until, timedelta(minutes=30))
    local = [o.due_at.astimezone(LONDON) for o in sent]
    assert len(local) == 8  # 25 March … 1 April, once a day
    assert {moment.hour for moment in local} == {19}
    assert sent[3].due_at == datetime(2026, 3, 28, 19, 0, tzinfo=UTC)  # GMT
    assert sent[4].due_at == datetime(2026, 3, 29, 18, 0, tzinfo=UTC)  # BST


async def test_the_autumn_change_keeps_local_time(
    schedules: CheckinSchedules, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 10, 23, 12, 0, tzinfo=UTC))
    await schedules.add_group(GUILD, 9, 100, "Hi", "sat,sun,mon", "08:30", "Europe/London", False)
    until = datetime(2026, 10, 27, 12, 0, tzinfo=UTC)
    sent = await sent_stepping(schedules, clock, until, timedelta(minutes=15))
    assert [o.due_at for o in sent] == [
        datetime(2026, 10, 24, 7, 30, tzinfo=UTC),  # BST
        datetime(2026, 10, 25, 8, 30, tzinfo=UTC),  # GMT from 02:00 that day
        datetime(2026, 10, 26, 8, 30, tzinfo=UTC),
    ]


async def test_pause_and_resume_skip_what_was_missed(
    schedules: CheckinSchedules, clock: FakeClock
) -> None:
    created = await schedules.add_group(GUILD, 9, 100, "Hi", "daily", "19:00", None, False)
    await schedules.pause_group(GUILD, created.id)
    with pytest.raises(UserFacingError, match="already paused"):
        await schedules.pause_group(GUILD, created.id)
    assert await CheckinSource(schedules, Recorder()).next_due() is None
    assert await sent_at(schedules, clock, datetime(2026, 3, 4, 19, 5, tzinfo=UTC)) == []
    resumed = await schedules.resume_group(GUILD, created.id)
    assert resumed.next_due_at == datetime(2026, 3, 5, 19, 0, tzinfo=UTC)
    with pytest.raises(UserFacingError, match="isn't paused"):
        await schedules.resume_group(GUILD, created.id)


async def test_schedules_belong_to_their_server(schedules: CheckinSchedules) -> None:
    created = await schedules.add_group(GUILD, 9, 100, "Hi", "daily", "19:00", None, False)
    with pytest.raises(UserFacingError):
        await schedules.pause_group(GUILD + 1, created.id)
    with pytest.raises(UserFacingError):
        await schedules.remove_group(GUILD + 1, created.id)
    assert len(await schedules.list_group(GUILD)) == 1


async def test_personal_snooze_resumes_by_itself(
    schedules: CheckinSchedules, clock: FakeClock
) -> None:
    mask, local, zone = await schedules.validate_personal(GUILD, "daily", "08:00", "UTC")
    await schedules.personal_on(GUILD, 5, mask, local, zone)
    snoozed = await schedules.personal_snooze(GUILD, 5, 3)
    assert snoozed.snoozed_until == clock.now() + timedelta(days=3)
    assert snoozed.next_due_at == datetime(2026, 3, 6, 8, 0, tzinfo=UTC)
    again = await schedules.personal_on(GUILD, 5, mask, local, zone)  # upsert, not a duplicate
    assert again.id == snoozed.id and again.snoozed_until is None
    assert await schedules.personal_off(GUILD, 5)
    with pytest.raises(UserFacingError, match="aren't switched on"):
        await schedules.personal_snooze(GUILD, 5, 3)


async def test_an_unusable_row_is_paused_not_retried_forever(
    db: Database, schedules: CheckinSchedules, clock: FakeClock
) -> None:
    created = await schedules.add_group(GUILD, 9, 100, "Hi", "daily", "19:00", None, False)
    await db.execute("UPDATE checkin_schedules SET zone = 'Gone/Zone' WHERE id = ?", (created.id,))
    clock.set(datetime(2026, 3, 2, 19, 1, tzinfo=UTC))
    await CheckinSource(schedules, Recorder()).run_due(clock.now())
    assert (await schedules.get_group(GUILD, created.id)).paused


def test_a_stored_pause_reason_is_shown_in_the_readers_language() -> None:
    refusal = AlreadyStopped("you left the server")
    assert refusal.message == (
        "Your personal check-ins are already stopped (you left the server). "
        "`/checkin me on` restarts them."
    )
    assert refusal.text(i18n.texts("es")) == (
        "Tus seguimientos personales ya están detenidos (saliste del servidor). "
        "`/seguimiento personal activar` los reanuda."
    )
