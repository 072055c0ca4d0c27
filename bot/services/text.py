"""What people type, made safe to store and show: names and short fields on one line, with the
characters that cannot be seen taken out.

A Discord client sends anything a keyboard or a paste can make: control characters, zero-width
spaces, right-to-left overrides. Kept in a name, they make "Carers circle" and "Carers\u200bcircle"
two groups that look the same, or turn the rest of a list line backwards. Every service that
stores or looks up a typed name goes through `one_line`.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo

# Invisible "format" characters that still matter: the joiner inside emoji sequences (👩‍👩‍👧) and
# the variation selectors' neighbours; everything else of category Cf (zero-width space, BOM,
# bidirectional overrides and isolates, soft hyphen) is dropped.
_KEPT_FORMAT = {"\u200d"}


def visible(text: str) -> str:
    """`text` without control characters (newlines and tabs become spaces) and invisible format
    characters."""
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category == "Cc":
            kept.append(" " if char in "\t\n\r\v\f" else "")
        elif category == "Cf" and char not in _KEPT_FORMAT:
            continue
        else:
            kept.append(char)
    return "".join(kept)


def one_line(text: str) -> str:
    """A name or short field as it is stored and shown: visible characters, single spaces."""
    return " ".join(visible(text).split())


def contains_pattern(typed: str) -> str:
    """A LIKE pattern (with `ESCAPE '\\'`) for "contains what was typed", wildcards taken literally.

    Suggestions compare on casefolded keys: what a member types is casefolded the same way.
    """
    key = one_line(typed).casefold()
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def paragraphs(text: str) -> str:
    """Longer text (a description): each line as `one_line` makes it, blank runs kept to one."""
    lines = [one_line(line) for line in text.splitlines()]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()


def split_text(text: str, limit: int = 2000) -> list[str]:
    """A long text as consecutive messages of at most `limit` characters, split at line ends
    (a single longer line at spaces): for what must all be seen at once, never paged."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit) if " " in line[:limit] else limit
            cut = cut if cut > 0 else limit
            head, line = line[:cut], line[cut:].lstrip(" ")
            if current:
                parts.append(current)
                current = ""
            parts.append(head)
        candidate = f"{current}\n{line}" if current else line
        if current and len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts


# Discord's timestamp styles: t 16:20, T 16:20:30, d 20/04/2021, D 20 April 2021,
# f 20 April 2021 16:20, F Tuesday, 20 April 2021 16:20, R "in 2 hours".
TimeStyle = Literal["t", "T", "d", "D", "f", "F", "R"]


def discord_day(day: date, zone: ZoneInfo) -> str:
    """A day as Discord shows it in each reader's language and calendar: its local noon (never
    skipped or doubled by a clock change), so a reader hours east or west sees the same date."""
    return discord_time(datetime.combine(day, time(12, 0), zone), "D")


def discord_time(moment: datetime, style: TimeStyle = "f") -> str:
    """Discord's `<t:…>` markup, which each reader's app shows in their own time zone and
    language. It is `discord.utils.format_dt`'s output, for services, which never import discord
    (the cogs call `format_dt` itself); a test holds the two equal."""
    return f"<t:{int(moment.timestamp())}:{style}>"
