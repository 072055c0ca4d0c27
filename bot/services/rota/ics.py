"""An iCalendar (RFC 5545) file of a supporter's shifts, written by hand to avoid a dependency."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.i18n import ENGLISH, Texts
from bot.services.rota.models import Shift

MAX_OCTETS = 75


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """Split a content line into 75-octet pieces joined by CRLF + space, never inside a char."""
    pieces: list[str] = []
    current, size, limit = "", 0, MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, MAX_OCTETS - 1  # continuation lines start with a space
        current += char
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def shifts_calendar(
    shifts: list[Shift], server_name: str, now: datetime, tr: Texts = ENGLISH
) -> bytes:
    """The calendar's human-readable text (its name, each event's summary and description) is
    written in `tr`'s language; the rest is RFC 5545."""
    name = tr.gettext("My shifts · {server}").format(server=server_name)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Hearth//Peer-support rota//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_text(name)}",
    ]
    for shift in shifts:
        slot = shift.slot
        summary = tr.gettext("{rota} (peer-support shift)").format(rota=slot.rota_name)
        description = tr.gettext("Your shift on {server}, slot #{slot}.").format(
            server=server_name, slot=slot.id
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:hearth-rota-{slot.guild_id}-{slot.id}-{shift.user_id}@hearth",
            f"DTSTAMP:{_utc(now)}",
            f"DTSTART:{_utc(slot.starts_at)}",
            f"DTEND:{_utc(slot.ends_at)}",
            f"SUMMARY:{_text(summary)}",
            f"DESCRIPTION:{_text(description)}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines).encode("utf-8")
