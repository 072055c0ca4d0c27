"""What people type, made safe to store and show: names and short fields on one line, with the
characters that cannot be seen taken out.

A Discord client sends anything a keyboard or a paste can make: control characters, zero-width
spaces, right-to-left overrides. Kept in a name, they make "Carers circle" and "Carers\u200bcircle"
two groups that look the same, or turn the rest of a list line backwards. Every service that
stores or looks up a typed name goes through `one_line`.
"""

from __future__ import annotations

import unicodedata

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


def paragraphs(text: str) -> str:
    """Longer text (a description): each line as `one_line` makes it, blank runs kept to one."""
    lines = [one_line(line) for line in text.splitlines()]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()
