"""Facts about the bot itself rather than any server (the hash of the last command sync)."""

from __future__ import annotations

from bot.db import Database
from bot.services.data import TableData


async def get_value(db: Database, key: str) -> str | None:
    value = await db.fetchval("SELECT value FROM bot_meta WHERE key = ?", (key,))
    return None if value is None else str(value)


async def set_value(db: Database, key: str, value: str) -> None:
    await db.execute(
        "INSERT INTO bot_meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (TableData("bot_meta", export="never", why="process-level facts, not any server's"),)
