"""A facilitator for each group session, through the rota: a session of a group with a
facilitation rota gets a slot on it, which supporters claim under the rota's usual rules
(training, caps, rest). Before the session an unclaimed slot alerts coordinators; a group that
"opens only with a facilitator" has a session nobody claimed cancelled at its start.

Everything here runs inside the transaction of the session change that causes it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.db import Row, Tx, from_ts, to_ts
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.data import TableData
from bot.services.outbox import OutboxSpec
from bot.services.timers import Timer, TimerSpec, cancel_in

ALERT = "session.facilitator_alert"
CHECK = "session.facilitator_check"
MAX_ALERT_HOURS = 336

_CLAIMED = "SELECT COUNT(*) FROM rota_claims WHERE slot_id = ?"


def facilitation_in(tx: Tx, group_id: int) -> Row | None:
    row: Row | None = tx.fetchone(
        "SELECT rota_id, alert_hours, required FROM session_facilitation WHERE group_id = ?",
        (group_id,),
    )
    return row


def _timers(session_id: int, starts_at: datetime, rule: Row, now: datetime) -> list[TimerSpec]:
    specs: list[TimerSpec] = []
    alert_at = starts_at - timedelta(hours=rule["alert_hours"])
    if alert_at > now:
        specs.append((ALERT, f"session:{session_id}", alert_at, None))
    if rule["required"]:
        specs.append((CHECK, f"session:{session_id}", starts_at, None))
    return specs


def add_slot_in(
    tx: Tx,
    guild_id: int,
    group_id: int,
    session_id: int,
    span: tuple[datetime, datetime],
    actor_id: int,
    now: datetime,
) -> list[TimerSpec]:
    """The session's slot on the group's facilitation rota (an existing slot at that very time
    is shared), and its alert and check timers."""
    rule = facilitation_in(tx, group_id)
    if rule is None:
        return []
    start, end = span
    tx.execute(
        "INSERT INTO rota_slots (guild_id, rota_id, starts_at, ends_at, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (rota_id, starts_at) DO NOTHING",
        (guild_id, rule["rota_id"], to_ts(start), to_ts(end), actor_id, to_ts(now)),
    )
    tx.execute(
        "UPDATE group_sessions SET slot_id = (SELECT id FROM rota_slots WHERE rota_id = ? AND "
        "starts_at = ?) WHERE id = ?",
        (rule["rota_id"], to_ts(start), session_id),
    )
    return _timers(session_id, start, rule, now)


def move_slot_in(
    tx: Tx,
    session_id: int,
    slot_id: int | None,
    span: tuple[datetime, datetime],
    group_id: int,
    now: datetime,
) -> list[TimerSpec]:
    """Move an unclaimed slot with its session; a claimed one is refused (the supporter took
    that time, under the rota's rest and cap rules), so the coordinator asks them first."""
    drop_timers_in(tx, session_id)
    if slot_id is None:
        return []
    if tx.fetchval(_CLAIMED, (slot_id,)):
        raise UserFacingError(
            N_(
                "A supporter is already facilitating that session, at its current time. Ask "
                "them to `/rota release` it first (or cancel and re-plan the session). Nothing "
                "was changed."
            )
        )
    start, end = span
    tx.execute(
        "UPDATE rota_slots SET starts_at = ?, ends_at = ? WHERE id = ?",
        (to_ts(start), to_ts(end), slot_id),
    )
    rule = facilitation_in(tx, group_id)
    return [] if rule is None else _timers(session_id, start, rule, now)


def drop_timers_in(tx: Tx, session_id: int) -> None:
    cancel_in(tx, ALERT, f"session:{session_id}")
    cancel_in(tx, CHECK, f"session:{session_id}")


def drop_slot_in(tx: Tx, session_id: int, slot_id: int | None) -> None:
    """A cancelled session needs no facilitator: its slot goes (and with it any claim)."""
    drop_timers_in(tx, session_id)
    if slot_id is not None:
        tx.execute("DELETE FROM rota_slots WHERE id = ?", (slot_id,))


def alert_outbox(tx: Tx, timer: Timer, now: datetime) -> list[OutboxSpec]:
    """The facilitator alert, for coordinators, while the session is still unclaimed."""
    session_id = int(timer.ref.split(":")[1])
    row = tx.fetchone(
        "SELECT starts_at, cancelled_at, slot_id FROM group_sessions WHERE id = ?", (session_id,)
    )
    if row is None or row["cancelled_at"] is not None or row["slot_id"] is None:
        return []
    if tx.fetchval(_CLAIMED, (row["slot_id"],)):
        return []
    starts_at = from_ts(row["starts_at"])
    if now >= starts_at:
        return []
    return [
        OutboxSpec(
            guild_id=timer.guild_id,
            kind=ALERT,
            due_at=timer.due_at,
            payload={"session_id": session_id, "slot_id": row["slot_id"]},
            expires_at=starts_at,
        )
    ]


def unclaimed_in(tx: Tx, session_id: int) -> bool:
    """Whether the session still has nobody facilitating (its slot unclaimed, or gone)."""
    row = tx.fetchone("SELECT slot_id FROM group_sessions WHERE id = ?", (session_id,))
    if row is None:
        return False
    if row["slot_id"] is None:
        return True
    return not tx.fetchval(_CLAIMED, (row["slot_id"],))


def facilitators_in(tx: Tx, session_id: int) -> list[int]:
    return [
        r[0]
        for r in tx.fetchall(
            "SELECT c.user_id FROM group_sessions s JOIN rota_claims c ON c.slot_id = s.slot_id "
            "WHERE s.id = ?",
            (session_id,),
        )
    ]


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData.server_setup(
        "session_facilitation",
        "set_by",
        N_("session facilitation you set"),
        why="which rota facilitates a group's sessions",
    ),
)
