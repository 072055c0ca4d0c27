"""Check-ins: the shared vocabulary (models, limits) and parsing of what coordinators type.

Parsing lives here, not in the cog, so every refusal ("25:00 isn't a time") is one clear
`UserFacingError` raised before anything is stored, and so the rules are testable without Discord.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from bot.config import validate_timezone_name
from bot.errors import UserFacingError
from bot.i18n import ENGLISH, N_, Texts
from bot.services.audit import Param, Phrase, render_param
from bot.services.text import one_line

Kind = Literal["group", "personal"]

MAX_PROMPT = 1500
MAX_GROUP_SCHEDULES = 100
MAX_NOTE = 1000
# Room for "monday, wednesday and friday"-style lists and a padded "19:00".
MAX_DAYS_TEXT = 100
MAX_TIME_TEXT = 10
MOODS = (1, 2, 3, 4, 5)
LOW_MOOD = 1
# A summary shows the spread of moods only from this many answers, so nobody can be singled out.
SUMMARY_THRESHOLD = 5

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How a list of days is shown back, in the reader's language (`describe_days`).
_SHOWN_DAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
# Every language's day names are accepted whoever types them (a Spanish coordinator may well
# type `mon,wed`, an English one `lunes`): one parser, the same formats everywhere.
_NAMES_BY_DAY: tuple[tuple[str, ...], ...] = (
    ("mon", "monday", "lunes", "lun"),
    ("tue", "tues", "tuesday", "martes", "mar"),
    ("wed", "weds", "wednesday", "miércoles", "miercoles", "mié", "mie"),
    ("thu", "thur", "thurs", "thursday", "jueves", "jue"),
    ("fri", "friday", "viernes", "vie"),
    ("sat", "saturday", "sábado", "sabado", "sáb", "sab"),
    ("sun", "sunday", "domingo", "dom"),
)
_DAY_ALIASES: dict[str, int] = {
    **{name: 1 << i for i, names in enumerate(_NAMES_BY_DAY) for name in names},
    "weekdays": 0b0011111,
    "weekends": 0b1100000,
    "weekend": 0b1100000,
    "daily": 0b1111111,
    "everyday": 0b1111111,
    "laborables": 0b0011111,
    "finde": 0b1100000,
    "findes": 0b1100000,
    "diario": 0b1111111,
    "diariamente": 0b1111111,
}
_TIME = re.compile(r"^(\d{1,2})[:.](\d{2})$")


class Schedule(BaseModel):
    id: int
    guild_id: int
    kind: Kind
    channel_id: int | None
    user_id: int | None
    prompt: str
    open_thread: bool
    days: int
    local_time: str
    zone: str
    next_due_at: datetime
    last_occurrence_at: datetime | None
    paused: bool
    paused_reason: str | None
    snoozed_until: datetime | None

    @property
    def when(self) -> Phrase:
        """ "Mon, Wed, Fri at 19:00 (Europe/London)" — how a person would say it, as a phrase
        shown in each reader's language (the audit trail's)."""
        return when_phrase(self.days, self.local_time, self.zone)

    def when_in(self, tr: Texts) -> str:
        """`when` in the reader's language."""
        return describe_when(self.days, self.local_time, self.zone, tr)


class Occurrence(BaseModel):
    """One prompt or DM that was (or is being) sent; its id is in the buttons."""

    id: int
    guild_id: int
    schedule_id: int | None
    kind: Kind
    user_id: int | None
    channel_id: int | None = None
    prompt: str = ""
    open_thread: bool = False
    due_at: datetime
    is_test: bool = False


def parse_days(text: str) -> int:
    """`mon,wed,fri`, `weekdays`, `daily`, `Monday Thursday` → a bitmask (bit 0 = Monday)."""
    if len(text) > MAX_DAYS_TEXT:
        raise UserFacingError(
            N_(
                "Please list the days in at most {limit} characters, e.g. `mon,wed,fri` or "
                "`weekdays`. Nothing was created."
            ),
            limit=MAX_DAYS_TEXT,
        )
    words = [word for word in re.split(r"[\s,;/+&]+", one_line(text).casefold()) if word]
    words = [word for word in words if word not in {"and", "every", "y"}]
    if not words:
        raise UserFacingError(
            N_(
                "Please say which days, e.g. `mon,wed,fri`, `weekdays`, `weekends` or `daily`. "
                "Nothing was created."
            )
        )
    mask = 0
    for word in words:
        bits = _DAY_ALIASES.get(word)
        if bits is None:
            raise UserFacingError(
                N_(
                    "I don't recognise the day “{word}”. Use mon, tue, wed, thu, fri, sat, "
                    "sun (comma-separated), or `weekdays`, `weekends`, `daily`. Nothing was "
                    "created."
                ),
                word=word[:30],
            )
        mask |= bits
    return mask


def weekdays_of(mask: int) -> set[int]:
    return {day for day in range(7) if mask & (1 << day)}


def days_phrase(mask: int) -> Param:
    """The days of a schedule as catalogue phrases ("Mon, Wed, Fri", or "Weekdays"…), to be
    shown in any language (`describe_days`), an audit entry's as much as a reply's."""
    if mask == 0b1111111:
        return Phrase(N_("Every day"))
    if mask == 0b0011111:
        return Phrase(N_("Weekdays"))
    if mask == 0b1100000:
        return Phrase(N_("Weekends"))
    return [Phrase(_SHOWN_DAYS[day]) for day in sorted(weekdays_of(mask))]


def when_phrase(mask: int, local_time: str, zone: str) -> Phrase:
    """ "Mon, Wed, Fri at 19:00 (Europe/London)", to be shown in any language."""
    return Phrase(
        N_("{days} at {time} ({zone})"), days=days_phrase(mask), time=local_time, zone=zone
    )


def describe_days(mask: int, tr: Texts = ENGLISH) -> str:
    """ "Mon, Wed, Fri" (or "Weekdays"…), in the reader's language."""
    return render_param(days_phrase(mask), tr)


def describe_when(mask: int, local_time: str, zone: str, tr: Texts = ENGLISH) -> str:
    """ "Mon, Wed, Fri at 19:00 (Europe/London)", in the reader's language."""
    return when_phrase(mask, local_time, zone).render(tr)


def parse_time(text: str) -> time:
    """`19:00` or `7:30` (24-hour). Anything else — `25:00`, `7pm` — is refused, kindly."""
    text = one_line(text)
    match = _TIME.match(text) if len(text) <= MAX_TIME_TEXT else None
    if match is None or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise UserFacingError(
            N_(
                "“{text}” isn't a time of day I can use: please give a 24-hour time "
                "like `19:00` or `07:30`. Nothing was created."
            ),
            text=text[:20],
        )
    return time(int(match.group(1)), int(match.group(2)))


def format_time(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


def parse_zone(name: str) -> ZoneInfo:
    cleaned = one_line(name)
    try:
        return ZoneInfo(validate_timezone_name(cleaned))
    except ValueError:
        raise UserFacingError(
            N_(
                "“{zone}” isn't a time zone I know. Use an IANA name such as "
                "`Europe/London`, `America/New_York` or `UTC`. Nothing was created."
            ),
            zone=cleaned[:40],
        ) from None


def clean_prompt(text: str) -> str:
    prompt = text.strip()
    if not prompt:
        raise UserFacingError(N_("The prompt can't be empty: what should I ask the group?"))
    if len(prompt) > MAX_PROMPT:
        raise UserFacingError(
            N_(
                "That prompt is {length} characters; please keep it to {limit}. "
                "Nothing was created."
            ),
            length=len(prompt),
            limit=MAX_PROMPT,
        )
    return prompt
