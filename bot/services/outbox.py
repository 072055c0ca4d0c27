"""The outbox: everything Hearth sends on its own initiative, claimed from the database.

A feature never sends a notice directly: it writes an outbox row (a kind, a target and a payload
to render) in the same transaction as the change that causes it, so a crash can lose neither the
change nor the message. The dispatcher then claims rows in small batches with one guarded UPDATE
that takes a lease (`lease_owner`, and `ready_at` moved to the end of the lease): whichever
process or run wins the UPDATE sends the row, nobody else can claim it until the lease runs out,
and a lease left by a process that died simply expires so the row is sent again. A resend of a
row that Discord had already accepted carries the same nonce (`nonce(id)`), so Discord returns
the first message instead of posting a second.

The SQL is plain enough for SQLite and PostgreSQL alike: `UPDATE … WHERE id IN (SELECT … LIMIT)
AND <the same guard> RETURNING`. Under PostgreSQL's READ COMMITTED the outer guard is re-checked
on the latest row version, so two concurrent claimers still never both win a row (the loser just
gets a smaller batch; adding `FOR UPDATE SKIP LOCKED` to the subquery there avoids the wait).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel

from bot.db import SKIP_LOCKED, Database, Tx, from_ts, to_ts
from bot.i18n import N_
from bot.services.data import TableData
from bot.services.rows import model_of
from bot.shards import ScopeFilter, ShardScope

Status = Literal["pending", "sent", "failed", "dropped"]

CLAIM_BATCH = 20
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 5
BACKOFF_FIRST = timedelta(seconds=10)
BACKOFF_MAX = timedelta(minutes=5)
# Finished rows (already without their payload) are kept this long, for the log's sake.
RETENTION = timedelta(days=7)
NONCE_PREFIX = "hob"
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_EVERYTHING = ShardScope.everything()
# `tx.invalidate(WAKE_TOPIC, guild_id)`: work was left for the process running that server's
# shard (outbox rows, timers): it runs its dispatcher now rather than at its next wake-up.
WAKE_TOPIC = "wake"

INSERT = (
    "INSERT INTO outbox (guild_id, kind, channel_id, user_id, payload, created_at, due_at, "
    "expires_at, ready_at, lease_owner, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_COLUMNS = (
    "id, guild_id, kind, channel_id, user_id, payload, due_at, expires_at, attempts, lease_owner"
)
# The guard a claim re-checks on the row it updates: still unsent and not leased by anyone.
_CLAIMABLE = "status = 'pending' AND ready_at <= :now"


def _claim_sql(scope: ScopeFilter) -> str:
    """The claim, kept to a process's servers: the picking SELECT is filtered (the outer guard
    need not be: a row's server never changes)."""
    return (
        f"WITH picked AS (SELECT id FROM outbox WHERE {_CLAIMABLE}{scope.sql} "
        f"ORDER BY ready_at, id LIMIT :limit {SKIP_LOCKED}) "
        "UPDATE outbox SET lease_owner = :owner, ready_at = :lease_until, attempts = attempts + 1 "
        f"WHERE id IN (SELECT id FROM picked) AND {_CLAIMABLE} RETURNING {_COLUMNS}"
    )


_CLAIM = _claim_sql(ShardScope.everything().where())
_NEXT_DUE = "SELECT MIN(ready_at) FROM outbox WHERE status = 'pending'"


@dataclass(frozen=True)
class OutboxSpec:
    """One message to send: what kind, to whom, with what data, and until when it is worth it."""

    guild_id: int
    kind: str
    due_at: datetime
    channel_id: int | None = None
    user_id: int | None = None
    payload: dict[str, Any] = field(default_factory=dict)
    expires_at: datetime | None = None


class OutboxItem(BaseModel):
    id: int
    guild_id: int
    kind: str
    channel_id: int | None
    user_id: int | None
    payload: dict[str, Any]
    due_at: datetime
    expires_at: datetime | None
    attempts: int

    @property
    def nonce(self) -> str:
        return nonce(self.id)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


def nonce(item_id: int) -> str:
    """A nonce stable for the item (≤ 25 characters), so a resend is recognised by Discord."""
    digits = ""
    number = item_id
    while True:
        number, rest = divmod(number, 36)
        digits = _BASE36[rest] + digits
        if number == 0:
            return NONCE_PREFIX + digits


def backoff(attempts: int) -> timedelta:
    """Bounded exponential backoff after the `attempts`-th failed try: 10 s, 20 s, … 5 min."""
    return min(BACKOFF_FIRST * (1 << max(attempts - 1, 0)), BACKOFF_MAX)


def rows_for(
    specs: Iterable[OutboxSpec], now: datetime, lease: tuple[str, datetime] | None = None
) -> list[tuple[Any, ...]]:
    """`INSERT` parameters for `specs`; with `lease` (owner, until) the rows are born leased to a
    caller that sends them at once, so no dispatch run can take them meanwhile."""
    return [
        (
            spec.guild_id,
            spec.kind,
            spec.channel_id,
            spec.user_id,
            json.dumps(spec.payload),
            to_ts(now),
            to_ts(spec.due_at),
            None if spec.expires_at is None else to_ts(spec.expires_at),
            to_ts(lease[1]) if lease else to_ts(spec.due_at),
            lease[0] if lease else None,
            1 if lease else 0,  # born leased: its sender is trying it now
        )
        for spec in specs
    ]


def enqueue_in(tx: Tx, specs: Iterable[OutboxSpec], now: datetime) -> None:
    """Write outbox rows inside a caller's transaction (the change and its messages together)."""
    tx.executemany(INSERT, rows_for(specs, now))


def insert_in(
    tx: Tx,
    spec: OutboxSpec,
    now: datetime,
    lease: tuple[str, datetime] | None = None,
) -> int:
    """One row inside a caller's transaction (born leased with `lease`); its id."""
    [row] = rows_for([spec], now, lease)
    return int(tx.fetchval(INSERT + " RETURNING id", row))


def _item(row: Any) -> OutboxItem:
    return model_of(OutboxItem, row, payload=json.loads(row["payload"]))


class OutboxService:
    """Claims, leases and outcomes of outbox rows. `owner` names one process (or one sender)."""

    def __init__(self, db: Database, lease: timedelta = LEASE) -> None:
        self._db = db
        self.lease = lease

    async def enqueue(
        self,
        specs: Iterable[OutboxSpec],
        now: datetime,
        lease_owner: str | None = None,
        *,
        wake_owner: bool = False,
    ) -> list[int]:
        """Write rows on their own (when no other change goes with them); returns their ids.
        `wake_owner`: tell the process running each row's server (another one) to send now."""
        lease = None if lease_owner is None else (lease_owner, now + self.lease)
        chosen = list(specs)

        def insert(tx: Tx) -> list[int]:
            if wake_owner:
                for guild_id in sorted({spec.guild_id for spec in chosen}):
                    tx.invalidate(WAKE_TOPIC, guild_id)
            return [insert_in(tx, spec, now, lease) for spec in chosen]

        return await self._db.write(insert)

    async def get(self, item_id: int) -> OutboxItem | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", (item_id,))
        return None if row is None else _item(row)

    async def next_due(self, scope: ShardScope = _EVERYTHING) -> datetime | None:
        """When the next row of `scope`'s servers is ready (another process's rows never wake
        this one: it could not claim them)."""
        where = scope.where()
        value = await self._db.fetchval(_NEXT_DUE + where.sql, where.params)
        return None if value is None else from_ts(value)

    async def claim(
        self,
        owner: str,
        now: datetime,
        limit: int = CLAIM_BATCH,
        scope: ShardScope = _EVERYTHING,
    ) -> list[OutboxItem]:
        """Lease up to `limit` ready rows of `scope`'s servers to `owner`; each row is won by
        exactly one claimer."""
        where = scope.where()
        rows = await self._db.claim(
            _CLAIM if not where.sql else _claim_sql(where),
            where.bind(
                {
                    "owner": owner,
                    "now": to_ts(now),
                    "lease_until": to_ts(now + self.lease),
                    "limit": limit,
                }
            ),
        )
        return sorted((_item(row) for row in rows), key=lambda item: (item.due_at, item.id))

    async def mark_sent(self, item_id: int, message_id: int, now: datetime) -> None:
        await self._finish(item_id, "sent", now, message_id=message_id)

    async def drop(self, item_id: int, reason: str, now: datetime) -> None:
        """Not sent on purpose: stale (past its expiry) or no longer wanted (the member left)."""
        await self._finish(item_id, "dropped", now, error=reason)

    async def fail(self, item_id: int, reason: str, now: datetime) -> None:
        """Given up: a permanent refusal, or transient failures past `MAX_ATTEMPTS`."""
        await self._finish(item_id, "failed", now, error=reason)

    async def _finish(
        self,
        item_id: int,
        status: Status,
        now: datetime,
        *,
        message_id: int | None = None,
        error: str | None = None,
    ) -> None:
        # The payload goes as soon as it is no longer needed: it may hold a member's DM.
        await self._db.execute(
            "UPDATE outbox SET status = ?, message_id = ?, error = ?, finished_at = ?, "
            "payload = '{}', lease_owner = NULL WHERE id = ? AND status = 'pending'",
            (status, message_id, error, to_ts(now), item_id),
        )

    async def retry_later(self, item_id: int, owner: str, at: datetime, reason: str) -> None:
        """Hand a transiently failed row back, claimable again from `at`."""
        await self._db.execute(
            "UPDATE outbox SET ready_at = ?, lease_owner = NULL, error = ? "
            "WHERE id = ? AND status = 'pending' AND lease_owner = ?",
            (to_ts(at), reason, item_id, owner),
        )

    async def release(self, owner: str, now: datetime, ids: Iterable[int] | None = None) -> int:
        """Give back `owner`'s unsent leases (all, or `ids`) so the next run or start sends them;
        the claim's attempt is returned too, as nothing was tried."""
        sql = (
            "UPDATE outbox SET ready_at = ?, lease_owner = NULL, "
            "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END "
            "WHERE status = 'pending' AND lease_owner = ?"
        )
        params: list[Any] = [to_ts(now), owner]
        if ids is not None:
            chosen = list(ids)
            if not chosen:
                return 0
            sql += f" AND id IN ({','.join('?' * len(chosen))})"
            params += chosen
        return await self._db.execute(sql, params)

    async def purge_finished(self, before: datetime) -> int:
        return await self._db.execute(
            "DELETE FROM outbox WHERE status <> 'pending' AND finished_at < ?", (to_ts(before),)
        )

    async def counts(self, guild_id: int | None = None) -> dict[str, int]:
        """How many rows are in each status (for tests, the bench and the log)."""
        sql = "SELECT status, COUNT(*) AS n FROM outbox"
        params: tuple[Any, ...] = ()
        if guild_id is not None:
            sql += " WHERE guild_id = ?"
            params = (guild_id,)
        rows = await self._db.fetchall(sql + " GROUP BY status", params)
        return {row["status"]: row["n"] for row in rows}


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData.members_own(
        "outbox",
        N_("messages waiting to be sent to you, or about you"),
        why="the delivery queue; payloads may hold DMs and alerts naming members",
    ),
)
