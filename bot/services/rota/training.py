"""Who has done supporter training, and until when."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.db import Tx, to_ts
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.data import PersonColumn, TableData
from bot.services.rota.base import RotaPart
from bot.services.rota.models import Training, training_of
from bot.services.rota.renewals import cancel_renewals_in, renewal_timers_in

UTC_ZONE = ZoneInfo("UTC")


class TrainingPart(RotaPart):
    async def grant_training(
        self, guild_id: int, user_id: int, actor_id: int,
        expires_at: datetime | None, zone: ZoneInfo = UTC_ZONE,
    ) -> Training:  # fmt: skip
        """Record (or renew) training; granting again replaces the expiry, and the renewal DMs and
        the weekly digest (in `zone`) follow it in the same transaction."""
        now = self._clock.now()

        def grant(tx: Tx) -> Training:
            row = tx.one(
                "INSERT INTO rota_training (guild_id, user_id, granted_by, granted_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id) DO UPDATE SET "
                "granted_by = excluded.granted_by, granted_at = excluded.granted_at, "
                "expires_at = excluded.expires_at RETURNING *",
                (guild_id, user_id, actor_id, to_ts(now), expires_at and to_ts(expires_at)),
            )
            renewal_timers_in(tx, guild_id, user_id, expires_at, now, zone)
            return training_of(row)

        return await self._db.write(grant)

    async def revoke_training(self, guild_id: int, user_id: int) -> None:
        def revoke(tx: Tx) -> int:
            removed = tx.execute(
                "DELETE FROM rota_training WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
            )
            cancel_renewals_in(tx, guild_id, user_id)
            return removed

        if not await self._db.write(revoke):
            raise UserFacingError(
                N_("They aren't on the training list, so there was nothing to revoke.")
            )

    async def list_training(self, guild_id: int) -> list[Training]:
        rows = await self._db.fetchall(
            "SELECT * FROM rota_training WHERE guild_id = ? ORDER BY granted_at, user_id",
            (guild_id,),
        )
        return [training_of(row) for row in rows]


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData(
        "rota_training",
        export="rows",
        people=(
            PersonColumn("user_id", "delete", N_("supporter training records")),
            PersonColumn.kept("granted_by", N_("training you recorded")),
        ),
    ),
)
