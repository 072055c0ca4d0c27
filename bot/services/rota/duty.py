"""Who is on duty: for `/rota onduty` and for the safety feature's routing (no Discord here)."""

from __future__ import annotations

from datetime import datetime

from bot.db import from_ts, to_ts
from bot.services.rota.base import RotaPart
from bot.services.rota.breaks import AWAY_NOW
from bot.services.rota.models import OnDutyShift
from bot.services.rows import model_of


class DutyPart(RotaPart):
    async def on_duty(self, guild_id: int) -> list[OnDutyShift]:
        """Supporters whose claimed shift is in progress at `now`, ending soonest first; a supporter
        on a break is not on duty, even in a shift that began before it."""
        now = self._clock.now()
        rows = await self._db.fetchall(
            "SELECT c.user_id, s.id AS slot_id, r.name AS rota_name, s.starts_at, s.ends_at "
            "FROM rota_slots s JOIN rota_claims c ON c.slot_id = s.id "
            "JOIN rotas r ON r.id = s.rota_id "
            "WHERE s.guild_id = :guild AND s.ends_at > :now AND s.starts_at <= :now "
            f"AND {AWAY_NOW} "
            "ORDER BY s.ends_at, s.id, c.claimed_at",
            {"guild": guild_id, "now": to_ts(now)},
        )
        return [model_of(OnDutyShift, row) for row in rows]

    async def next_shift_start(self, guild_id: int) -> datetime | None:
        """When the next claimed shift begins (someone will be on duty), if any is scheduled."""
        now = self._clock.now()
        value = await self._db.fetchval(
            "SELECT MIN(s.starts_at) FROM rota_slots s WHERE s.guild_id = ? AND s.starts_at > ? "
            "AND EXISTS (SELECT 1 FROM rota_claims c WHERE c.slot_id = s.id)",
            (guild_id, to_ts(now)),
        )
        return None if value is None else from_ts(value)
