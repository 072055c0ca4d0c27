"""One refresh of a server's sign-up panels at a time, across every process.

Each join or leave asks for the server's panels to be edited. Two processes editing the same
panels at once would race: the one that read the counts first can finish last and leave the
panel wrong, and both might post the extra message a grown panel needs. So a refresh is asked
for in the database (`wanted` goes up) and claimed there by one process for a lease; whoever
asks while it is held just leaves the count raised, and the holder, finishing a pass, releases
only if nothing was asked since it began, else goes again. That is the in-memory "dirty flag
and lock" this replaced, shared; a crashed holder's claim lapses after `LEASE`.
"""

from __future__ import annotations

from datetime import timedelta

from bot.db import Tx, to_ts
from bot.services.base import Service
from bot.services.data import TableData

LEASE = timedelta(minutes=2)  # far longer than a pass (a few edits) takes
_ANY_PANEL = "SELECT 1 FROM group_panels WHERE guild_id = ? LIMIT 1"


class PanelRefreshes(Service):
    def _until(self) -> tuple[int, int]:
        now = to_ts(self._clock.now())
        return now, now + int(LEASE.total_seconds())

    async def ask(self, guild_id: int, holder: str) -> int | None:
        """Ask for a refresh. Returns the count to refresh up to when `holder` now holds the
        claim (it runs a pass, then `finish`), None when another pass will pick this up."""
        now, until = self._until()
        # Most servers have no panel: then there is nothing to edit or record, and a read (no
        # write, so no wait for SQLite's one writer) is all a join or leave pays here.
        if await self._db.fetchone(_ANY_PANEL, (guild_id,)) is None:
            return None

        def unit(tx: Tx) -> int | None:
            if tx.fetchone(_ANY_PANEL, (guild_id,)) is None:
                return None  # the last panel went meanwhile
            tx.execute(
                "INSERT INTO group_panel_refresh (guild_id, wanted) VALUES (?, 1) "
                "ON CONFLICT (guild_id) DO UPDATE SET wanted = group_panel_refresh.wanted + 1",
                (guild_id,),
            )
            row = tx.fetchone(
                "UPDATE group_panel_refresh SET holder = ?, lease_until = ? "
                "WHERE guild_id = ? AND (holder IS NULL OR lease_until < ?) RETURNING wanted",
                (holder, until, guild_id, now),
            )
            return None if row is None else int(row["wanted"])

        return await self._db.write(unit)

    async def finish(self, guild_id: int, holder: str, seen: int) -> int | None:
        """After a pass that covered asks up to `seen`: release the claim if nobody asked since
        (None), or keep it and return the new count for another pass. None also when the claim
        lapsed meanwhile (another process holds it and will refresh)."""
        _, until = self._until()

        def unit(tx: Tx) -> int | None:
            released = tx.execute(
                "UPDATE group_panel_refresh SET holder = NULL, lease_until = NULL "
                "WHERE guild_id = ? AND holder = ? AND wanted = ?",
                (guild_id, holder, seen),
            )
            if released:
                return None
            row = tx.fetchone(
                "UPDATE group_panel_refresh SET lease_until = ? "
                "WHERE guild_id = ? AND holder = ? RETURNING wanted",
                (until, guild_id, holder),
            )
            return None if row is None else int(row["wanted"])

        return await self._db.write(unit)

    async def abandon(self, guild_id: int, holder: str) -> None:
        """A pass failed: let the next ask claim it at once rather than after the lease."""
        await self._db.execute(
            "UPDATE group_panel_refresh SET holder = NULL, lease_until = NULL "
            "WHERE guild_id = ? AND holder = ?",
            (guild_id, holder),
        )


TABLES = (
    TableData(
        "group_panel_refresh",
        export="never",
        why="which process is editing a server's panels: internal",
    ),
)
