"""What a coordinator types as a setting's value, read into its type; and a refused value
explained in the reader's language.

Kept apart from `settings.py`, which declares the settings and stores them: this is only about
turning text into values and pydantic's refusals into `UserFacingError`s.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from bot.errors import InvalidValue, UserFacingError
from bot.i18n import N_
from bot.services.text import one_line

MAX_SETTING_VALUE = 200
MAX_SHOWN_VALUE = 64  # a refused value is echoed back at most this long

# A number out of its range, worded as pydantic words it (the English stays as it was), so the
# refusal can be translated; other problems are shown as pydantic says them.
_BOUNDS = {
    "greater_than_equal": (
        N_("That setting isn't valid: `{key}`: Input should be greater than or equal to {limit}."),
        "ge",
    ),
    "less_than_equal": (
        N_("That setting isn't valid: `{key}`: Input should be less than or equal to {limit}."),
        "le",
    ),
}


def is_number(text: str) -> bool:
    """ASCII digits only: `int()` also reads "٣" and refuses "²", which `isdigit()` accepts."""
    return text.isascii() and text.isdecimal()


def parse_typed(key: str, raw: str, annotation: Any) -> Any:
    """Turn what a coordinator typed into the setting's type (`annotation`), or explain what
    is expected."""
    if len(raw) > MAX_SETTING_VALUE:
        raise UserFacingError(
            N_(
                "That value is {length} characters; a setting takes at most {limit}. "
                "Nothing was changed."
            ),
            length=len(raw),
            limit=MAX_SETTING_VALUE,
        )
    text = one_line(raw)
    if annotation is bool:
        lowered = text.lower()
        if lowered in {"on", "yes", "true", "1"}:
            return True
        if lowered in {"off", "no", "false", "0"}:
            return False
        raise UserFacingError(N_("`{key}` takes on or off."), key=key)
    if annotation in (int, int | None):
        if annotation == int | None and text.lower() in {"none", "off", ""}:
            return None
        digits = text.strip("<#@&>")
        if not is_number(digits.removeprefix("-")):
            raise UserFacingError(N_("`{key}` takes a whole number."), key=key)
        return int(digits)
    return text


def refusal(exc: ValidationError) -> UserFacingError:
    """A refused change in words the reader's catalogue has: a validator's own (`InvalidValue`),
    a number out of range, else pydantic's wording."""
    errors = exc.errors()
    for error in errors:
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, InvalidValue):
            return UserFacingError.filled(cause.template, cause.params)
    bound = _BOUNDS.get(errors[0]["type"]) if len(errors) == 1 else None
    if bound is not None:
        template, limit = bound
        return UserFacingError(
            template,
            key=".".join(map(str, errors[0]["loc"])) or "value",
            limit=errors[0].get("ctx", {}).get(limit),
        )
    problems = "; ".join(
        f"`{'.'.join(map(str, err['loc'])) or 'value'}`: {err['msg'].removeprefix('Value error, ')}"
        for err in errors
    )
    return UserFacingError(N_("That setting isn't valid: {problems}."), problems=problems)
