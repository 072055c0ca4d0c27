"""Dates written out in words: one helper, the reader's day and month names, English unchanged."""

from __future__ import annotations

import gettext
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot import i18n
from bot.i18n import ENGLISH, Texts
from tests.pseudo_locale import untranslated

# The pseudo-locale run marks every catalogue's text: these tests read what a person would.
_UNMARKED = str.maketrans("", "", i18n.OPEN + i18n.CLOSE)


def _read(text: str) -> str:
    return text.translate(_UNMARKED)


def test_english_dates_read_as_they_did_before_babel_wrote_them() -> None:
    for month in range(1, 13):
        for day in (1, 9, 28):
            moment = date(2026, month, day)
            at = datetime.combine(moment, time(7, 5))
            assert ENGLISH.format_day(moment, "EEE d MMM y") == (
                f"{moment:%a} {moment.day} {moment:%b %Y}"
            )
            assert ENGLISH.format_day(moment, "dd MMM y") == f"{moment:%d %b %Y}"
            assert ENGLISH.format_day(at, "EEE dd MMM HH:mm") == f"{at:%a %d %b %H:%M}"


def test_a_date_uses_the_readers_names_and_its_own_wall_clock() -> None:
    spanish = i18n.texts("es")
    assert _read(spanish.format_day(date(2026, 3, 4), "EEE d MMM y")) == "mié 4 mar 2026"
    # A datetime is written as its own wall clock, never moved to UTC.
    evening = datetime(2026, 7, 7, 19, 30, tzinfo=ZoneInfo("Europe/Madrid"))
    assert _read(spanish.format_day(evening, "EEE dd MMM HH:mm")) == "mar 07 jul 19:30"
    assert ENGLISH.format_day(evening, "HH:mm") == "19:30"


def test_dates_count_as_localised_in_the_pseudo_run_and_english_stays_unmarked() -> None:
    marked = Texts("es", gettext.NullTranslations(), marked=True)
    assert marked.format_day(date(2026, 3, 4), "EEE d MMM") == "⟦mié 4 mar⟧"
    # The pseudo-locale has no Babel data: English names, marked like its catalogue's text.
    pseudo = Texts(i18n.PSEUDO_LANGUAGE, gettext.NullTranslations())
    assert pseudo.format_day(date(2026, 3, 4), "EEE d MMM") == "⟦Wed 4 Mar⟧"
    assert untranslated([pseudo.format_day(date(2026, 3, 4), "EEE d MMM")]) == []
    assert untranslated([ENGLISH.format_day(date(2026, 3, 4), "EEE d MMM")]) != []
