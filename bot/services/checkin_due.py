"""Firing check-ins: the dispatcher's source for what is due, claimed exactly once.

Every schedule keeps its own `next_due_at` (indexed over active rows), so the dispatcher wakes once
for the earliest one and this module claims whatever is due in batches. A batch is claimed by ONE
guarded UPDATE that moves each row's `next_due_at` forward only if it still holds the due time we
read, together with inserting the occurrences and their outbox rows, in one transaction: a second
wake-up, a slow send or a restart therefore never sends an occurrence twice, and nothing claimed
is lost between the claim and the send (the outbox resends what a crash interrupted).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from bot.db import Tx, from_ts, to_ts
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services import outbox
from bot.services.checkin_schedules import CheckinSchedules, next_after
from bot.services.checkins import Occurrence
from bot.services.data import TableData
from bot.services.rows import model_of
from bot.services.settings import Setting
from bot.shards import ShardScope

log = logging.getLogger(__name__)

CLAIM_BATCH = 500
SEND_CONCURRENCY = 20

GROUP_KIND, PERSONAL_KIND = "checkin.group", "checkin.personal"
_EVERYTHING = ShardScope.everything()
# Both completed with the process's scope filter (`bot.shards`) where they are used.
_NEXT_DUE = "SELECT MIN(next_due_at) FROM checkin_schedules WHERE paused = 0"
_DUE = "SELECT * FROM checkin_schedules WHERE paused = 0 AND next_due_at <= :now"

# The check-ins feature's own setting (bot/services/settings.py): settings[GRACE_MINUTES].
GRACE_MINUTES = Setting[int](
    "checkin_grace_minutes",
    int,
    60,
    N_("How late a missed check-in may still be sent"),
    low=0,
    high=1440,
)
SETTINGS = (GRACE_MINUTES,)

Deliver = Callable[[Occurrence], Awaitable[None]]


def occurrence_spec(occurrence: Occurrence, grace_seconds: int) -> outbox.OutboxSpec:
    """The outbox row of a claimed occurrence: worth sending until its grace window ends.

    The payload is what renders the prompt (the coordinators' prompt text, never a member's
    words), so sending needs no second read."""
    group = occurrence.kind == "group"
    return outbox.OutboxSpec(
        guild_id=occurrence.guild_id,
        kind=GROUP_KIND if group else PERSONAL_KIND,
        due_at=occurrence.due_at,
        channel_id=occurrence.channel_id if group else None,
        user_id=None if group else occurrence.user_id,
        payload={
            "occurrence_id": occurrence.id,
            "schedule_id": occurrence.schedule_id,
            "prompt": occurrence.prompt,
            "open_thread": occurrence.open_thread,
        },
        expires_at=occurrence.due_at + timedelta(seconds=grace_seconds),
    )


def _occurrence_window(row: Any, now: datetime) -> tuple[datetime, datetime]:
    """The latest occurrence at or before `now` (the one to send, if any) and the next after."""
    latest = from_ts(row["next_due_at"])
    while (candidate := next_after(latest, row["days"], row["local_time"], row["zone"])) <= now:
        latest = candidate
    return latest, next_after(now, row["days"], row["local_time"], row["zone"])


class ClaimedBatch(BaseModel):
    fetched: int
    to_send: list[Occurrence]
    skipped: int


class CheckinSource:
    """The dispatcher's view of check-ins: when is the next one, and claim what is due.

    Claiming writes the occurrences and their outbox rows; the outbox sends them. `on_claimed`,
    if given, is told about each claimed occurrence after its claim committed (tests and the
    bench watch claims with it); one failing callback never stops the others.
    """

    name = "checkins"

    def __init__(
        self,
        schedules: CheckinSchedules,
        on_claimed: Deliver | None = None,
        concurrency: int = SEND_CONCURRENCY,
    ) -> None:
        self._schedules = schedules
        self._db = schedules.db
        self._settings = schedules.settings
        self._on_claimed = on_claimed
        self._concurrency = concurrency

    async def next_due(self, scope: ShardScope = _EVERYTHING) -> datetime | None:
        where = scope.where()
        value = await self._db.fetchval(_NEXT_DUE + where.sql, where.params)
        return None if value is None else from_ts(value)

    async def _grace(self, guild_id: int, cache: dict[int, int]) -> int:
        if guild_id not in cache:
            cache[guild_id] = (await self._settings.get(guild_id))[GRACE_MINUTES] * 60
        return cache[guild_id]

    async def claim_due(
        self, now: datetime, limit: int = CLAIM_BATCH, scope: ShardScope = _EVERYTHING
    ) -> ClaimedBatch:
        """Claim up to `limit` due schedules of `scope`'s servers; return the occurrences that
        are ours to send.

        An occurrence missed by more than the server's grace window is skipped (logged), and the
        schedule moves to its next future occurrence — never a burst of stale prompts.
        """
        now_ts = to_ts(now)
        where = scope.where()
        rows = await self._db.fetchall(
            _DUE + where.sql + " ORDER BY next_due_at LIMIT :limit",
            where.bind({"now": now_ts, "limit": limit}),
        )
        if not rows:
            return ClaimedBatch(fetched=0, to_send=[], skipped=0)
        grace: dict[int, int] = {}
        plans: dict[int, tuple[Any, int, int, bool]] = {}
        for row in rows:
            try:
                latest, upcoming = _occurrence_window(row, now)
            except (ValueError, KeyError, UserFacingError):
                # A row no schedule could come from (say, a zone removed from tzdata): pause it
                # rather than let it block every later wake-up.
                log.warning("check-in schedule %s has an unusable time; paused", row["id"])
                await self._schedules.pause_for_failure(
                    row["id"], N_("its time or zone can't be used")
                )
                continue
            send = now_ts - to_ts(latest) <= await self._grace(row["guild_id"], grace)
            plans[row["id"]] = (row, to_ts(latest), to_ts(upcoming), send)
        if not plans:
            return ClaimedBatch(fetched=len(rows), to_send=[], skipped=0)
        values = ",".join("(?, ?, ?, ?)" for _ in plans)
        params: list[int] = []
        for schedule_id, (row, latest_ts, upcoming_ts, _) in plans.items():
            params += [schedule_id, row["next_due_at"], latest_ts, upcoming_ts]

        def claim(tx: Tx) -> tuple[list[tuple[Any, int, int, bool]], list[Occurrence]]:
            claimed = tx.fetchall(
                "UPDATE checkin_schedules SET last_occurrence_at = c.column3, "
                f"next_due_at = c.column4 FROM (VALUES {values}) AS c "
                "WHERE checkin_schedules.id = c.column1 AND checkin_schedules.next_due_at = "
                "c.column2 AND checkin_schedules.paused = 0 RETURNING id",
                params,
            )
            ours = [plans[r["id"]] for r in claimed]
            sending = [plan for plan in ours if plan[3]]
            inserted = []
            if sending:
                inserted = tx.fetchall(
                    "INSERT INTO checkin_occurrences (guild_id, schedule_id, kind, user_id, "
                    "due_at) VALUES "
                    + ",".join("(?, ?, ?, ?, ?)" for _ in sending)
                    + " RETURNING id, schedule_id",
                    [
                        value
                        for row, latest_ts, _, _ in sending
                        for value in (
                            row["guild_id"],
                            row["id"],
                            row["kind"],
                            row["user_id"],
                            latest_ts,
                        )
                    ],
                )
            occurrences = []
            for item in inserted:
                row, latest_ts, _, _ = plans[item["schedule_id"]]
                occurrences.append(
                    model_of(
                        Occurrence,
                        row,
                        id=item["id"],
                        schedule_id=row["id"],
                        due_at=from_ts(latest_ts),
                    )
                )
            # What to send goes into the outbox in the claim's own transaction: a crash after
            # this commit loses nothing, and the outbox sends each exactly once.
            specs = [occurrence_spec(one, grace[one.guild_id]) for one in occurrences]
            tx.executemany(outbox.INSERT, outbox.rows_for(specs, now))
            return ours, occurrences

        ours, occurrences = await self._db.write(claim)
        skipped = [plan for plan in ours if not plan[3]]
        for row, latest_ts, upcoming_ts, _ in skipped:
            log.info(
                "check-in schedule %s (guild %s) missed its %s occurrence by more than the grace "
                "window; skipped, next at %s",
                row["id"],
                row["guild_id"],
                from_ts(latest_ts).isoformat(),
                from_ts(upcoming_ts).isoformat(),
            )
        occurrences.sort(key=lambda occurrence: (occurrence.due_at, occurrence.id))
        return ClaimedBatch(fetched=len(rows), to_send=occurrences, skipped=len(skipped))

    async def run_due(self, now: datetime, scope: ShardScope = _EVERYTHING) -> None:
        limit = asyncio.Semaphore(self._concurrency)

        async def send(occurrence: Occurrence) -> None:
            if self._on_claimed is None:
                return
            async with limit:
                try:
                    await self._on_claimed(occurrence)
                except Exception:
                    log.exception(
                        "check-in occurrence %s (schedule %s) could not be delivered",
                        occurrence.id,
                        occurrence.schedule_id,
                    )

        while True:
            batch = await self.claim_due(now, scope=scope)
            if batch.fetched == 0:
                return
            await asyncio.gather(*(send(occurrence) for occurrence in batch.to_send))


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData.members_own(
        "checkin_occurrences",
        N_("personal check-ins sent to you"),
        why="would reveal members' personal check-in times",
    ),
)
