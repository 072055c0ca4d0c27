"""Time zone suggestions: people type a city ("london", "new york"), not an IANA path."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from bot.i18n import Texts

MAX_CHOICES = 25
COMMON = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Australia/Sydney",
)


@lru_cache(maxsize=1)
def _zones() -> tuple[str, ...]:
    return tuple(
        sorted(
            name
            for name in available_timezones()
            if not name.startswith(("posix/", "right/")) and name not in {"localtime", "Factory"}
        )
    )


def _rank(name: str, typed: str) -> int | None:
    """Lower is better: exact, prefix of the whole name, prefix of the city, anywhere."""
    lowered = name.lower()
    city = lowered.rsplit("/", 1)[-1]
    if lowered == typed or city == typed:
        return 0
    if lowered.startswith(typed):
        return 1
    if city.startswith(typed):
        return 2
    if typed in lowered:
        return 3
    return None


def suggest(typed: str, limit: int = MAX_CHOICES) -> list[str]:
    """The best-matching IANA names for what someone typed, best first."""
    needle = typed.strip().lower().replace(" ", "_")
    if not needle:
        return list(COMMON)
    ranked = [(rank, name) for name in _zones() if (rank := _rank(name, needle)) is not None]
    ranked.sort(key=lambda item: (item[0], len(item[1]), item[1]))
    return [name for _, name in ranked[:limit]]


def label(name: str, now: datetime, tr: Texts) -> str:
    """ "Europe/London (UTC+01:00 now)", so people can check they picked the right one (the
    zone's name stays as IANA writes it; the rest is in `tr`'s language)."""
    offset = now.astimezone(ZoneInfo(name)).utcoffset()
    if offset is None:
        return name
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return tr.gettext("{zone} (UTC{offset} now)").format(
        zone=name, offset=f"{sign}{hours:02d}:{rest:02d}"
    )


def resolve(typed: str) -> str | None:
    """The zone someone clearly meant: the exact name in any case, or a city only one zone has."""
    needle = typed.strip().lower().replace(" ", "_")
    if not needle:
        return None
    exact = [name for name in _zones() if name.lower() == needle]
    if exact:
        return exact[0]
    cities = [name for name in _zones() if name.lower().rsplit("/", 1)[-1] == needle]
    return cities[0] if len(cities) == 1 else None
