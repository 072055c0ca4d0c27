"""The one-shot timers behind reminders, debriefs and coverage alerts.

Refs are stable (`claim:<id>:<hours>`, `claim:<id>`, `slot:<id>`) so scheduling again never
duplicates and a release, swap or removal can cancel exactly its own. A swap keeps the claim id,
so the new supporter inherits the remaining reminders: handlers read the claim when they fire.

When one of these timers comes due it becomes an outbox row in the transaction that consumes it
(`TIMER_OUTBOX`), with the staleness rule as its expiry: a reminder is not worth sending once the
shift has started (or a later reminder is due), a debrief two days after the shift, a coverage
alert once the slot has started.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from bot.db import Row, Tx, from_ts, to_ts
from bot.services.outbox import OutboxSpec
from bot.services.rota.base import RotaPart
from bot.services.rota.models import Shift, Slot
from bot.services.timers import (
    Timer,
    TimerConverter,
    TimerService,
    TimerSpec,
    cancel_in,
    cancel_prefix_in,
    schedule_in,
)

REMINDER = "rota.reminder"
DEBRIEF = "rota.debrief"
COVERAGE = "rota.coverage"
# A debrief this late (the bot was down for days) would feel odd rather than caring.
DEBRIEF_STALE = timedelta(days=2)


def reminders_before(
    kind: str, ref: str, starts_at: datetime, hours: list[int], now: datetime
) -> list[TimerSpec]:
    """A `kind` timer per configured hour still ahead of `starts_at` (ref `{ref}:{hour}`), each
    knowing its hour and the next one, so after downtime only the latest due is sent. Shifts and
    sessions are reminded by this one rule."""
    ordered = sorted(set(hours), reverse=True)
    specs: list[TimerSpec] = []
    for index, hour in enumerate(ordered):
        due = starts_at - timedelta(hours=hour)
        if due <= now:
            continue
        later = ordered[index + 1] if index + 1 < len(ordered) else None
        specs.append((kind, f"{ref}:{hour}", due, {"hours": hour, "next_hours": later}))
    return specs


def reminder_timers(
    claim_id: int, starts_at: datetime, reminder_hours: list[int], now: datetime
) -> list[TimerSpec]:
    """A reminder per configured hour still ahead of the shift's start."""
    return reminders_before(REMINDER, f"claim:{claim_id}", starts_at, reminder_hours, now)


def claim_timers(shift: Shift, reminder_hours: list[int], now: datetime) -> list[TimerSpec]:
    """The claim's reminders, and the debrief at the shift's end."""
    slot = shift.slot
    specs = reminder_timers(shift.claim_id, slot.starts_at, reminder_hours, now)
    specs.append((DEBRIEF, f"claim:{shift.claim_id}", slot.ends_at, None))
    return specs


async def schedule_claim_timers(
    timers: TimerService, shift: Shift, reminder_hours: list[int], now: datetime
) -> list[datetime]:
    """Schedule `claim_timers`; returns the due times, so the caller can wake the dispatcher."""
    specs = claim_timers(shift, reminder_hours, now)
    await timers.schedule_many(shift.slot.guild_id, specs)
    return [due for _, _, due, _ in specs]


async def cancel_claim_timers(timers: TimerService, claim_id: int) -> None:
    await timers.cancel_prefix(REMINDER, f"claim:{claim_id}:")
    await timers.cancel(DEBRIEF, f"claim:{claim_id}")


def cancel_claim_timers_in(tx: Tx, claim_id: int) -> None:
    """`cancel_claim_timers` inside the transaction that ends the claim."""
    cancel_prefix_in(tx, REMINDER, f"claim:{claim_id}:")
    cancel_in(tx, DEBRIEF, f"claim:{claim_id}")


async def schedule_coverage_check(
    timers: TimerService, slot: Slot, alert_hours: int, now: datetime
) -> datetime | None:
    """Check the slot's cover `alert_hours` ahead; a slot added closer than that is not alerted."""
    due = slot.starts_at - timedelta(hours=alert_hours)
    if due <= now:
        return None
    await timers.schedule(slot.guild_id, COVERAGE, f"slot:{slot.id}", due)
    return due


async def cancel_slot_timers(timers: TimerService, slot: Slot, claim_ids: list[int]) -> None:
    await timers.cancel(COVERAGE, f"slot:{slot.id}")
    for claim_id in claim_ids:
        await cancel_claim_timers(timers, claim_id)


def reminder_is_stale(payload: Mapping[str, object], slot: Slot, now: datetime) -> bool:
    """Skip a reminder once the shift started, or when a later one is due too (after downtime)."""
    if now >= slot.starts_at:
        return True
    later = payload.get("next_hours")
    return isinstance(later, int) and now >= slot.starts_at - timedelta(hours=later)


def ref_id(ref: str) -> int:
    return int(ref.split(":")[1])


_CLAIM = (
    "SELECT c.user_id, s.starts_at, s.ends_at FROM rota_claims c "
    "JOIN rota_slots s ON s.id = c.slot_id WHERE c.id = ?"
)


def _shift_message(
    tx: Tx,
    timer: Timer,
    now: datetime,
    expires_of: Callable[[Row], datetime],
    payload: dict[str, object],
) -> list[OutboxSpec]:
    """The DM a claim's timer stands for, to whoever holds the claim now; none once the claim is
    gone (released, removed) or the message is already stale."""
    claim_id = ref_id(timer.ref)
    row = tx.fetchone(_CLAIM, (claim_id,))
    if row is None:
        return []
    expires = expires_of(row)
    if now >= expires:
        return []
    return [
        OutboxSpec(
            guild_id=timer.guild_id,
            kind=timer.kind,
            due_at=timer.due_at,
            user_id=row["user_id"],
            payload={"claim_id": claim_id, **payload},
            expires_at=expires,
        )
    ]


def reminder_outbox(tx: Tx, timer: Timer, now: datetime) -> list[OutboxSpec]:
    later = timer.payload.get("next_hours")

    def expires(row: Row) -> datetime:
        # After downtime only the latest due reminder is sent: this one is stale once the
        # next one is due, as `reminder_is_stale` says.
        starts = from_ts(row["starts_at"])
        return starts - timedelta(hours=later) if isinstance(later, int) else starts

    return _shift_message(tx, timer, now, expires, timer.payload)


def debrief_outbox(tx: Tx, timer: Timer, now: datetime) -> list[OutboxSpec]:
    return _shift_message(tx, timer, now, lambda row: from_ts(row["ends_at"]) + DEBRIEF_STALE, {})


def coverage_outbox(tx: Tx, timer: Timer, now: datetime) -> list[OutboxSpec]:
    slot_id = ref_id(timer.ref)
    starts = tx.fetchone(
        "SELECT starts_at FROM rota_slots WHERE id = ? AND guild_id = ?", (slot_id, timer.guild_id)
    )
    if starts is None or now >= from_ts(starts[0]):
        return []
    return [
        OutboxSpec(
            guild_id=timer.guild_id,
            kind=COVERAGE,
            due_at=timer.due_at,
            payload={"slot_id": slot_id},
            expires_at=from_ts(starts[0]),
        )
    ]


TIMER_OUTBOX: dict[str, TimerConverter] = {
    REMINDER: reminder_outbox,
    DEBRIEF: debrief_outbox,
    COVERAGE: coverage_outbox,
}


class RemindersPart(RotaPart):
    async def reschedule_reminders(
        self, guild_id: int, reminder_hours: list[int]
    ) -> datetime | None:
        """Move the reminders of every shift not yet started to the server's new hours, so a
        supporter is reminded when the coordinators now say, whenever they claimed. Returns the
        earliest new reminder, to wake the dispatcher for."""
        now = self._clock.now()
        claims_sql = (
            "SELECT c.id, s.starts_at FROM rota_slots s JOIN rota_claims c ON c.slot_id = s.id "
            "WHERE s.guild_id = ? AND s.starts_at > ?"
        )

        def move(tx: Tx) -> datetime | None:
            specs: list[TimerSpec] = []
            for claim_id, starts_at in tx.fetchall(claims_sql, (guild_id, to_ts(now))):
                cancel_prefix_in(tx, REMINDER, f"claim:{claim_id}:")
                specs += reminder_timers(claim_id, from_ts(starts_at), reminder_hours, now)
            schedule_in(tx, guild_id, specs)
            return min((due for _, _, due, _ in specs), default=None)

        return await self._db.write(move)
