"""The wellbeing services without Discord: break dates, hand-backs, follow-up races, renewal
timers and the load figures."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.db import Database, to_ts
from bot.errors import UserFacingError
from bot.services.rota import breaks, followups, renewals
from bot.services.settings import GuildSettings
from bot.services.timers import TimerService
from tests.services import rota_service

GUILD = 1
LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, as in the other rota tests
SAM, ALEX = 10, 11


def test_break_dates_are_local_days_and_bad_ones_are_refused() -> None:
    start, end = breaks.parse_break("2026-03-28", "2026-03-29", LONDON, NOW)
    assert start == datetime(2026, 3, 28, 0, 0, tzinfo=UTC)  # GMT
    assert end == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)  # midnight of 30 March, BST
    today, open_ended = breaks.parse_break(None, None, LONDON, NOW)
    assert (today, open_ended) == (datetime(2026, 3, 2, 0, 0, tzinfo=UTC), None)
    one_day = breaks.parse_break("2026-03-02", "2026-03-02", LONDON, NOW)
    assert one_day[1] == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    assert breaks.parse_break("2026-03-02", "2027-03-01", LONDON, NOW)[1] is not None  # a year
    for start_text, end_text, reason in (
        ("2026-03-01", None, "already passed"),
        ("2026-03-05", "2026-03-04", "before the start"),
        ("2026-03-02", "2027-03-03", "more than a year"),
        ("2027-03-04", None, "more than a year away"),
        ("tomorrow", None, "couldn't read"),
        ("2026-13-01", None, "couldn't read"),
        ("2026-03-02", "9999-12-31", "more than a year"),
        ("9999-12-31", None, "more than a year away"),
        ("0001-01-01", None, "already passed"),
    ):
        with pytest.raises(UserFacingError, match=reason):
            breaks.parse_break(start_text, end_text, LONDON, NOW)


async def test_a_break_releases_only_its_window_and_refuses_claims_inside_it(db: Database) -> None:
    created = await rota_service(db, NOW).create_rota(GUILD, 99, "Evening", needed=1)
    starts = [NOW + timedelta(days=d, hours=7) for d in (1, 8, 15)]
    slots, _ = await rota_service(db, NOW).add_slots(created, 99, starts, timedelta(hours=2))
    await rota_service(db, NOW).grant_training(GUILD, SAM, 99, None)
    rules = GuildSettings(timezone="Europe/London")
    for slot in slots:
        await rota_service(db, NOW).claim_slot(rules, GUILD, slot.id, SAM, is_supporter=True)
    texts: list[list[int]] = []
    start, end = breaks.parse_break("2026-03-09", "2026-03-15", LONDON, NOW)
    stepped = await rota_service(db, NOW).step_back(
        GUILD, SAM, start, end, lambda freed: [str(s.id) for s in freed] or []
    )
    texts.append([s.id for s in stepped.freed])
    assert texts == [[slots[1].id]]
    assert (
        await db.fetchval("SELECT COUNT(*) FROM outbox WHERE kind = ?", (breaks.FREED_ALERT,)) == 1
    )
    with pytest.raises(UserFacingError, match="taking a break"):
        await rota_service(db, NOW).claim_slot(rules, GUILD, slots[1].id, SAM, is_supporter=True)
    # replacing the break with an open-ended one hands back the rest, with one more alert
    again = await rota_service(db, NOW).step_back(GUILD, SAM, start, None, lambda f: ["x"])
    assert [s.id for s in again.freed] == [slots[2].id]
    assert await TimerService(db).pending(breaks.AWAY_END) == []
    await rota_service(db).come_back(GUILD, SAM)
    with pytest.raises(UserFacingError, match="not on a break"):
        await rota_service(db).come_back(GUILD, SAM)


async def test_exactly_one_coordinator_takes_a_follow_up_under_a_race(db: Database) -> None:
    asked = await rota_service(db, NOW).ask_followup(GUILD, SAM)
    results = await asyncio.gather(
        *(rota_service(db, NOW).take_followup(GUILD, asked.id, 100 + n) for n in range(20)),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, followups.Followup)]
    assert len(winners) == 1
    losers = [r for r in results if isinstance(r, UserFacingError)]
    assert len(losers) == 19 and all(f"<@{winners[0].taken_by}>" in e.message for e in losers)
    assert await TimerService(db).pending(followups.FOLLOWUP_DUE) == []


async def test_renewal_timers_follow_the_training_and_the_digest_is_scheduled_once(
    db: Database,
) -> None:
    timers = TimerService(db)
    expires = NOW + timedelta(days=60)
    await rota_service(db, NOW).grant_training(GUILD, SAM, 99, expires, LONDON)
    due = sorted(t.due_at for t in await timers.pending(renewals.RENEWAL))
    assert due == [expires - timedelta(days=30), expires - timedelta(days=7)]
    [digest] = await timers.pending(renewals.DIGEST)
    assert digest.due_at == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # next Monday 09:00 London
    soon = NOW + timedelta(days=10)  # renewed to expire sooner: only the 7-day DM is ahead
    await rota_service(db, NOW + timedelta(days=1)).grant_training(GUILD, SAM, 99, soon, LONDON)
    assert [t.due_at for t in await timers.pending(renewals.RENEWAL)] == [soon - timedelta(days=7)]
    assert len(await timers.pending(renewals.DIGEST)) == 1
    await rota_service(db).revoke_training(GUILD, SAM)
    assert await timers.pending(renewals.RENEWAL) == []


async def test_load_counts_hours_late_cover_and_runs_at_the_cap(db: Database) -> None:
    created = await rota_service(db, NOW).create_rota(GUILD, 99, "Evening", needed=2)
    starts = [NOW + timedelta(weeks=w, hours=7) for w in range(-2, 2)]  # Mondays 19:00
    slots, _ = await rota_service(db, NOW).add_slots(created, 99, starts, timedelta(hours=3))
    for slot in slots:
        await db.execute(
            "INSERT INTO rota_claims (guild_id, slot_id, user_id, claimed_at) VALUES (?, ?, ?, ?)",
            (GUILD, slot.id, SAM, to_ts(slot.starts_at - timedelta(days=3))),
        )
    await db.execute(
        "INSERT INTO rota_claims (guild_id, slot_id, user_id, claimed_at) VALUES (?, ?, ?, ?)",
        (GUILD, slots[0].id, ALEX, to_ts(slots[0].starts_at - timedelta(hours=2))),
    )
    report = await rota_service(db, NOW).supporter_load(GUILD, 2, LONDON, 1)
    sam, alex = report.loads
    assert (sam.user_id, sam.past_shifts, sam.past_hours, sam.ahead_shifts) == (SAM, 2, 6.0, 2)
    assert sam.cap_streak == 4 and sam.at_cap_for_long and sam.late_covers == 0
    assert (alex.late_covers, alex.cap_streak, report.late_total) == (1, 1, 1)
    assert report.most_late_cover is None  # too little late cover to single anyone out
    mine = await rota_service(db, NOW).supporter_load(GUILD, 2, LONDON, 1, ALEX)
    assert [load.user_id for load in mine.loads] == [ALEX]
