"""The registry of servers the bot is in, so a removal can be undone within the retention window."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from bot.db import Tx, from_ts, to_ts
from bot.services.base import Service
from bot.services.data import TableData
from bot.services.outbox import OutboxSpec, insert_in


class GuildRecord(BaseModel):
    guild_id: int
    joined_at: datetime
    left_at: datetime | None
    greeted_at: datetime | None


class GuildRegistry(Service):
    async def joined(self, guild_id: int) -> bool:
        """Record that the bot is in a server; True when it arrived (never seen before, or back
        within the retention window), False when it was already known to be there."""
        now = to_ts(self._clock.now())

        # One transaction: as two statements, a retention purge could delete the old row
        # between them, and the re-invited server would be left with no row at all.
        def join(tx: Tx) -> bool:
            inserted = tx.execute(
                "INSERT INTO guilds (guild_id, joined_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (guild_id, now),
            )
            if inserted:
                return True
            returned = tx.execute(
                "UPDATE guilds SET left_at = NULL WHERE guild_id = ? AND left_at IS NOT NULL",
                (guild_id,),
            )
            return bool(returned)

        return await self._db.write(join)

    async def is_present(self, guild_id: int) -> bool:
        """Whether Hearth is in the server now, whichever process runs its shard."""
        found = await self._db.fetchval(
            "SELECT 1 FROM guilds WHERE guild_id = ? AND left_at IS NULL", (guild_id,)
        )
        return found is not None

    async def left(self, guild_id: int) -> None:
        await self._db.execute(
            "UPDATE guilds SET left_at = ? WHERE guild_id = ? AND left_at IS NULL",
            (to_ts(self._clock.now()), guild_id),
        )

    async def claim_greeting(
        self, guild_id: int, greeting: OutboxSpec, now: datetime, lease: tuple[str, datetime]
    ) -> int | None:
        """Mark the server greeted and record its greeting's outbox row (born leased) in one
        transaction; the row's id, or None if it was greeted before (a repeated join event)."""

        def claim(tx: Tx) -> int | None:
            claimed = tx.execute(
                "UPDATE guilds SET greeted_at = ? WHERE guild_id = ? AND greeted_at IS NULL",
                (to_ts(now), guild_id),
            )
            if not claimed:
                return None
            return insert_in(tx, greeting, now, lease)

        return await self._db.write(claim)

    async def get(self, guild_id: int) -> GuildRecord | None:
        row = await self._db.fetchone("SELECT * FROM guilds WHERE guild_id = ?", (guild_id,))
        if row is None:
            return None
        return GuildRecord(
            guild_id=row["guild_id"],
            joined_at=from_ts(row["joined_at"]),
            left_at=None if row["left_at"] is None else from_ts(row["left_at"]),
            greeted_at=None if row["greeted_at"] is None else from_ts(row["greeted_at"]),
        )

    async def note_locales(self, locales: dict[int, str]) -> None:
        """Remember servers' own Discord languages (`guild.preferred_locale`), for the processes
        that don't have them in their cache. Read first, so a start with thousands of servers
        writes only the few whose language changed (usually none)."""
        if not locales:
            return
        if len(locales) == 1:  # a join or a change: that server's row only
            rows = await self._db.fetchall(
                "SELECT guild_id, preferred_locale FROM guilds WHERE guild_id = ?", tuple(locales)
            )
        else:  # a start: every server's, in one read
            rows = await self._db.fetchall("SELECT guild_id, preferred_locale FROM guilds")
        stored = {row["guild_id"]: row["preferred_locale"] for row in rows}
        changed = [
            (locale, guild_id)
            for guild_id, locale in locales.items()
            if guild_id in stored and stored[guild_id] != locale
        ]
        if not changed:
            return

        def write(tx: Tx) -> None:
            tx.executemany("UPDATE guilds SET preferred_locale = ? WHERE guild_id = ?", changed)

        await self._db.write(write)

    async def preferred_locale(self, guild_id: int) -> str | None:
        found = await self._db.fetchval(
            "SELECT preferred_locale FROM guilds WHERE guild_id = ?", (guild_id,)
        )
        return None if found is None else str(found)

    async def present_ids(self) -> set[int]:
        rows = await self._db.fetchall("SELECT guild_id FROM guilds WHERE left_at IS NULL")
        return {row["guild_id"] for row in rows}


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (TableData("guilds", export="rows", why="which servers Hearth is in, and since when"),)
