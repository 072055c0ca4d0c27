"""Where the guidelines are posted, and the schedules that post them again.

Each posted copy is remembered so a new version can be edited into it in place; a re-post
schedule keeps its next due time here and is claimed occurrence by occurrence, together with the
outbox row that posts it, so a slow send, a second wake-up or a restart never posts twice and a
crash never loses the post.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from bot.db import Tx, from_ts, to_ts
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.scheduling import localize
from bot.services.base import Service
from bot.services.data import TableData
from bot.services.guidelines import scope_of
from bot.services.outbox import OutboxSpec, enqueue_in
from bot.shards import ShardScope

REPOST_BATCH = 50
MAX_REPOST_DAYS = 365
REPOST_KIND = "guidelines.repost"
_EVERYTHING = ShardScope.everything()
# Both completed with the process's scope filter (`bot.shards`) where they are used.
_NEXT_DUE = "SELECT MIN(next_due_at) FROM guideline_reposts"
_DUE = "SELECT * FROM guideline_reposts WHERE next_due_at <= :now"


class PostedCopy(BaseModel):
    id: int
    guild_id: int
    group_id: int | None
    channel_id: int
    message_id: int
    version: int


class RepostSchedule(BaseModel):
    id: int
    guild_id: int
    group_id: int | None
    channel_id: int
    every_days: int
    local_time: str
    next_due_at: datetime
    created_by: int


def next_repost_after(
    due: datetime, now: datetime, every_days: int, local_time: str, zone: ZoneInfo
) -> datetime:
    """The first occurrence after `now`, every N local days at the same wall-clock time.

    Occurrences missed while the bot was offline are skipped, not posted in a burst.
    """
    at = time.fromisoformat(local_time)
    day = due.astimezone(zone).date()
    behind = (now.astimezone(zone).date() - day).days
    steps = max(1, behind // every_days)
    moment = localize(day + timedelta(days=steps * every_days), at, zone)
    while moment <= now:
        steps += 1
        moment = localize(day + timedelta(days=steps * every_days), at, zone)
    return moment


def _post(row: object) -> PostedCopy:
    data = dict(row)  # type: ignore[call-overload]  # typeshed: Row is no Mapping
    return PostedCopy(**{key: data[key] for key in PostedCopy.model_fields})


def _repost(row: object) -> RepostSchedule:
    data = dict(row)  # type: ignore[call-overload]  # typeshed: Row is no Mapping
    fields = {key: data[key] for key in RepostSchedule.model_fields if key != "next_due_at"}
    return RepostSchedule(**fields, next_due_at=from_ts(data["next_due_at"]))


class GuidelinePostsService(Service):
    # --- posted copies -----------------------------------------------------------------------
    async def remember_post(
        self,
        guild_id: int,
        group_id: int | None,
        channel_id: int,
        message_id: int,
        version: int,
        actor_id: int,
    ) -> None:
        await self._db.execute(
            "INSERT INTO guideline_posts "
            "(guild_id, group_id, channel_id, message_id, version, posted_by, posted_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                guild_id,
                group_id,
                channel_id,
                message_id,
                version,
                actor_id,
                to_ts(self._clock.now()),
            ),
        )

    async def posts(
        self, guild_id: int, group_id: int | None, channel_id: int | None = None
    ) -> list[PostedCopy]:
        sql = "SELECT * FROM guideline_posts WHERE guild_id = ? AND scope_id = ?"
        params: list[object] = [guild_id, scope_of(group_id)]
        if channel_id is not None:
            sql += " AND channel_id = ?"
            params.append(channel_id)
        rows = await self._db.fetchall(sql + " ORDER BY id", params)
        return [_post(row) for row in rows]

    async def post_updated(self, guild_id: int, message_id: int, version: int) -> None:
        await self._db.execute(
            "UPDATE guideline_posts SET version = ? WHERE guild_id = ? AND message_id = ?",
            (version, guild_id, message_id),
        )

    async def forget_post(self, guild_id: int, message_id: int) -> bool:
        forgotten = await self._db.execute(
            "DELETE FROM guideline_posts WHERE guild_id = ? AND message_id = ?",
            (guild_id, message_id),
        )
        return forgotten == 1

    # --- re-post schedules -------------------------------------------------------------------
    async def set_repost(
        self,
        guild_id: int,
        group_id: int | None,
        channel_id: int,
        every_days: int,
        zone: ZoneInfo,
        actor_id: int,
    ) -> RepostSchedule:
        """Create or change the schedule for this scope in this channel (one per pair)."""
        if not 1 <= every_days <= MAX_REPOST_DAYS:
            raise UserFacingError(
                N_("Choose a number of days between 1 and {most}."), most=MAX_REPOST_DAYS
            )
        now = self._clock.now()
        local_time = now.astimezone(zone).strftime("%H:%M")
        first = next_repost_after(now, now, every_days, local_time, zone)
        rows = await self._db.write_fetchall(
            "INSERT INTO guideline_reposts (guild_id, group_id, channel_id, every_days, "
            "local_time, next_due_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id, channel_id, scope_id) DO UPDATE SET "
            "every_days = excluded.every_days, local_time = excluded.local_time, "
            "next_due_at = excluded.next_due_at, created_by = excluded.created_by "
            "RETURNING *",
            (
                guild_id,
                group_id,
                channel_id,
                every_days,
                local_time,
                to_ts(first),
                actor_id,
                to_ts(now),
            ),
        )
        return _repost(rows[0])

    async def stop_reposts(self, guild_id: int, channel_id: int) -> int:
        return await self._db.execute(
            "DELETE FROM guideline_reposts WHERE guild_id = ? AND channel_id = ?",
            (guild_id, channel_id),
        )

    async def stop_repost(self, schedule_id: int) -> None:
        await self._db.execute("DELETE FROM guideline_reposts WHERE id = ?", (schedule_id,))

    async def next_repost_due(self, scope: ShardScope = _EVERYTHING) -> datetime | None:
        where = scope.where()
        value = await self._db.fetchval(_NEXT_DUE + where.where_sql, where.params)
        return None if value is None else from_ts(value)

    async def due_reposts(
        self, now: datetime, scope: ShardScope = _EVERYTHING
    ) -> list[RepostSchedule]:
        """Due schedules of `scope`'s servers (the process's shards, see `bot.shards`)."""
        where = scope.where()
        rows = await self._db.fetchall(
            _DUE + where.sql + " ORDER BY next_due_at, id LIMIT :limit",
            where.bind({"now": to_ts(now), "limit": REPOST_BATCH}),
        )
        return [_repost(row) for row in rows]

    async def claim_repost(self, schedule: RepostSchedule, next_due: datetime) -> bool:
        """Move a due schedule on to its next occurrence; only one caller wins an occurrence.

        The winner's post goes into the outbox in the same transaction, worth sending until the
        following occurrence (a copy posted later than that would be the next one's)."""
        spec = OutboxSpec(
            guild_id=schedule.guild_id,
            kind=REPOST_KIND,
            due_at=schedule.next_due_at,
            channel_id=schedule.channel_id,
            payload={"schedule_id": schedule.id, "group_id": schedule.group_id,
                     "created_by": schedule.created_by},
            expires_at=next_due,
        )  # fmt: skip

        def claim(tx: Tx) -> bool:
            claimed = tx.execute(
                "UPDATE guideline_reposts SET next_due_at = ? WHERE id = ? AND next_due_at = ?",
                (to_ts(next_due), schedule.id, to_ts(schedule.next_due_at)),
            )
            if claimed == 1:
                enqueue_in(tx, [spec], self._clock.now())
            return claimed == 1

        return await self._db.write(claim)


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData.server_setup("guideline_posts", "posted_by", N_("guideline copies you posted")),
    TableData.server_setup("guideline_reposts", "created_by", N_("guideline re-posts you set")),
)
