"""Check-in schedules: what coordinators and members set up, validated before anything is stored.

Each row keeps its next due time; `checkin_due` claims and fires what is due. Changing a schedule
recomputes `next_due_at` from the clock, so a resume or an edit never sends what was missed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.db import Database, Row, from_ts, is_row_id, to_ts
from bot.errors import UserFacingError
from bot.i18n import N_, Texts
from bot.scheduling import next_weekly
from bot.services.base import Service
from bot.services.checkins import (
    MAX_GROUP_SCHEDULES,
    Occurrence,
    Schedule,
    clean_prompt,
    format_time,
    parse_days,
    parse_time,
    parse_zone,
    weekdays_of,
)
from bot.services.data import PersonColumn, TableData
from bot.services.rows import model_of
from bot.services.settings import SettingsService
from bot.services.text import one_line

# Audit actions: "feature.what_happened", lowercase, past tense (stored in audit_log).
AUDIT_CHECKIN_ADDED = "checkin.schedule_added"
AUDIT_CHECKIN_PAUSED = "checkin.schedule_paused"
AUDIT_CHECKIN_RESUMED = "checkin.schedule_resumed"
AUDIT_CHECKIN_REMOVED = "checkin.schedule_removed"
AUDIT_CHECKIN_TESTED = "checkin.schedule_tested"

log = logging.getLogger(__name__)

MAX_SNOOZE_DAYS = 60
# Pause reasons are stored in English, each marked N_, and translated where they are shown.
PAUSED_BY_COORDINATOR = N_("paused by a coordinator")


class AlreadyStopped(UserFacingError):
    """A member's check-ins are stopped already: the stored reason is an English source marked
    N_ where it was written, so it is shown in the reader's language too."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            N_(
                "Your personal check-ins are already stopped ({reason}). "
                "`/checkin me on` restarts them."
            ),
            reason=reason,
        )

    def text(self, tr: Texts) -> str:
        reason = tr.gettext(str(self.params["reason"]))
        return tr.gettext(self.template).format(reason=reason)


def _schedule(row: Row) -> Schedule:
    return model_of(Schedule, row)


def next_after(moment: datetime, days: int, local_time: str, zone: str) -> datetime:
    return next_weekly(moment, weekdays_of(days), parse_time(local_time), ZoneInfo(zone))


class CheckinSchedules(Service):
    def __init__(self, db: Database, clock: Clock, settings: SettingsService) -> None:
        super().__init__(db, clock)
        self._settings = settings

    @property
    def db(self) -> Database:
        return self._db

    @property
    def settings(self) -> SettingsService:
        return self._settings

    # --- group schedules (coordinators) ----------------------------------------------------------
    async def add_group(
        self,
        guild_id: int,
        actor_id: int,
        channel_id: int,
        prompt: str,
        days: str,
        at: str,
        zone: str | None,
        open_thread: bool,
    ) -> Schedule:
        """Validate everything first, so a refusal leaves nothing half-created."""
        text = clean_prompt(prompt)
        mask = parse_days(days)
        local = format_time(parse_time(at))
        zone_name = one_line(zone or "") or None
        zone_name = zone_name or (await self._settings.get(guild_id)).timezone
        parse_zone(zone_name)
        now = self._clock.now()
        first = next_after(now, mask, local, zone_name)
        rows = await self._db.write_fetchall(
            "INSERT INTO checkin_schedules (guild_id, kind, channel_id, prompt, open_thread, "
            "days, local_time, zone, next_due_at, created_by, created_at) "
            "SELECT ?, 'group', ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM "
            "checkin_schedules WHERE guild_id = ? AND kind = 'group') < ? RETURNING *",
            (
                guild_id,
                channel_id,
                text,
                int(open_thread),
                mask,
                local,
                zone_name,
                to_ts(first),
                actor_id,
                to_ts(now),
                guild_id,
                MAX_GROUP_SCHEDULES,
            ),
        )
        if not rows:
            raise UserFacingError(
                N_(
                    "This server already has {limit} check-in schedules, the most I "
                    "keep. Remove one you no longer need first. Nothing was created."
                ),
                limit=MAX_GROUP_SCHEDULES,
            )
        return _schedule(rows[0])

    async def list_group(self, guild_id: int) -> list[Schedule]:
        rows = await self._db.fetchall(
            "SELECT * FROM checkin_schedules WHERE guild_id = ? AND kind = 'group' ORDER BY id",
            (guild_id,),
        )
        return [_schedule(row) for row in rows]

    async def get_group(self, guild_id: int, schedule_id: int) -> Schedule:
        row = None
        if is_row_id(schedule_id):
            row = await self._db.fetchone(
                "SELECT * FROM checkin_schedules WHERE id = ? AND guild_id = ? AND kind = 'group'",
                (schedule_id, guild_id),
            )
        if row is None:
            raise UserFacingError(
                N_(
                    "There is no check-in schedule #{id} on this server. "
                    "`/checkin schedule list` shows them all."
                ),
                id=schedule_id,
            )
        return _schedule(row)

    async def pause_group(self, guild_id: int, schedule_id: int) -> Schedule:
        await self.get_group(guild_id, schedule_id)
        return await self._changed(
            "UPDATE checkin_schedules SET paused = 1, paused_reason = ? "
            "WHERE id = ? AND guild_id = ? AND paused = 0 RETURNING *",
            (PAUSED_BY_COORDINATOR, schedule_id, guild_id),
            UserFacingError(N_("Check-in schedule #{id} is already paused."), id=schedule_id),
        )

    async def resume_group(self, guild_id: int, schedule_id: int) -> Schedule:
        """Resume from the next future occurrence: nothing missed while paused is sent."""
        current = await self.get_group(guild_id, schedule_id)
        nxt = next_after(self._clock.now(), current.days, current.local_time, current.zone)
        return await self._changed(
            "UPDATE checkin_schedules SET paused = 0, paused_reason = NULL, next_due_at = ? "
            "WHERE id = ? AND guild_id = ? AND paused = 1 RETURNING *",
            (to_ts(nxt), schedule_id, guild_id),
            UserFacingError(N_("Check-in schedule #{id} isn't paused."), id=schedule_id),
        )

    async def remove_group(self, guild_id: int, schedule_id: int) -> Schedule:
        await self.get_group(guild_id, schedule_id)
        return await self._changed(
            "DELETE FROM checkin_schedules WHERE id = ? AND guild_id = ? AND kind = 'group' "
            "RETURNING *",
            (schedule_id, guild_id),
            UserFacingError(
                N_("There is no check-in schedule #{id} on this server. Nothing was changed."),
                id=schedule_id,
            ),
        )

    async def _changed(
        self, sql: str, params: tuple[int | str, ...], refusal: UserFacingError
    ) -> Schedule:
        """One guarded write `RETURNING *` of a schedule: the schedule as it is now, or, when the
        guard matched nothing (someone else got there first), the refusal."""
        rows = await self._db.write_fetchall(sql, params)
        if not rows:
            raise refusal
        return _schedule(rows[0])

    async def count_active_group(self, guild_id: int) -> int:
        return await self._count_active(guild_id, "group")

    async def count_personal(self, guild_id: int) -> int:
        return await self._count_active(guild_id, "personal")

    async def _count_active(self, guild_id: int, kind: str) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM checkin_schedules "
                "WHERE guild_id = ? AND kind = ? AND paused = 0",
                (guild_id, kind),
            )
        )

    async def test_occurrence(self, schedule: Schedule) -> Occurrence:
        """A one-off occurrence for `/checkin schedule test`; the schedule itself is untouched."""
        now = to_ts(self._clock.now())
        occurrence_id = await self._db.insert(
            "INSERT INTO checkin_occurrences (guild_id, schedule_id, kind, user_id, due_at, "
            "is_test) VALUES (?, ?, ?, NULL, ?, 1)",
            (schedule.guild_id, schedule.id, schedule.kind, now),
        )
        return Occurrence(
            id=occurrence_id,
            guild_id=schedule.guild_id,
            schedule_id=schedule.id,
            kind=schedule.kind,
            user_id=None,
            channel_id=schedule.channel_id,
            prompt=schedule.prompt,
            open_thread=schedule.open_thread,
            due_at=from_ts(now),
            is_test=True,
        )

    # --- personal schedules (members) ----------------------------------------------------------
    async def personal(self, guild_id: int, user_id: int) -> Schedule | None:
        row = await self._db.fetchone(
            "SELECT * FROM checkin_schedules "
            "WHERE guild_id = ? AND user_id = ? AND kind = 'personal'",
            (guild_id, user_id),
        )
        return None if row is None else _schedule(row)

    async def validate_personal(
        self, guild_id: int, days: str, at: str, zone: str | None
    ) -> tuple[int, str, str]:
        """Check what a member typed before the welcome DM is even tried."""
        mask = parse_days(days)
        local = format_time(parse_time(at))
        zone_name = one_line(zone or "") or None
        zone_name = zone_name or (await self._settings.get(guild_id)).timezone
        parse_zone(zone_name)
        return mask, local, zone_name

    async def personal_on(
        self, guild_id: int, user_id: int, days: int, local: str, zone: str
    ) -> Schedule:
        """Switch on (or change) a member's check-ins; one row per member, so it upserts."""
        now = self._clock.now()
        first = next_after(now, days, local, zone)
        rows = await self._db.write_fetchall(
            "INSERT INTO checkin_schedules (guild_id, kind, user_id, days, local_time, zone, "
            "next_due_at, created_by, created_at) VALUES (?, 'personal', ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id, user_id) WHERE kind = 'personal' DO UPDATE SET "
            "days = excluded.days, local_time = excluded.local_time, zone = excluded.zone, "
            "next_due_at = excluded.next_due_at, paused = 0, paused_reason = NULL, "
            "snoozed_until = NULL RETURNING *",
            (guild_id, user_id, days, local, zone, to_ts(first), user_id, to_ts(now)),
        )
        return _schedule(rows[0])

    async def personal_off(self, guild_id: int, user_id: int) -> bool:
        """Stop personal check-ins; past answers stay until `/checkin delete` or retention."""
        removed = await self._db.execute(
            "DELETE FROM checkin_schedules "
            "WHERE guild_id = ? AND user_id = ? AND kind = 'personal'",
            (guild_id, user_id),
        )
        return removed > 0

    async def personal_snooze(self, guild_id: int, user_id: int, days: int) -> Schedule:
        if not 1 <= days <= MAX_SNOOZE_DAYS:
            raise UserFacingError(N_("You can pause for 1 to {limit} days."), limit=MAX_SNOOZE_DAYS)
        current = await self.personal(guild_id, user_id)
        if current is None:
            raise UserFacingError(
                N_(
                    "Your personal check-ins aren't switched on, so there's nothing to pause. "
                    "`/checkin me on` starts them."
                )
            )
        if current.paused:
            raise AlreadyStopped(current.paused_reason or N_("paused"))
        until = self._clock.now() + timedelta(days=days)
        nxt = next_after(until, current.days, current.local_time, current.zone)
        rows = await self._db.write_fetchall(
            "UPDATE checkin_schedules SET next_due_at = ?, snoozed_until = ? "
            "WHERE id = ? AND paused = 0 RETURNING *",
            (to_ts(nxt), to_ts(until), current.id),
        )
        if not rows:
            raise UserFacingError(N_("Your check-ins changed just now; please try again."))
        return _schedule(rows[0])

    # --- targets that went away ----------------------------------------------------------------
    async def pause_for_failure(self, schedule_id: int, reason: str) -> bool:
        """Pause a schedule whose channel or member can't be reached; True if we paused it."""
        return (
            await self._db.execute(
                "UPDATE checkin_schedules SET paused = 1, paused_reason = ? "
                "WHERE id = ? AND paused = 0",
                (reason, schedule_id),
            )
            > 0
        )


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData(
        "checkin_schedules",
        export="rows",
        why="group schedules only: personal ones are a member's own business",
        rows_where="kind = 'group'",
        people=(
            PersonColumn("user_id", "delete", N_("personal check-in schedules")),
            PersonColumn.kept("created_by", N_("check-in schedules you created")),
        ),
    ),
)
