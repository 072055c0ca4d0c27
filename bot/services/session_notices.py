"""What group sessions send on their own: reminders before, notices of a cancellation or move.

A session's reminders are one timer per configured hour (`session:<id>:<hours>`); when one comes
due it becomes one outbox row per member going, in the transaction that consumes the timer, so a
member who answers after the session was planned is still reminded and one who switched
reminders off is not. Notices are written by the change itself (`notices`), in its transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.db import Tx, from_ts, to_ts
from bot.i18n import N_
from bot.services.data import TableData
from bot.services.outbox import OutboxSpec
from bot.services.rota.reminders import reminders_before
from bot.services.timers import Timer, TimerSpec

if TYPE_CHECKING:
    from bot.services.sessions import Session

REMINDER = "session.reminder"
NOTICE = "session.notice"
GOING_USERS = "SELECT user_id FROM session_rsvps WHERE session_id = ? AND going = 1"


def reminder_timers(
    session_id: int, starts_at: datetime, hours: list[int], now: datetime
) -> list[TimerSpec]:
    """A reminder per configured hour still ahead of the session's start."""
    return reminders_before(REMINDER, f"session:{session_id}", starts_at, hours, now)


def notices(
    tx: Tx, session: Session, what: str, old_start: datetime, now: datetime
) -> list[OutboxSpec]:
    users = [row[0] for row in tx.fetchall(GOING_USERS, (session.id,))]
    # Worth sending until the session ends (someone may be on their way to a cancelled one).
    expires = session.ends_at
    return [
        OutboxSpec(
            guild_id=session.guild_id,
            kind=NOTICE,
            due_at=now,
            user_id=user_id,
            payload={"session_id": session.id, "what": what, "old_starts_at": to_ts(old_start)},
            expires_at=expires,
        )
        for user_id in users
    ]


def reminder_outbox(tx: Tx, timer: Timer, now: datetime) -> list[OutboxSpec]:
    """A due reminder becomes a DM to each member going who keeps reminders on; none for a
    cancelled or started session, or when a later reminder is already due (after downtime)."""
    session_id = int(timer.ref.split(":")[1])
    row = tx.fetchone(
        "SELECT starts_at, cancelled_at FROM group_sessions WHERE id = ?", (session_id,)
    )
    if row is None or row["cancelled_at"] is not None:
        return []
    starts_at = from_ts(row["starts_at"])
    later = (timer.payload or {}).get("next_hours")
    expires = starts_at - timedelta(hours=later) if isinstance(later, int) else starts_at
    if now >= expires:
        return []
    users = tx.fetchall(
        "SELECT r.user_id FROM session_rsvps r WHERE r.session_id = ? AND r.going = 1 "
        "AND NOT EXISTS (SELECT 1 FROM session_reminders_off o "
        "WHERE o.guild_id = r.guild_id AND o.user_id = r.user_id)",
        (session_id,),
    )
    return [
        OutboxSpec(
            guild_id=timer.guild_id,
            kind=REMINDER,
            due_at=timer.due_at,
            user_id=user_id,
            payload={"session_id": session_id},
            expires_at=expires,
        )
        for (user_id,) in users
    ]


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData.members_own(
        "session_reminders_off",
        N_("session reminders switched off"),
        why="a member's own preference",
    ),
)
