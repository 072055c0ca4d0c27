"""Session starts typed with a Spanish day name read as the English one; dates stay dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.errors import UserFacingError
from bot.services.rota.parsing import parse_start
from bot.services.session_input import english_day

LONDON = ZoneInfo("Europe/London")
MONDAY_NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "day", "at"),
    [
        ("lunes 19:00", date(2026, 3, 2), time(19, 0)),
        ("martes 19:00", date(2026, 3, 3), time(19, 0)),
        ("Miércoles 18:30", date(2026, 3, 4), time(18, 30)),
        ("miercoles 18:30", date(2026, 3, 4), time(18, 30)),
        ("jueves 7:05", date(2026, 3, 5), time(7, 5)),
        ("VIERNES 19:00", date(2026, 3, 6), time(19, 0)),
        ("sábado 10:00", date(2026, 3, 7), time(10, 0)),
        ("sabado 10:00", date(2026, 3, 7), time(10, 0)),
        ("domingo 09:00", date(2026, 3, 8), time(9, 0)),
        ("Domingo  09:00", date(2026, 3, 8), time(9, 0)),
        ("sáb. 10:00", date(2026, 3, 7), time(10, 0)),
        ("tue 19:00", date(2026, 3, 3), time(19, 0)),
        ("wednesday 18:30", date(2026, 3, 4), time(18, 30)),
        ("2026-03-03 19:00", date(2026, 3, 3), time(19, 0)),
    ],
)
def test_english_and_spanish_day_names_and_dates_are_read(typed: str, day: date, at: time) -> None:
    assert parse_start(english_day(typed), LONDON, MONDAY_NOON) == (day, at)


def test_only_a_leading_day_name_is_translated() -> None:
    assert english_day("2026-03-03 19:00") == "2026-03-03 19:00"
    assert english_day("marzo 19:00") == "marzo 19:00"  # not a day: refused as before
    with pytest.raises(UserFacingError):
        parse_start(english_day("marzo 19:00"), LONDON, MONDAY_NOON)
