"""The settings and upkeep around group sessions: places, reminders, facilitation, retention."""

from __future__ import annotations

from datetime import datetime

from bot.db import to_ts
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.base import Service
from bot.services.data import PersonColumn, TableData
from bot.services.session_facilitators import MAX_ALERT_HOURS
from bot.services.sessions import MAX_PLACES


class SessionUpkeep(Service):
    async def set_places(self, guild_id: int, group_id: int, places: int) -> int | None:
        """Places per session for a group (0: no limit). Answers already given stand."""
        if not 0 <= places <= MAX_PLACES:
            raise UserFacingError(N_("Places can be 0 (no limit) to {max}."), max=MAX_PLACES)
        value = places or None
        await self._db.execute(
            "UPDATE groups SET session_places = ? WHERE guild_id = ? AND id = ?",
            (value, guild_id, group_id),
        )
        return value

    async def set_reminders(self, guild_id: int, user_id: int, on: bool) -> None:
        if on:
            await self._db.execute(
                "DELETE FROM session_reminders_off WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id),
            )
        else:
            await self._db.execute(
                "INSERT INTO session_reminders_off (guild_id, user_id, since) "
                "VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (guild_id, user_id, to_ts(self._clock.now())),
            )

    async def count_upcoming(self, guild_id: int) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM group_sessions WHERE guild_id = ? AND starts_at > ? "
                "AND cancelled_at IS NULL",
                (guild_id, to_ts(self._clock.now())),
            )
        )

    async def guilds_with_answers(self) -> list[int]:
        rows = await self._db.fetchall("SELECT DISTINCT guild_id FROM session_rsvps")
        return [row[0] for row in rows]

    async def forget_past_answers(self, guild_id: int, before: datetime) -> int:
        """Retention: answers to sessions that ended before `before` are deleted."""
        return await self._db.execute(
            "DELETE FROM session_rsvps WHERE guild_id = ? AND session_id IN "
            "(SELECT id FROM group_sessions WHERE guild_id = ? AND ends_at < ?)",
            (guild_id, guild_id, to_ts(before)),
        )

    async def set_room(self, guild_id: int, group_id: int, channel_id: int | None) -> None:
        await self._db.execute(
            "UPDATE groups SET session_room_id = ? WHERE guild_id = ? AND id = ?",
            (channel_id, guild_id, group_id),
        )

    async def room(self, group_id: int) -> int | None:
        value = await self._db.fetchval(
            "SELECT session_room_id FROM groups WHERE id = ?", (group_id,)
        )
        return None if value is None else int(value)

    async def set_facilitation(
        self,
        guild_id: int,
        group_id: int,
        rota_id: int | None,
        alert_hours: int,
        required: bool,
        actor_id: int,
    ) -> None:
        """Link a group's future sessions to a rota for facilitators (None: unlink). Sessions
        already planned keep what they have."""
        if rota_id is None:
            await self._db.execute(
                "DELETE FROM session_facilitation WHERE guild_id = ? AND group_id = ?",
                (guild_id, group_id),
            )
            return
        if not 1 <= alert_hours <= MAX_ALERT_HOURS:
            raise UserFacingError(N_("`alert_hours` can be 1 to {max}."), max=MAX_ALERT_HOURS)
        await self._db.execute(
            "INSERT INTO session_facilitation (group_id, guild_id, rota_id, alert_hours, "
            "required, set_by, set_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (group_id) DO "
            "UPDATE SET rota_id = excluded.rota_id, alert_hours = excluded.alert_hours, "
            "required = excluded.required, set_by = excluded.set_by, set_at = excluded.set_at",
            (group_id, guild_id, rota_id, alert_hours, int(required), actor_id,
             to_ts(self._clock.now())),
        )  # fmt: skip


# What /admin export and /mydata do with the sessions feature's tables (bot/services/data.py).
TABLES = (
    TableData.server_setup(
        "group_sessions",
        "created_by",
        N_("group sessions you planned"),
        why="when groups meet; no names",
    ),
    TableData(
        "session_rsvps",
        export="counts",
        why="how many are going to each session, not who",
        people=(PersonColumn("user_id", "delete", N_("your answers to group sessions")),),
    ),
)
