"""One-shot timers kept in the database, so reminders and alerts survive restarts.

A feature schedules a timer under a (kind, ref) key it can later cancel; the dispatcher claims due
timers by deleting them and hands each to the handler registered for its kind, so a timer fires
at most once. A timer whose purpose is a message (a reminder, a debrief, an alert) registers a
converter instead: in the same transaction that deletes the timer, the converter turns it into
outbox rows, so the message is neither lost if the process dies nor sent twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from bot.db import Database, Tx, from_ts, to_ts
from bot.services.data import TableData
from bot.services.outbox import WAKE_TOPIC, OutboxSpec, enqueue_in
from bot.services.rows import model_of
from bot.shards import ScopeFilter, ShardScope

CLAIM_BATCH = 500
_EVERYTHING = ShardScope.everything()
# A prefix as a key range, so it is a seek on the (kind, ref) index: `LIKE 'claim:7:%'` would
# read every timer of the kind (SQLite only turns LIKE into a range for case-insensitive keys).
_DELETE_PREFIX = "DELETE FROM timers WHERE kind = ? AND ref >= ? AND ref < ?"
_UPSERT = (
    "INSERT INTO timers (guild_id, kind, ref, due_at, payload) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (kind, ref) DO UPDATE SET due_at = excluded.due_at, "
    "payload = excluded.payload, guild_id = excluded.guild_id"
)


TimerSpec = tuple[str, str, datetime, dict[str, Any] | None]  # kind, ref, due_at, payload


def schedule_in(tx: Tx, guild_id: int, timers: Iterable[TimerSpec]) -> None:
    """`TimerService.schedule_many` inside a caller's transaction, so a change and the timers
    that follow from it are committed together or not at all."""
    rows = [
        (guild_id, kind, ref, to_ts(due_at), json.dumps(payload or {}))
        for kind, ref, due_at, payload in timers
    ]
    tx.executemany(_UPSERT, rows)


def cancel_in(tx: Tx, kind: str, ref: str) -> None:
    tx.execute("DELETE FROM timers WHERE kind = ? AND ref = ?", (kind, ref))


def cancel_prefix_in(tx: Tx, kind: str, ref_prefix: str) -> None:
    tx.execute(_DELETE_PREFIX, (kind, *_prefix_range(ref_prefix)))


def _prefix_range(prefix: str) -> tuple[str, str]:
    """[prefix, the next string after every one starting with prefix)."""
    if not prefix:
        raise ValueError("an empty prefix would cancel every timer of the kind")
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _named_marks(kinds: list[str]) -> str:
    return ",".join(f":kind_{index}" for index in range(len(kinds)))


def _next_due_sql(kinds: list[str], where: ScopeFilter) -> str:
    return f"SELECT MIN(due_at) FROM timers WHERE kind IN ({_named_marks(kinds)}){where.sql}"


def _claim_sql(kinds: list[str], where: ScopeFilter) -> str:
    """Due timers of `kinds` (parameters `:now`, `:limit`, `:kind_N`) in `where`'s servers."""
    return (
        "DELETE FROM timers WHERE id IN (SELECT id FROM timers WHERE due_at <= :now "
        f"AND kind IN ({_named_marks(kinds)}){where.sql} ORDER BY due_at, id LIMIT :limit) "
        "RETURNING id, guild_id, kind, ref, due_at, payload"
    )


def _named(kinds: list[str]) -> dict[str, str]:
    return {f"kind_{index}": kind for index, kind in enumerate(kinds)}


class Timer(BaseModel):
    id: int
    guild_id: int
    kind: str
    ref: str
    due_at: datetime
    payload: dict[str, Any]


def _timer(row: Any) -> Timer:
    return model_of(Timer, row, payload=json.loads(row["payload"]))


# Runs on the database thread inside the claiming transaction: reads what it needs and returns
# the messages the timer stands for (none if they are no longer wanted).
TimerConverter = Callable[[Tx, Timer, datetime], list[OutboxSpec]]


class TimerService:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def schedule(
        self,
        guild_id: int,
        kind: str,
        ref: str,
        due_at: datetime,
        payload: dict[str, Any] | None = None,
        *,
        wake_owner: bool = False,
    ) -> None:
        """Create or move the timer for (kind, ref); scheduling twice never duplicates it.
        `wake_owner`: the server is on another process's shard; tell it to run the timer now."""
        row = (guild_id, kind, ref, to_ts(due_at), json.dumps(payload or {}))

        def upsert(tx: Tx) -> None:
            tx.execute(_UPSERT, row)
            if wake_owner:
                tx.invalidate(WAKE_TOPIC, guild_id)

        await self._db.write(upsert)

    async def schedule_many(self, guild_id: int, timers: Iterable[TimerSpec]) -> None:
        """`schedule` for several (kind, ref, due_at, payload) at once, in one write."""
        specs = list(timers)
        await self._db.write(lambda tx: schedule_in(tx, guild_id, specs))

    async def cancel(self, kind: str, ref: str) -> int:
        return await self._db.execute("DELETE FROM timers WHERE kind = ? AND ref = ?", (kind, ref))

    async def cancel_prefix(self, kind: str, ref_prefix: str) -> int:
        """Cancel every timer of a kind whose ref starts with a prefix (e.g. all of one claim's)."""
        return await self._db.execute(_DELETE_PREFIX, (kind, *_prefix_range(ref_prefix)))

    async def pending(self, kind: str | None = None, guild_id: int | None = None) -> list[Timer]:
        sql = "SELECT * FROM timers WHERE 1 = 1"
        params: list[object] = []
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        if guild_id is not None:
            sql += " AND guild_id = ?"
            params.append(guild_id)
        rows = await self._db.fetchall(sql + " ORDER BY due_at, id", params)
        return [_timer(row) for row in rows]

    async def next_due(
        self, kinds: Iterable[str], scope: ShardScope = _EVERYTHING
    ) -> datetime | None:
        """The earliest timer of `kinds` among `scope`'s servers (see `bot.shards`)."""
        kinds = list(kinds)
        if not kinds:
            return None
        where = scope.where()
        value = await self._db.fetchval(_next_due_sql(kinds, where), where.bind(_named(kinds)))
        return None if value is None else from_ts(value)

    async def claim_due(
        self,
        now: datetime,
        kinds: Iterable[str],
        converters: Mapping[str, TimerConverter] | None = None,
        scope: ShardScope = _EVERYTHING,
    ) -> list[Timer]:
        """Atomically take up to a batch of due timers of the given kinds (and of the converters'
        kinds) out of the store, of `scope`'s servers only; a converted timer's outbox rows are
        written in the same transaction. Returns every timer taken, converted ones included."""
        converters = dict(converters or {})
        kinds = sorted(set(kinds) | set(converters))
        if not kinds:
            return []
        where = scope.where()
        sql = _claim_sql(kinds, where)
        params = where.bind({"now": to_ts(now), "limit": CLAIM_BATCH, **_named(kinds)})

        def claim(tx: Tx) -> list[Timer]:
            taken = [_timer(row) for row in tx.fetchall(sql, params)]
            specs = [
                spec
                for timer in taken
                if (convert := converters.get(timer.kind)) is not None
                for spec in convert(tx, timer, now)
            ]
            enqueue_in(tx, specs, now)
            return taken

        taken = await self._db.write(claim)
        return sorted(taken, key=lambda timer: (timer.due_at, timer.id))


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData(
        "timers",
        export="never",
        why="the internal job queue; payloads may name members",
    ),
)
