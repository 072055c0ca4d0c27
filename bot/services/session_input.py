"""What coordinators type about sessions, read: a session's number, a reason, and a start
given with a Spanish day name (the rota's parser reads English ones and `YYYY-MM-DD HH:MM`)."""

from __future__ import annotations

import re

from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.text import one_line

MAX_REASON = 200
_NUMBER = re.compile(r"#?(\d{1,12})")


def session_number(text: str) -> int:
    """The session a coordinator typed or picked: "12" or "#12"."""
    match = _NUMBER.fullmatch(one_line(text))
    if match is None:
        raise UserFacingError(
            N_(
                "Pick a session from the suggestions, or give its number like `#12` "
                "(`/group sessions list` shows them)."
            )
        )
    return int(match.group(1))


# Spanish day names (with and without accents) a coordinator may type for `start`, as the
# English the rota's parser reads: "miércoles 19:00" is "wednesday 19:00".
_SPANISH_DAYS = {
    "lunes": "monday", "lun": "monday", "martes": "tuesday", "mar": "tuesday",
    "miércoles": "wednesday", "miercoles": "wednesday", "mié": "wednesday", "mie": "wednesday",
    "jueves": "thursday", "jue": "thursday", "viernes": "friday", "vie": "friday",
    "sábado": "saturday", "sabado": "saturday", "sáb": "saturday", "sab": "saturday",
    "domingo": "sunday", "dom": "sunday",
}  # fmt: skip
_LEADING_WORD = re.compile(r"^\s*([^\W\d_]+)(\.?\s)", re.UNICODE)


def english_day(start: str) -> str:
    """`start` with a leading Spanish day name put in English ("Miércoles 19:00" → "wednesday
    19:00"); anything else (an English day, a `YYYY-MM-DD HH:MM` date) is left as typed."""
    match = _LEADING_WORD.match(start)
    if match is None:
        return start
    english = _SPANISH_DAYS.get(match.group(1).casefold())
    if english is None:
        return start
    return english + match.group(2) + start[match.end() :]


def clean_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    cleaned = one_line(reason)
    if len(cleaned) > MAX_REASON:
        raise UserFacingError(N_("Keep the reason under {max} characters."), max=MAX_REASON)
    return cleaned or None
