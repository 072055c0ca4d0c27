"""Messages held for members whose DMs are closed, delivered privately at their next interaction."""

from __future__ import annotations

from bot.clock import Clock
from bot.db import Database, to_ts


class NoticeService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def hold(self, guild_id: int, user_id: int, text: str) -> None:
        await self._db.execute(
            "INSERT INTO pending_notices (guild_id, user_id, text, created_at) VALUES (?, ?, ?, ?)",
            (guild_id, user_id, text, to_ts(self._clock.now())),
        )

    async def has_pending(self, user_id: int) -> bool:
        return bool(
            await self._db.fetchval(
                "SELECT EXISTS (SELECT 1 FROM pending_notices WHERE user_id = ?)", (user_id,)
            )
        )

    async def take(self, user_id: int) -> list[str]:
        """Remove and return a member's held notices, oldest first, so each is shown once."""
        rows = await self._db.write_fetchall(
            "DELETE FROM pending_notices WHERE user_id = ? RETURNING id, text", (user_id,)
        )
        return [row["text"] for row in sorted(rows, key=lambda row: row["id"])]
