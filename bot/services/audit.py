"""The audit trail: who did which admin action when, for coordinators to review."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from bot.clock import Clock
from bot.db import Database, from_ts, to_ts
from bot.errors import UserFacingError

MAX_AUDIT_DAYS = 3650


class AuditEntry(BaseModel):
    id: int
    guild_id: int
    actor_id: int
    action: str
    detail: str
    created_at: datetime


class AuditService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def record(
        self, guild_id: int, actor_id: int, action: str, detail: str = ""
    ) -> AuditEntry:
        now = self._clock.now()
        entry_id = await self._db.insert(
            "INSERT INTO audit_log (guild_id, actor_id, action, detail, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (guild_id, actor_id, action, detail, to_ts(now)),
        )
        return AuditEntry(
            id=entry_id,
            guild_id=guild_id,
            actor_id=actor_id,
            action=action,
            detail=detail,
            created_at=now.replace(microsecond=0),
        )

    async def list(
        self,
        guild_id: int,
        *,
        actor_id: int | None = None,
        days: int = 30,
        limit: int = 10,
        offset: int = 0,
    ) -> tuple[list[AuditEntry], int]:
        """A page of entries, newest first, and the total count for paging."""
        if not 1 <= days <= MAX_AUDIT_DAYS:
            raise UserFacingError(f"The audit trail looks back 1 to {MAX_AUDIT_DAYS} days.")
        since = to_ts(self._clock.now() - timedelta(days=days))
        where = "guild_id = ? AND created_at >= ?"
        params: list[object] = [guild_id, since]
        if actor_id is not None:
            where += " AND actor_id = ?"
            params.append(actor_id)
        total = await self._db.fetchval(f"SELECT COUNT(*) FROM audit_log WHERE {where}", params)
        rows = await self._db.fetchall(
            f"SELECT * FROM audit_log WHERE {where} ORDER BY created_at DESC, id DESC "
            "LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        entries = [
            AuditEntry(**{**dict(row), "created_at": from_ts(row["created_at"])}) for row in rows
        ]
        return entries, int(total)
