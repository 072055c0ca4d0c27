"""Messages held for members whose DMs are closed, delivered privately at their next interaction."""

from __future__ import annotations

from bot.clock import Clock
from bot.db import Database, Tx, to_ts
from bot.i18n import N_
from bot.services.base import Service
from bot.services.data import TableData

NOTICES_TOPIC = "notices"  # `tx.invalidate(NOTICES_TOPIC, user_id)`: they may have one now


class NoticeService(Service):
    """Every interaction asks whether its member has held notices, and almost nobody has: the
    answer comes from an in-memory set of who *may* have some, loaded once at start-up, so the
    common case costs no database round trip. Rows are only ever added through `hold`, which
    tells every other process too (bot/invalidation.py); anything that deletes rows elsewhere
    (a member erasing their data, another process showing them) leaves at most a stale entry,
    which the next `take` clears. While other processes' holds may go unheard, everyone may
    have some."""

    def __init__(self, db: Database, clock: Clock) -> None:
        super().__init__(db, clock)
        self._maybe_pending: set[int] = set()
        self._trusted = True

    async def load(self) -> None:
        """Add everyone with a held notice (added: a hold heard while this runs stays)."""
        rows = await self._db.fetchall("SELECT DISTINCT user_id FROM pending_notices")
        self._maybe_pending.update(row["user_id"] for row in rows)

    async def hold(self, guild_id: int, user_id: int, text: str) -> None:
        def insert(tx: Tx) -> None:
            tx.execute(
                "INSERT INTO pending_notices (guild_id, user_id, text, created_at) "
                "VALUES (?, ?, ?, ?)",
                (guild_id, user_id, text, to_ts(self._clock.now())),
            )
            tx.invalidate(NOTICES_TOPIC, user_id)

        await self._db.write(insert)
        self._maybe_pending.add(user_id)

    def may_have_pending(self, user_id: int) -> bool:
        return not self._trusted or user_id in self._maybe_pending

    # --- kept right across processes (bot/invalidation.py) -------------------------------------
    def invalidate(self, key: str) -> None:
        self._maybe_pending.add(int(key))

    def distrust(self) -> None:
        self._trusted = False

    async def trust(self) -> None:
        await self.load()
        self._trusted = True

    async def take(self, user_id: int) -> list[str]:
        """Remove and return a member's held notices, oldest first, so each is shown once."""
        self._maybe_pending.discard(user_id)
        rows = await self._db.write_fetchall(
            "DELETE FROM pending_notices WHERE user_id = ? RETURNING id, text", (user_id,)
        )
        return [row["text"] for row in sorted(rows, key=lambda row: row["id"])]


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData.members_own(
        "pending_notices",
        N_("messages held while your DMs were closed"),
        why="DMs held for a member: their private messages",
    ),
)
