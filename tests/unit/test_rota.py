"""The rota service without Discord: parsing, claim rules, races, on-duty, timers, .ics."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.db import Database
from bot.errors import UserFacingError
from bot.services import rota
from bot.services.rota.ics import fold, shifts_calendar
from bot.services.rota.parsing import (
    parse_duration,
    parse_expiry,
    parse_start,
    week_bounds,
    weekly_starts,
)
from bot.services.rota.reminders import (
    DEBRIEF,
    REMINDER,
    reminder_is_stale,
    schedule_claim_timers,
)
from bot.services.settings import GuildSettings
from bot.services.timers import TimerService
from tests.services import rota_service

LONDON = ZoneInfo("Europe/London")
GUILD = 1
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # Monday
SETTINGS = GuildSettings(timezone="Europe/London")


async def new_slots(
    db: Database, starts: list[datetime], *, needed: int = 1, length: timedelta = timedelta(hours=2)
) -> list[rota.Slot]:
    created = await rota_service(db, NOW).create_rota(
        GUILD, 99, f"Rota {len(starts)} {needed}", needed=needed
    )
    slots, _ = await rota_service(db, NOW).add_slots(created, 99, starts, length)
    return slots


async def trained(db: Database, *users: int) -> None:
    for user in users:
        await rota_service(db, NOW).grant_training(GUILD, user, 99, None)


def test_durations() -> None:
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("1h30m") == parse_duration("1h 30m") == timedelta(minutes=90)
    assert parse_duration("24h") == timedelta(hours=24)
    for bad in ("", "0h", "0m", "25h", "1441m", "2 hours please", "-1h", "h"):
        with pytest.raises(UserFacingError):
            parse_duration(bad)


def test_start_forms_and_refusals() -> None:
    assert parse_start("2026-03-03 19:00", LONDON, NOW) == (date(2026, 3, 3), time(19, 0))
    assert parse_start("mon 19:00", LONDON, NOW) == (date(2026, 3, 2), time(19, 0))  # tonight
    assert parse_start("Monday 09:00", LONDON, NOW) == (date(2026, 3, 9), time(9, 0))  # next week
    assert parse_start("fri 7:30", LONDON, NOW) == (date(2026, 3, 6), time(7, 30))
    for bad in ("2026-03-02 11:00", "2026-13-01 10:00", "someday 10:00", "tue 24:00", "19:00"):
        with pytest.raises(UserFacingError):
            parse_start(bad, LONDON, NOW)


def test_start_day_names_in_english_and_spanish_read_alike() -> None:
    """The same forms in every language: English and Spanish day names, any case, with or
    without accents; `YYYY-MM-DD HH:MM` as everywhere."""
    spanish = {
        "lunes": "monday", "martes": "tuesday", "miércoles": "wednesday",
        "miercoles": "wednesday", "jueves": "thursday", "viernes": "friday",
        "sábado": "saturday", "sabado": "saturday", "domingo": "sunday",
    }  # fmt: skip
    for word, english in spanish.items():
        expected = parse_start(f"{english} 20:00", LONDON, NOW)
        assert parse_start(f"{word} 20:00", LONDON, NOW) == expected
        assert parse_start(f"{word.upper()} 20:00", LONDON, NOW) == expected
        assert parse_start(f"{word.capitalize()} 20:00", LONDON, NOW) == expected
    assert parse_start("Lunes 19:00", LONDON, NOW) == (date(2026, 3, 2), time(19, 0))
    assert parse_start("MIÉRCOLES 9:00", LONDON, NOW) == (date(2026, 3, 4), time(9, 0))
    with pytest.raises(UserFacingError) as refused:
        parse_start("lundi 19:00", LONDON, NOW)
    assert refused.value.message.startswith("“lundi” isn't a day of the week.")


def test_weekly_starts_keep_local_time_across_dst_and_bounds() -> None:
    starts = weekly_starts(date(2026, 3, 24), time(19, 0), LONDON, 3)
    assert [s.astimezone(LONDON).time() for s in starts] == [time(19, 0)] * 3
    assert [s.hour for s in starts] == [19, 18, 18]  # UTC hour moves with BST from 29 March
    for weeks in (0, 53):
        with pytest.raises(UserFacingError):
            weekly_starts(date(2026, 3, 24), time(19, 0), LONDON, weeks)


def test_week_bounds_are_local_monday_to_monday() -> None:
    start, end = week_bounds(datetime(2026, 3, 29, 18, 0, tzinfo=UTC), LONDON)
    assert start == datetime(2026, 3, 23, 0, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)  # Monday 30 March 00:00 BST


def test_expiry_is_the_end_of_the_local_day() -> None:
    assert parse_expiry("2026-07-01", LONDON, NOW) == datetime(2026, 7, 1, 23, 0, tzinfo=UTC)
    with pytest.raises(UserFacingError):
        parse_expiry("2026-03-01", LONDON, NOW)
    with pytest.raises(UserFacingError):
        parse_expiry("tomorrow", LONDON, NOW)


async def test_thirty_concurrent_claims_for_the_last_place_have_one_winner(db: Database) -> None:
    (slot,) = await new_slots(db, [NOW + timedelta(days=1)], needed=3)
    users = list(range(100, 132))
    await trained(db, *users)
    for user in users[:2]:
        await rota_service(db, NOW).claim_slot(SETTINGS, GUILD, slot.id, user, is_supporter=True)

    async def attempt(user: int) -> str:
        try:
            await rota_service(db, NOW).claim_slot(
                SETTINGS, GUILD, slot.id, user, is_supporter=True
            )
        except UserFacingError as exc:
            return exc.message
        return "won"

    results = await asyncio.gather(*(attempt(user) for user in users[2:]))
    assert results.count("won") == 1
    # A loser hears "just taken" if it saw a free place before trying, "already full" if the
    # winner had committed before it looked; either way, never a second winner.
    assert all(
        r == rota.LAST_PLACE_TAKEN or r.startswith("That shift already has all the supporters")
        for r in results
        if r != "won"
    )
    assert await db.fetchval("SELECT COUNT(*) FROM rota_claims WHERE slot_id = ?", (slot.id,)) == 3


async def test_a_claim_that_saw_a_free_place_and_lost_it_hears_someone_just_took_it(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race, made deterministic: the loser reads a free place, the winner commits, then the
    loser writes. The e2e race can't promise this interleaving, so the message is proved here."""
    (slot,) = await new_slots(db, [NOW + timedelta(days=1)], needed=1)
    await trained(db, 100, 101)
    real_write = db.write
    queued, go = asyncio.Event(), asyncio.Event()

    async def write_after_the_winner(fn: object) -> object:
        queued.set()
        await go.wait()
        return await real_write(fn)  # type: ignore[arg-type]

    monkeypatch.setattr(db, "write", write_after_the_winner)
    loser = asyncio.create_task(
        rota_service(db, NOW).claim_slot(SETTINGS, GUILD, slot.id, 101, is_supporter=True)
    )
    await queued.wait()  # it has seen the free place and is about to write
    monkeypatch.undo()
    await rota_service(db, NOW).claim_slot(SETTINGS, GUILD, slot.id, 100, is_supporter=True)
    go.set()
    with pytest.raises(UserFacingError) as lost:
        await loser
    assert lost.value.message == rota.LAST_PLACE_TAKEN
    claimers = await db.fetchall("SELECT user_id FROM rota_claims WHERE slot_id = ?", (slot.id,))
    assert [r["user_id"] for r in claimers] == [100]


async def test_concurrent_swap_takers_only_one_gets_the_shift(db: Database) -> None:
    (slot,) = await new_slots(db, [NOW + timedelta(days=2)])
    await trained(db, 1, *range(10, 30))
    await rota_service(db, NOW).claim_slot(SETTINGS, GUILD, slot.id, 1, is_supporter=True)
    await rota_service(db, NOW).offer_swap(GUILD, slot.id, 1)

    async def take(user: int) -> bool:
        try:
            await rota_service(db, NOW).take_swap(SETTINGS, GUILD, slot.id, user, is_supporter=True)
        except UserFacingError:
            return False
        return True

    results = await asyncio.gather(*(take(user) for user in range(10, 30)))
    assert results.count(True) == 1
    rows = await db.fetchall("SELECT user_id, swap_offered_at FROM rota_claims")
    assert len(rows) == 1 and rows[0]["user_id"] != 1 and rows[0]["swap_offered_at"] is None


async def test_rest_and_weekly_limits_count_across_rotas(db: Database) -> None:
    base = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    first, near = await new_slots(db, [base, base + timedelta(hours=9)])
    (other_rota_near,) = await new_slots(db, [base + timedelta(hours=3)], needed=2)
    await trained(db, 5)
    await rota_service(db, NOW).claim_slot(SETTINGS, GUILD, first.id, 5, is_supporter=True)
    with pytest.raises(UserFacingError, match="8 hours' rest"):
        await rota_service(db, NOW).claim_slot(SETTINGS, GUILD, near.id, 5, is_supporter=True)
    relaxed = SETTINGS.model_copy(update={"min_rest_hours": 0, "max_shifts_per_week": 2})
    await rota_service(db, NOW).claim_slot(relaxed, GUILD, other_rota_near.id, 5, is_supporter=True)
    with pytest.raises(UserFacingError, match="2 shifts that week"):
        await rota_service(db, NOW).claim_slot(relaxed, GUILD, near.id, 5, is_supporter=True)


async def test_on_duty_and_next_shift_start(db: Database) -> None:
    start = NOW + timedelta(hours=1)
    now_slot, later_slot, empty_slot = await new_slots(
        db, [start, start + timedelta(days=1), start + timedelta(hours=12)], needed=2
    )
    await trained(db, 7, 8)
    for user in (7, 8):
        await rota_service(db, NOW).claim_slot(
            SETTINGS, GUILD, now_slot.id, user, is_supporter=True
        )
    await rota_service(db, NOW).claim_slot(SETTINGS, GUILD, later_slot.id, 7, is_supporter=True)

    assert await rota_service(db, NOW).on_duty(GUILD) == []
    assert await rota_service(db, NOW).next_shift_start(GUILD) == start
    during = start + timedelta(minutes=30)
    duty = await rota_service(db, during).on_duty(GUILD)
    end = start + timedelta(hours=2)
    assert [(d.user_id, d.ends_at) for d in duty] == [(7, end), (8, end)]
    assert (
        await rota_service(db, during).next_shift_start(GUILD) == later_slot.starts_at
    )  # not the empty one
    assert await rota_service(db, during).on_duty(2) == []  # other servers see nothing
    assert await rota_service(db, later_slot.ends_at).next_shift_start(GUILD) is None
    assert empty_slot.claimers == []


async def test_a_claim_and_its_reminders_are_committed_and_ended_together(db: Database) -> None:
    """The reminders and debrief are written in the claim's own transaction (a crash between
    the two can't leave a shift nobody is reminded of) and deleted in the release's."""
    timers = TimerService(db)
    (slot,) = await new_slots(db, [NOW + timedelta(hours=30)])
    await trained(db, 3)
    shift = await rota_service(db, NOW).claim_slot(SETTINGS, GUILD, slot.id, 3, is_supporter=True)
    assert shift.first_timer_due == slot.starts_at - timedelta(hours=24)
    assert {(t.kind, t.ref, t.due_at) for t in await timers.pending()} == {
        (REMINDER, f"claim:{shift.claim_id}:24", slot.starts_at - timedelta(hours=24)),
        (REMINDER, f"claim:{shift.claim_id}:1", slot.starts_at - timedelta(hours=1)),
        (DEBRIEF, f"claim:{shift.claim_id}", slot.ends_at),
    }
    dues = await schedule_claim_timers(timers, shift, [24, 1], NOW)  # idempotent
    assert dues == [
        slot.starts_at - timedelta(hours=24),
        slot.starts_at - timedelta(hours=1),
        slot.ends_at,
    ]
    assert len(await timers.pending()) == 3
    released = await rota_service(db, NOW).release_claim(GUILD, slot.id, 3)
    assert not released.short_notice
    assert await timers.pending() == []
    with pytest.raises(UserFacingError, match="haven't claimed"):
        await rota_service(db, NOW).release_claim(GUILD, slot.id, 3)


async def test_new_reminder_hours_move_every_upcoming_claims_reminders(db: Database) -> None:
    timers = TimerService(db)
    soon, later = await new_slots(db, [NOW + timedelta(hours=30), NOW + timedelta(days=5)])
    started, *_ = await new_slots(db, [NOW - timedelta(hours=1)], needed=2)
    await trained(db, 3)
    first = await rota_service(db, NOW).claim_slot(SETTINGS, GUILD, soon.id, 3, is_supporter=True)
    second = await rota_service(db, NOW).claim_slot(SETTINGS, GUILD, later.id, 3, is_supporter=True)
    await db.execute(  # a shift under way keeps whatever it has (its debrief)
        "INSERT INTO rota_claims (guild_id, slot_id, user_id, claimed_at) VALUES (?, ?, 4, 0)",
        (GUILD, started.id),
    )
    await timers.schedule(GUILD + 1, REMINDER, "claim:999:24", NOW + timedelta(days=1))

    earliest = await rota_service(db, NOW).reschedule_reminders(GUILD, [48, 2])

    reminders = {
        (t.ref, t.due_at, t.payload.get("next_hours")) for t in await timers.pending(REMINDER)
    }
    assert reminders == {
        # 48 h before the first shift has already passed: only its 2-hour reminder is left
        (f"claim:{first.claim_id}:2", soon.starts_at - timedelta(hours=2), None),
        (f"claim:{second.claim_id}:48", later.starts_at - timedelta(hours=48), 2),
        (f"claim:{second.claim_id}:2", later.starts_at - timedelta(hours=2), None),
        ("claim:999:24", NOW + timedelta(days=1), None),  # another server's, untouched
    }
    assert earliest == soon.starts_at - timedelta(hours=2)
    assert len(await timers.pending(DEBRIEF)) == 2  # debriefs don't depend on the hours


async def test_a_refused_claim_schedules_nothing(db: Database) -> None:
    (slot,) = await new_slots(db, [NOW + timedelta(hours=30)], needed=1)
    await trained(db, 3)
    await trained(db, 4)
    await rota_service(db, NOW).claim_slot(SETTINGS, GUILD, slot.id, 3, is_supporter=True)
    with pytest.raises(UserFacingError):
        await rota_service(db, NOW).claim_slot(SETTINGS, GUILD, slot.id, 4, is_supporter=True)
    assert len(await TimerService(db).pending()) == 3  # only the first supporter's


def test_a_reminder_is_stale_once_started_or_when_a_later_one_is_due() -> None:
    slot = rota.Slot(
        id=1, guild_id=GUILD, rota_id=1, rota_name="x", needed=1,
        starts_at=NOW, ends_at=NOW + timedelta(hours=2),
    )  # fmt: skip
    payload = {"hours": 24, "next_hours": 1}
    assert not reminder_is_stale(payload, slot, NOW - timedelta(hours=24))
    assert reminder_is_stale(payload, slot, NOW - timedelta(minutes=30))
    assert not reminder_is_stale(
        {"hours": 1, "next_hours": None}, slot, NOW - timedelta(minutes=30)
    )
    assert reminder_is_stale({"hours": 1, "next_hours": None}, slot, NOW)


async def test_debrief_answer_is_acted_on_once_and_never_lost(db: Database) -> None:
    (slot,) = await new_slots(db, [NOW + timedelta(hours=3)])
    await trained(db, 4)
    shift = await rota_service(db, NOW).claim_slot(SETTINGS, GUILD, slot.id, 4, is_supporter=True)
    assert not await rota_service(db, NOW).close_debrief(shift.claim_id, 5)  # someone else's
    assert await rota_service(db, NOW).close_debrief(shift.claim_id, 4)
    assert not await rota_service(db, NOW).close_debrief(shift.claim_id, 4)
    assert await rota_service(db, NOW).close_debrief(
        12345, 4
    )  # claim gone with its slot: still act


def test_ics_folding_never_splits_a_character_and_stays_within_75_octets() -> None:
    line = "SUMMARY:" + "é✨a" * 40
    folded = fold(line).split("\r\n")
    assert all(len(part.encode()) <= 75 for part in folded)
    assert folded[0] + "".join(part[1:] for part in folded[1:]) == line
    assert fold("SHORT:x") == "SHORT:x"


async def test_calendar_has_one_event_per_shift(db: Database) -> None:
    clock = FakeClock(NOW)
    (slot,) = await new_slots(db, [NOW + timedelta(days=1)])
    await trained(db, 6)
    await rota_service(db, NOW).claim_slot(SETTINGS, GUILD, slot.id, 6, is_supporter=True)
    shifts = await rota_service(db, clock.now()).my_shifts(GUILD, 6)
    data = shifts_calendar(shifts, "Server, with; specials", clock.now()).decode()
    assert data.count("BEGIN:VEVENT") == 1 and data.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20260303T120000Z\r\n" in data and "DTEND:20260303T140000Z\r\n" in data
    assert "Server\\, with\\; specials" in data.replace("\r\n ", "")
