"""Discord's global request budget, shared by every process of one bot through PostgreSQL.

The schedule is GCRA's virtual scheduling on one row per bot: `tat_us` is the next free moment
(microseconds on the database server's clock, so processes on machines whose clocks disagree
still agree). Taking `count` slots moves it to `max(tat, now) + count × interval` in one
statement and answers how long until the first of them; slot i follows `i × interval` later.
Row locks queue concurrent takers at READ COMMITTED, so no two processes get the same slot.
`bot/pacing.py` decides when to ask and sleeps until each slot.
"""

from __future__ import annotations

import base64
import hashlib

from bot.db import Database
from bot.services.data import TableData

_NOW_US = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000 AS BIGINT)"
# PostgreSQL only (the server's clock): on SQLite there is one process and no shared budget.
TAKE_SLOTS = (
    "INSERT INTO rate_budget (bucket, tat_us) "
    f"VALUES (:bucket, {_NOW_US} + CAST(:span AS BIGINT)) "
    "ON CONFLICT (bucket) DO UPDATE SET "
    f"tat_us = GREATEST(rate_budget.tat_us, {_NOW_US}) + CAST(:span AS BIGINT) "
    f"RETURNING rate_budget.tat_us - CAST(:span AS BIGINT) - {_NOW_US} AS wait_us"
)


def bucket_for(token: str) -> str:
    """The budget's key for a bot token: Discord counts per bot, and a token's first part is its
    bot's id in base64, so a regenerated token keeps its budget. Anything else (a test token) is
    keyed by a digest; the token itself is never stored."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=True).decode()
    except (ValueError, UnicodeDecodeError):
        decoded = ""
    if decoded.isascii() and decoded.isdecimal():
        return f"bot:{decoded}"
    return "token:" + hashlib.sha256(token.encode()).hexdigest()[:32]


class RateBudget:
    def __init__(self, db: Database) -> None:
        self._db = db

    @property
    def ready(self) -> bool:
        """Whether the store is open (a bot logs in before `setup_hook` connects it)."""
        return self._db.connected

    async def take(self, bucket: str, count: int, interval_us: int) -> float:
        """Reserve `count` consecutive slots `interval_us` apart; seconds until the first."""
        row = (
            await self._db.write_read_committed(
                TAKE_SLOTS, {"bucket": bucket, "span": count * interval_us}
            )
        )[0]
        return max(0, int(row["wait_us"])) / 1_000_000


TABLES = (
    TableData(
        "rate_budget", export="never", why="the request schedule processes share, not a server's"
    ),
)
