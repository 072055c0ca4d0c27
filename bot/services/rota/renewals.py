"""Training renewals: a supporter's DMs 30 and 7 days ahead, and the coordinators' weekly digest.

Both are one-shot timers scheduled in the transaction that records the training, so renewing or
revoking it moves or cancels them with it. Each becomes its outbox rows in the transaction that
consumes it, so a restart neither loses nor resends one. The digest timer schedules the next
week's in that same transaction, for as long as the server has training with an expiry.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from bot.db import Tx, from_ts, to_ts
from bot.scheduling import next_weekly
from bot.services.locales import LANGUAGE
from bot.services.outbox import OutboxSpec
from bot.services.rota.base import RotaPart
from bot.services.rota.models import Training, training_of
from bot.services.rows import model_of
from bot.services.timers import Timer, TimerSpec, cancel_in, cancel_prefix_in, schedule_in

RENEWAL = "rota.renewal"  # the timer 30 or 7 days before an expiry, and the DM it becomes
DIGEST = "rota.training_digest"  # the weekly timer, and the alert rows it becomes
RENEWAL_DAYS = (30, 7)
DIGEST_WINDOW = timedelta(days=30)
DIGEST_WEEKDAY = 0  # Monday
DIGEST_AT = time(9, 0)  # in the server's zone
MAX_PAST_EXPIRY = 200  # shifts listed in one digest; more are counted, not listed


class PastExpiry(BaseModel):
    """A shift someone holds that starts after their training runs out."""

    user_id: int
    slot_id: int
    rota_name: str
    starts_at: datetime
    expires_at: datetime


class Digest(BaseModel):
    expiring: list[Training]  # expired, or expiring within the window; soonest first
    past_expiry: list[PastExpiry]
    past_expiry_total: int


def _renewal_prefix(guild_id: int, user_id: int) -> str:
    return f"training:{guild_id}:{user_id}:"


def _digest_ref(guild_id: int) -> str:
    return f"digest:{guild_id}"


def next_digest(after: datetime, zone: ZoneInfo) -> datetime:
    return next_weekly(after, {DIGEST_WEEKDAY}, DIGEST_AT, zone)


def renewal_timers_in(
    tx: Tx, guild_id: int, user_id: int, expires_at: datetime | None,
    now: datetime, zone: ZoneInfo,
) -> None:  # fmt: skip
    """Replace the supporter's renewal DMs with those for `expires_at` still ahead, and make
    sure the server's digest is scheduled (an existing one keeps its time)."""
    cancel_prefix_in(tx, RENEWAL, _renewal_prefix(guild_id, user_id))
    if expires_at is None:
        return
    specs: list[TimerSpec] = [
        (
            RENEWAL,
            f"{_renewal_prefix(guild_id, user_id)}{days}",
            expires_at - timedelta(days=days),
            {"user_id": user_id, "days": days, "expires_at": to_ts(expires_at)},
        )
        for days in RENEWAL_DAYS
        if expires_at - timedelta(days=days) > now
    ]
    schedule_in(tx, guild_id, specs)
    exists = tx.fetchone(
        "SELECT 1 FROM timers WHERE kind = ? AND ref = ?", (DIGEST, _digest_ref(guild_id))
    )
    if exists is None:
        due = next_digest(now, zone)
        schedule_in(tx, guild_id, [(DIGEST, _digest_ref(guild_id), due, {"zone": zone.key})])


def cancel_renewals_in(tx: Tx, guild_id: int, user_id: int) -> None:
    cancel_prefix_in(tx, RENEWAL, _renewal_prefix(guild_id, user_id))


def renewal_outbox(tx: Tx, timer: Timer, now: datetime) -> list[OutboxSpec]:
    """The DM, unless the training was renewed, revoked or has run out since."""
    expires = timer.payload["expires_at"]
    row = tx.fetchone(
        "SELECT 1 FROM rota_training WHERE guild_id = ? AND user_id = ? AND expires_at = ?",
        (timer.guild_id, timer.payload["user_id"], expires),
    )
    if row is None or to_ts(now) >= expires:
        return []
    return [
        OutboxSpec(
            guild_id=timer.guild_id,
            kind=RENEWAL,
            due_at=timer.due_at,
            user_id=timer.payload["user_id"],
            payload={"days": timer.payload["days"], "expires_at": expires},
            expires_at=from_ts(expires),
        )
    ]


def digest_sync(tx: Tx, guild_id: int, now: datetime) -> Digest:
    """What the weekly digest lists, read inside the transaction that consumes its timer."""
    expiring = [
        training_of(row)
        for row in tx.fetchall(
            "SELECT * FROM rota_training WHERE guild_id = ? AND expires_at IS NOT NULL "
            "AND expires_at <= ? ORDER BY expires_at, user_id",
            (guild_id, to_ts(now + DIGEST_WINDOW)),
        )
    ]
    past_sql = (
        "FROM rota_claims c JOIN rota_slots s ON s.id = c.slot_id JOIN rotas r ON r.id = s.rota_id "
        "JOIN rota_training t ON t.guild_id = c.guild_id AND t.user_id = c.user_id "
        "WHERE c.guild_id = ? AND r.requires_training = 1 AND t.expires_at IS NOT NULL "
        "AND s.starts_at >= t.expires_at AND s.starts_at > ?"
    )
    params = (guild_id, to_ts(now))
    total = tx.fetchval(f"SELECT COUNT(*) {past_sql}", params)
    past = [
        model_of(PastExpiry, row)
        for row in tx.fetchall(
            "SELECT c.user_id, c.slot_id, r.name AS rota_name, s.starts_at, t.expires_at "
            f"{past_sql} ORDER BY s.starts_at, c.id LIMIT {MAX_PAST_EXPIRY}",
            params,
        )
    ]
    return Digest(expiring=expiring, past_expiry=past, past_expiry_total=total)


def language_setting_in(tx: Tx, guild_id: int) -> str:
    """The server's `language` setting as stored, read inside the transaction that turns the
    digest's timer into messages (which are written, and split to fit, in that language)."""
    raw = tx.fetchval(
        "SELECT value FROM guild_settings WHERE guild_id = ? AND key = ?",
        (guild_id, LANGUAGE.name),
    )
    return str(json.loads(raw)) if raw is not None else str(LANGUAGE.default)


def schedule_next_digest_in(tx: Tx, timer: Timer, now: datetime) -> None:
    """Next week's digest, while the server has any training with an expiry to watch."""
    watched = tx.fetchone(
        "SELECT 1 FROM rota_training WHERE guild_id = ? AND expires_at IS NOT NULL LIMIT 1",
        (timer.guild_id,),
    )
    if watched is None:
        cancel_in(tx, DIGEST, timer.ref)
        return
    zone = ZoneInfo(timer.payload.get("zone", "UTC"))
    schedule_in(tx, timer.guild_id, [(DIGEST, timer.ref, next_digest(now, zone), timer.payload)])


class RenewalsPart(RotaPart):
    async def renewal_still_due(self, guild_id: int, user_id: int, expires: int) -> bool:
        """Checked again at send time: renewed or revoked meanwhile means no DM."""
        found = await self._db.fetchval(
            "SELECT 1 FROM rota_training WHERE guild_id = ? AND user_id = ? AND expires_at = ?",
            (guild_id, user_id, expires),
        )
        return found is not None
