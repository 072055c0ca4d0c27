"""Turning what coordinators type into times, with refusals that say what was expected."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.errors import UserFacingError
from bot.i18n import N_, Day
from bot.scheduling import localize, next_weekly
from bot.services.text import one_line

MAX_DURATION = timedelta(hours=24)
MAX_REPEAT_WEEKS = 52
MAX_VIEW_WEEKS = 52
# Room for every form the parsers below read ("2026-03-03 19:00", "wednesday 19:00", "1h30m",
# "2026-12-31"), with spaces; Discord is told the same, so longer text cannot be typed at all.
MAX_START_TEXT = 40
MAX_DURATION_TEXT = 20
MAX_EXPIRY_TEXT = 20
# Rotas are planned weeks or months ahead; a date further out is a typo (and near the year 9999
# the weekly repeats would run off the calendar).
MAX_AHEAD = timedelta(days=5 * 366)

_DAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
    # Spanish, with and without accents: a day name is read the same in every language.
    "lunes": 0, "martes": 1, "miércoles": 2, "miercoles": 2, "jueves": 3, "viernes": 4,
    "sábado": 5, "sabado": 5, "domingo": 6,
}  # fmt: skip
_DATE_TIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T]+(\d{1,2}):(\d{2})$")
_DAY_TIME = re.compile(r"^([^\W\d_]+)\.?\s+(\d{1,2}):(\d{2})$")
_DURATION = re.compile(r"^(?:(\d+)\s*h(?:ours?|rs?)?)?\s*(?:(\d+)\s*m(?:in(?:ute)?s?)?)?$")


def name_key(name: str) -> str:
    """Names compare case- and spacing-insensitively ("Evening  duty" is "evening duty")."""
    return one_line(name).casefold()


def _clock_time(hour: str, minute: str) -> time:
    if int(hour) > 23 or int(minute) > 59:
        raise UserFacingError(
            N_(
                "“{hour}:{minute}” isn't a time of day. "
                "Give the start as `YYYY-MM-DD HH:MM` (e.g. `2026-03-03 19:00`) or `mon 19:00`."
            ),
            hour=hour,
            minute=minute,
        )
    return time(int(hour), int(minute))


def parse_start(text: str, zone: ZoneInfo, now: datetime) -> tuple[date, time]:
    """The local day and time of a first slot, which must still be ahead."""
    cleaned = one_line(text).casefold()
    if len(cleaned) > MAX_START_TEXT:
        raise UserFacingError(
            N_(
                "That start time is too long to read. "
                "Give the start as `YYYY-MM-DD HH:MM` (e.g. `2026-03-03 19:00`) or `mon 19:00`."
            )
        )
    if match := _DATE_TIME.match(cleaned):
        year, month, day, hour, minute = match.groups()
        at = _clock_time(hour, minute)
        try:
            local_day = date(int(year), int(month), int(day))
        except ValueError:
            raise UserFacingError(
                N_(
                    "“{text}” isn't a real date. "
                    "Give the start as `YYYY-MM-DD HH:MM` (e.g. `2026-03-03 19:00`) or `mon 19:00`."
                ),
                text=text,
            ) from None
    elif match := _DAY_TIME.match(cleaned):
        word, hour, minute = match.groups()
        if word not in _DAYS:
            raise UserFacingError(
                N_(
                    "“{word}” isn't a day of the week. "
                    "Give the start as `YYYY-MM-DD HH:MM` (e.g. `2026-03-03 19:00`) or `mon 19:00`."
                ),
                word=word,
            )
        at = _clock_time(hour, minute)
        local_day = next_weekly(now, {_DAYS[word]}, at, zone).astimezone(zone).date()
    else:
        raise UserFacingError(
            N_(
                "I couldn't read “{text}” as a start time. "
                "Give the start as `YYYY-MM-DD HH:MM` (e.g. `2026-03-03 19:00`) or `mon 19:00`."
            ),
            text=text,
        )
    if local_day > now.date() + MAX_AHEAD:
        raise UserFacingError(
            N_(
                "{day} is more than five years ahead; slots can be added up to five "
                "years ahead. Is the year right?"
            ),
            day=Day(local_day, "dd MMM y"),
        )
    if localize(local_day, at, zone) <= now:
        raise UserFacingError(
            N_("{moment} has already passed. Slots can only be added for times still ahead."),
            moment=Day(datetime.combine(local_day, at), "EEE dd MMM y HH:mm"),
        )
    return local_day, at


def parse_duration(text: str) -> timedelta:
    cleaned = one_line(text).lower()
    if len(cleaned) > MAX_DURATION_TEXT:
        raise UserFacingError(
            N_(
                "That length is too long to read. "
                "Give the length like `2h`, `90m` or `1h30m` (at most 24 hours)."
            )
        )
    match = _DURATION.match(cleaned)
    if not cleaned or match is None or not any(match.groups()):
        raise UserFacingError(
            N_(
                "I couldn't read “{text}” as a length. "
                "Give the length like `2h`, `90m` or `1h30m` (at most 24 hours)."
            ),
            text=text,
        )
    hours, minutes = (int(part or 0) for part in match.groups())
    length = timedelta(hours=hours, minutes=minutes)
    if length <= timedelta(0):
        raise UserFacingError(
            N_(
                "A shift needs to last longer than that. "
                "Give the length like `2h`, `90m` or `1h30m` (at most 24 hours)."
            )
        )
    if length > MAX_DURATION:
        raise UserFacingError(
            N_(
                "Shifts can be at most 24 hours long — long shifts wear supporters out. "
                "Split it into several slots instead."
            )
        )
    return length


def weekly_starts(first_day: date, at: time, zone: ZoneInfo, weeks: int) -> list[datetime]:
    """The same local wall-clock time each week, across daylight-saving changes."""
    if not 1 <= weeks <= MAX_REPEAT_WEEKS:
        raise UserFacingError(N_("`repeat_weeks` can be 1 to {most}."), most=MAX_REPEAT_WEEKS)
    return [localize(first_day + timedelta(weeks=week), at, zone) for week in range(weeks)]


def parse_expiry(text: str, zone: ZoneInfo, now: datetime) -> datetime:
    """Training given "until 2026-12-31" is valid through the end of that local day."""
    try:
        last_day = date.fromisoformat(one_line(text))
        expires_at = localize(last_day + timedelta(days=1), time(0, 0), zone)
    except (ValueError, OverflowError):
        raise UserFacingError(
            N_("I couldn't read “{text}” as a date. Give it as `YYYY-MM-DD`, e.g. `2026-12-31`."),
            text=text,
        ) from None
    if expires_at <= now:
        raise UserFacingError(N_("That expiry date has already passed; pick a later one."))
    return expires_at


def weeks_from(now: datetime, weeks: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The bounds of the week `weeks` from this one (negative: past weeks), as `/rota view`
    pages through them."""
    if not -MAX_VIEW_WEEKS <= weeks <= MAX_VIEW_WEEKS:
        raise UserFacingError(
            N_("`week` can be {least} to {most} weeks away."),
            least=-MAX_VIEW_WEEKS,
            most=MAX_VIEW_WEEKS,
        )
    return week_bounds(now + timedelta(weeks=weeks), zone)


def week_bounds(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00, local time, of the week holding `moment`."""
    local_day = moment.astimezone(zone).date()
    monday = local_day - timedelta(days=local_day.weekday())
    return (
        localize(monday, time(0, 0), zone).astimezone(UTC),
        localize(monday + timedelta(weeks=1), time(0, 0), zone).astimezone(UTC),
    )
