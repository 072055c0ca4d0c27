"""Check-in answers: private, updatable, summarised only as counts, and purged on retention."""

from __future__ import annotations

import asyncio
import struct
import zlib
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bot.clock import FakeClock
from bot.db import Database
from bot.errors import UserFacingError
from bot.services.charts import PNG_SIGNATURE, encode_png, mood_chart
from bot.services.checkin_answers import CheckinAnswers
from bot.services.checkin_due import CheckinSource
from bot.services.checkin_schedules import CheckinSchedules
from bot.services.checkins import Occurrence
from bot.services.settings import SettingsService

GUILD = 1


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))


@pytest.fixture
def schedules(db: Database, clock: FakeClock) -> CheckinSchedules:
    return CheckinSchedules(db, clock, SettingsService(db, clock, "UTC"))


@pytest.fixture
def answers(db: Database, clock: FakeClock) -> CheckinAnswers:
    return CheckinAnswers(db, clock)


async def _occurrence(schedules: CheckinSchedules, clock: FakeClock) -> Occurrence:
    created = await schedules.add_group(GUILD, 9, 100, "Hi", "daily", "19:00", None, False)
    sent: list[Occurrence] = []

    async def keep(occurrence: Occurrence) -> None:
        sent.append(occurrence)

    clock.set(created.next_due_at)
    await CheckinSource(schedules, keep).run_due(clock.now())
    return sent[0]


async def press_mood(answers: CheckinAnswers, occurrence: Occurrence, user: int, value: int) -> Any:
    """A member pressing a mood button on `occurrence` from inside its server."""
    found, result = await answers.answer_mood(occurrence.id, GUILD, user, value)
    assert found.id == occurrence.id
    return result


async def test_answering_again_updates_and_says_so(
    schedules: CheckinSchedules, answers: CheckinAnswers, clock: FakeClock
) -> None:
    occurrence = await _occurrence(schedules, clock)
    first = await press_mood(answers, occurrence, 5, 3)
    assert not first.updated and first.mood == 3
    second = await press_mood(answers, occurrence, 5, 4)
    assert second.updated and second.previous_mood == 3 and second.mood == 4
    noted = await answers.record_note(occurrence, 5, "  a quiet day  ")
    assert not noted.updated and noted.mood == 4
    assert await answers.note_of(occurrence.id, 5) == "a quiet day"
    assert (await press_mood(answers, occurrence, 5, 1)).low


async def test_concurrent_answers_keep_one_row_per_member(
    db: Database, schedules: CheckinSchedules, answers: CheckinAnswers, clock: FakeClock
) -> None:
    occurrence = await _occurrence(schedules, clock)
    await asyncio.gather(*(press_mood(answers, occurrence, 5, mood) for mood in (1, 2, 3, 4, 5)))
    assert await db.fetchval("SELECT COUNT(*) FROM checkin_answers") == 1


async def test_who_may_answer(
    schedules: CheckinSchedules, answers: CheckinAnswers, clock: FakeClock
) -> None:
    occurrence = await _occurrence(schedules, clock)
    assert (await answers.occurrence_for(occurrence.id, GUILD, 5)).id == occurrence.id
    with pytest.raises(UserFacingError, match="different server"):
        await answers.occurrence_for(occurrence.id, GUILD + 1, 5)
    with pytest.raises(UserFacingError, match="ended"):
        await answers.occurrence_for(occurrence.id + 99, GUILD, 5)
    with pytest.raises(UserFacingError, match="different server"):
        await answers.answer_mood(occurrence.id, GUILD + 1, 5, 3)
    with pytest.raises(UserFacingError, match="1 to 5"):
        await answers.answer_mood(occurrence.id, GUILD, 5, 6)
    assert await answers.history(GUILD, 5, 30) == []  # refusals record nothing


async def test_summary_shows_moods_only_from_five_answers(
    schedules: CheckinSchedules, answers: CheckinAnswers, clock: FakeClock
) -> None:
    occurrence = await _occurrence(schedules, clock)
    assert occurrence.schedule_id is not None
    for user, mood in zip(range(10, 14), (1, 2, 2, 5), strict=True):
        await press_mood(answers, occurrence, user, mood)
    [row] = await answers.summary(GUILD, occurrence.schedule_id, 5)
    assert row.answered == 4 and row.distribution is None
    await press_mood(answers, occurrence, 14, 4)
    await answers.record_note(occurrence, 15, "note only: not an answered mood")
    [row] = await answers.summary(GUILD, occurrence.schedule_id, 5)
    assert row.answered == 5
    assert row.distribution == {1: 1, 2: 2, 3: 0, 4: 1, 5: 1}
    assert await answers.summary(GUILD + 1, occurrence.schedule_id, 5) == []


async def test_history_delete_and_retention(
    schedules: CheckinSchedules, answers: CheckinAnswers, clock: FakeClock
) -> None:
    occurrence = await _occurrence(schedules, clock)
    await press_mood(answers, occurrence, 5, 2)
    await press_mood(answers, occurrence, 6, 4)
    [entry] = await answers.history(GUILD, 5, 30)
    assert entry.mood == 2 and entry.kind == "group"
    clock.advance(timedelta(days=40))
    assert await answers.history(GUILD, 5, 30) == []
    assert await answers.purge_older_than(GUILD, clock.now() - timedelta(days=90)) == 0
    assert await answers.delete_all(GUILD, 5) == 1
    assert await answers.count_for(GUILD, 6) == 1
    clock.advance(timedelta(days=60))
    assert await answers.purge_older_than(GUILD, clock.now() - timedelta(days=90)) == 1
    assert await answers.count_for(GUILD, 6) == 0
    assert await answers.guilds_with_data() == []


def _decode(png: bytes) -> tuple[int, int, list[bytes]]:
    """A minimal PNG reader (8-bit RGB, filter 0) that checks every chunk's CRC."""
    assert png[:8] == PNG_SIGNATURE
    offset, chunks = 8, {}
    while offset < len(png):
        (length,) = struct.unpack(">I", png[offset : offset + 4])
        kind = png[offset + 4 : offset + 8]
        data = png[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", png[offset + 8 + length : offset + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        chunks[kind] = data
        offset += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, color) == (8, 2)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = width * 3 + 1
    rows = [raw[i * stride : (i + 1) * stride] for i in range(height)]
    assert len(raw) == stride * height and all(row[0] == 0 for row in rows)
    return width, height, [row[1:] for row in rows]


def test_png_encoder_round_trips() -> None:
    pixels = [bytes([255, 0, 0, 0, 255, 0]), bytes([0, 0, 255, 9, 9, 9])]
    width, height, rows = _decode(encode_png(2, 2, pixels))
    assert (width, height) == (2, 2) and rows == pixels
    with pytest.raises(ValueError):
        encode_png(3, 2, pixels)


def test_mood_chart_draws_a_bar_per_day() -> None:
    start = date(2026, 3, 1)
    days = [(start + timedelta(days=i), mood) for i, mood in enumerate([1, None, 3.5, 5])]
    width, height, rows = _decode(mood_chart(days))
    assert width >= 160 and height == 160
    coloured = {
        bytes(row[x : x + 3])
        for row in rows
        for x in range(0, len(row), 3)
        if row[x : x + 3] not in (b"\xff\xff\xff",)
    }
    assert (213, 94, 0) in {tuple(c) for c in coloured}  # mood 1
    assert (0, 114, 178) in {tuple(c) for c in coloured}  # mood 5
