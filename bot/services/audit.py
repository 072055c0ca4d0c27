"""The audit trail: who did which admin action when, for coordinators to review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel

from bot.db import Tx, from_ts, to_ts
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.base import Service
from bot.services.data import PersonColumn, TableData
from bot.services.outbox import OutboxSpec, insert_in
from bot.services.text import discord_time

MAX_AUDIT_DAYS = 3650
LOG_POST_KIND = "audit.log"


@dataclass(frozen=True)
class PostTo:
    """Where an entry is also posted (the log channel), and who sends it and for how long."""

    channel_id: int
    owner: str
    lease: timedelta


def log_line(moment: datetime, actor_id: int, action: str, detail: str) -> str:
    text = f"{discord_time(moment)} <@{actor_id}> **{action}**"
    return (text + (f" — {detail}" if detail else ""))[:2000]


class AuditEntry(BaseModel):
    id: int
    guild_id: int
    actor_id: int
    action: str
    detail: str
    created_at: datetime
    post_id: int | None = None  # its log-channel post in the outbox, when one was recorded


class AuditService(Service):
    async def record(
        self,
        guild_id: int,
        actor_id: int,
        action: str,
        detail: str = "",
        *,
        post: PostTo | None = None,
    ) -> AuditEntry:
        """Record an action; with `post`, also its log-channel post as an outbox row, in the same
        transaction, born leased to the sender (`post.owner`), its id in `post_id`."""
        now = self._clock.now()

        def write(tx: Tx) -> tuple[int, int | None]:
            entry_id = tx.fetchval(
                "INSERT INTO audit_log (guild_id, actor_id, action, detail, created_at) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (guild_id, actor_id, action, detail, to_ts(now)),
            )
            if post is None:
                return entry_id, None
            spec = OutboxSpec(
                guild_id=guild_id,
                kind=LOG_POST_KIND,
                due_at=now,
                channel_id=post.channel_id,
                payload={"content": log_line(now, actor_id, action, detail)},
            )
            return entry_id, insert_in(tx, spec, now, (post.owner, now + post.lease))

        entry_id, post_id = await self._db.write(write)
        return AuditEntry(
            id=entry_id,
            guild_id=guild_id,
            actor_id=actor_id,
            action=action,
            detail=detail,
            created_at=now.replace(microsecond=0),
            post_id=post_id,
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
            raise UserFacingError(
                N_("The audit trail looks back 1 to {days} days."), days=MAX_AUDIT_DAYS
            )
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


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData(
        "audit_log",
        export="rows",
        why="the trail coordinators answer to; never answers or notes",
        people=(
            PersonColumn(
                "actor_id",
                "none",
                N_("admin actions you took"),
                "the audit trail is how a server holds its coordinators to account; it never "
                "holds members' answers or notes",
            ),
        ),
    ),
)
