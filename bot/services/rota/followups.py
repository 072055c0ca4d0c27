"""Debrief follow-ups: a supporter's "yes, check in with me" is taken by one coordinator.

Asking records a row and a timer a day later in one transaction; the alert with its I'll reach
out button goes through the outbox. Taking is one guarded UPDATE (`taken_by IS NULL`), so of
coordinators pressing together exactly one wins and the rest learn who did. If nobody has taken
it when the timer comes due, it becomes one more alert, in the transaction that consumes it.
Only that a check-in was asked for is stored: never how the shift went.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from bot.db import Tx, to_ts
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.data import PersonColumn, TableData
from bot.services.outbox import OutboxSpec
from bot.services.rota.base import RotaPart
from bot.services.rows import model_of
from bot.services.timers import Timer, cancel_in, schedule_in

FOLLOWUP = "rota.followup"  # the coordinators' alert with the I'll reach out button
FOLLOWUP_DUE = "rota.followup_due"  # the timer for the one re-alert
FOLLOWUP_AFTER = timedelta(hours=24)


class Followup(BaseModel):
    id: int
    guild_id: int
    user_id: int
    created_at: datetime
    taken_by: int | None
    taken_at: datetime | None


def _ref(followup_id: int) -> str:
    return f"followup:{followup_id}"


def alert_spec(followup: Followup, now: datetime, *, again: bool) -> OutboxSpec:
    return OutboxSpec(
        guild_id=followup.guild_id,
        kind=FOLLOWUP,
        due_at=now,
        payload={"followup_id": followup.id, "again": again},
    )


def followup_due_outbox(tx: Tx, timer: Timer, now: datetime) -> list[OutboxSpec]:
    """A day on and still not taken: one more alert (whether it is still untaken is checked
    again when its turn comes)."""
    row = tx.fetchone(
        "SELECT * FROM rota_followups WHERE id = ? AND taken_by IS NULL",
        (int(timer.ref.split(":")[1]),),
    )
    if row is None:
        return []
    return [alert_spec(model_of(Followup, row), timer.due_at, again=True)]


class FollowupsPart(RotaPart):
    async def ask_followup(self, guild_id: int, user_id: int) -> Followup:
        """Record the ask and its re-alert a day later, together."""
        now = self._clock.now()

        def ask(tx: Tx) -> Followup:
            row = tx.one(
                "INSERT INTO rota_followups (guild_id, user_id, created_at) VALUES (?, ?, ?) "
                "RETURNING *",
                (guild_id, user_id, to_ts(now)),
            )
            schedule_in(tx, guild_id, [(FOLLOWUP_DUE, _ref(row["id"]), now + FOLLOWUP_AFTER, None)])
            return model_of(Followup, row)

        return await self._db.write(ask)

    async def get_followup(self, guild_id: int, followup_id: int) -> Followup:
        row = await self._db.fetchone(
            "SELECT * FROM rota_followups WHERE guild_id = ? AND id = ?", (guild_id, followup_id)
        )
        if row is None:
            raise UserFacingError(
                N_(
                    "I can't find that check-in request any more (the supporter may have "
                    "deleted their data). Nothing was changed."
                )
            )
        return model_of(Followup, row)

    async def take_followup(self, guild_id: int, followup_id: int, coordinator_id: int) -> Followup:
        """Exactly one coordinator takes it; the others are told who did."""
        now = self._clock.now()

        def take(tx: Tx) -> Followup | None:
            row = tx.fetchone(
                "UPDATE rota_followups SET taken_by = ?, taken_at = ? "
                "WHERE guild_id = ? AND id = ? AND taken_by IS NULL RETURNING *",
                (coordinator_id, to_ts(now), guild_id, followup_id),
            )
            if row is None:
                return None
            cancel_in(tx, FOLLOWUP_DUE, _ref(followup_id))
            return model_of(Followup, row)

        won = await self._db.write(take)
        if won is not None:
            return won
        current = await self.get_followup(guild_id, followup_id)
        if current.taken_by == coordinator_id:
            raise UserFacingError(N_("You've already said you'll reach out to them. Thank you."))
        raise UserFacingError(
            N_(
                "{who} is already reaching out to them, so you don't need to. "
                "Thank you for being ready."
            ),
            who=f"<@{current.taken_by}>",
        )


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData(
        "rota_followups",
        export="never",
        why="who asked for a check-in after a shift",
        people=(
            PersonColumn("user_id", "delete", N_("check-ins you asked for after a shift")),
            PersonColumn.kept("taken_by", N_("check-ins you took on as a coordinator")),
        ),
    ),
)
