"""Deleting a server's data once the bot has been gone from it for the retention window.

The window exists so a removal by mistake loses nothing: a re-invite before it ends clears
`guilds.left_at` and the purge then does nothing. The purge is generic over the schema (every
table with a `guild_id`, and tables hanging off them by foreign key), so tables added by later
features are covered without this module knowing them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel

from bot.db import Tx, from_ts
from bot.services.base import Service
from bot.services.export import children_first, discover_tables, guild_scope, quote
from bot.services.settings import SETTINGS_TOPIC

PURGE_TIMER = "guild_purge"


class PurgeOutcome(BaseModel):
    guild_id: int
    status: Literal["purged", "returned", "not_yet", "unknown"]
    due_at: datetime | None = None
    deleted: dict[str, int] = {}

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


class RetentionService(Service):
    async def purge_if_due(self, guild_id: int, window: timedelta) -> PurgeOutcome:
        """Delete every row of a server the bot left at least `window` ago, in one transaction.

        The still-gone check runs inside the same transaction as the deletes, so a re-invite
        (which clears `left_at`) cannot interleave with a purge.
        """
        tables = await discover_tables(self._db)
        scoped = [name for name in tables if guild_scope(tables, name) is not None]
        order = children_first(tables, scoped)
        params = {"guild_id": guild_id}
        now = self._clock.now()

        def purge(tx: Tx) -> PurgeOutcome:
            row = tx.fetchone("SELECT left_at FROM guilds WHERE guild_id = ?", (guild_id,))
            if row is None:
                return PurgeOutcome(guild_id=guild_id, status="unknown")
            if row["left_at"] is None:
                return PurgeOutcome(guild_id=guild_id, status="returned")
            due = from_ts(row["left_at"]) + window
            if due > now:
                return PurgeOutcome(guild_id=guild_id, status="not_yet", due_at=due)
            deleted: dict[str, int] = {}
            for name in order:
                count = tx.execute(
                    f"DELETE FROM {quote(name)} WHERE {guild_scope(tables, name)}", params
                )
                if count > 0:
                    deleted[name] = count
            tx.invalidate(SETTINGS_TOPIC, guild_id)  # no process keeps the old settings
            return PurgeOutcome(guild_id=guild_id, status="purged", deleted=deleted)

        return await self._db.write(purge)
