"""A tiny PNG encoder and a mood bar chart, so `/checkin history` needs no imaging library.

PNG is a signature plus chunks (length, type, data, CRC-32); the pixels are zlib-compressed
scanlines, each prefixed by a filter byte (0 = none). That is all a small chart needs.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from datetime import date

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
Color = tuple[int, int, int]

BACKGROUND: Color = (255, 255, 255)
GRID: Color = (226, 226, 232)
AXIS: Color = (120, 120, 130)
EMPTY: Color = (238, 238, 242)
# Mood 1 (struggling) to 5 (doing well): warm to calm, readable for common colour blindness.
MOOD_COLORS: dict[int, Color] = {
    1: (213, 94, 0),
    2: (230, 159, 0),
    3: (240, 228, 66),
    4: (86, 180, 233),
    5: (0, 114, 178),
}


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def encode_png(width: int, height: int, pixels: Sequence[bytes | bytearray]) -> bytes:
    """Encode 8-bit RGB rows (each `width * 3` bytes) as a PNG file."""
    if len(pixels) != height or any(len(row) != width * 3 for row in pixels):
        raise ValueError("pixel rows do not match the image size")
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


class Canvas:
    def __init__(self, width: int, height: int, background: Color = BACKGROUND) -> None:
        self.width = width
        self.height = height
        self.rows = [bytearray(bytes(background) * width) for _ in range(height)]

    def fill(self, x0: int, y0: int, x1: int, y1: int, color: Color) -> None:
        """Fill the rectangle [x0, x1) × [y0, y1), clipped to the canvas."""
        x0, x1 = max(0, x0), min(self.width, x1)
        y0, y1 = max(0, y0), min(self.height, y1)
        if x0 >= x1 or y0 >= y1:
            return
        span = bytes(color) * (x1 - x0)
        for y in range(y0, y1):
            self.rows[y][x0 * 3 : x1 * 3] = span

    def png(self) -> bytes:
        return encode_png(self.width, self.height, self.rows)


def mood_chart(days: Sequence[tuple[date, float | None]], height: int = 160) -> bytes:
    """One bar per day, its height the day's mood (1–5); days without an answer show a stub."""
    margin, top = 24, 12
    slot = max(4, min(24, 560 // max(1, len(days))))
    width = max(160, margin * 2 + slot * len(days))
    canvas = Canvas(width, height)
    plot_h = height - top - margin
    base = top + plot_h
    for level in range(1, 6):  # grid lines at each mood level
        y = base - plot_h * level // 5
        canvas.fill(margin, y, width - margin // 2, y + 1, GRID)
    canvas.fill(margin - 1, top, margin, base + 1, AXIS)
    canvas.fill(margin - 1, base, width - margin // 2, base + 1, AXIS)
    gap = max(1, slot // 5)
    for index, (_, mood) in enumerate(days):
        x0 = margin + index * slot + gap
        x1 = margin + (index + 1) * slot - gap
        if mood is None:
            canvas.fill(x0, base - 2, x1, base, EMPTY)
            continue
        bar = max(2, round(plot_h * mood / 5))
        canvas.fill(x0, base - bar, x1, base, MOOD_COLORS[max(1, min(5, round(mood)))])
    return canvas.png()
