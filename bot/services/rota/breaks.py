"""Stepping back: a supporter's break from the rota, and handing their shifts over.

A break needs no reason and stores none: only who, from which local day and until which (or
"until I say"). Setting one releases, in the same transaction, every claimed shift that starts
inside it, with the coordinators' alert as an outbox row: the release and its one alert are
committed together. The same release serves a supporter who left the server.

While a break covers a moment the supporter is not on duty (so `/support` does not route to
them), cannot claim or take a swap there, and has no shifts to be reminded of. Its end is a
timer that becomes the "welcome back" DM in the transaction that ends the break.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from bot.db import Tx, to_ts
from bot.errors import UserFacingError
from bot.i18n import N_, Day
from bot.scheduling import localize
from bot.services.data import PersonColumn, TableData
from bot.services.outbox import OutboxSpec, enqueue_in
from bot.services.rota.base import RotaPart
from bot.services.rota.models import Slot
from bot.services.rota.reminders import cancel_claim_timers_in
from bot.services.rota.rotas import load_slots
from bot.services.rows import model_of
from bot.services.text import discord_time
from bot.services.timers import Timer, cancel_in, schedule_in

AWAY_END = "rota.away_end"  # the timer at a break's end, and the DM it becomes
FREED_ALERT = "rota.freed"  # coordinators' alert listing shifts a supporter handed back
MAX_BREAK = timedelta(days=366)  # a year, leap days included
DATE_LENGTH = 10  # YYYY-MM-DD
# A welcome-back DM days late (the bot was down) is still kind; weeks late it is odd.
WELCOME_STALE = timedelta(days=7)


class Away(BaseModel):
    guild_id: int
    user_id: int
    starts_at: datetime
    ends_at: datetime | None

    def covers(self, moment: datetime) -> bool:
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)


class SteppedBack(BaseModel):
    away: Away
    freed: list[Slot]


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        if name == "start":
            raise UserFacingError(
                N_(
                    "I couldn't read “{text}” as the start date. Give dates as `YYYY-MM-DD`, "
                    "e.g. `2027-03-01`."
                ),
                text=text,
            ) from None
        raise UserFacingError(
            N_(
                "I couldn't read “{text}” as the end date. Give dates as `YYYY-MM-DD`, "
                "e.g. `2027-03-01`."
            ),
            text=text,
        ) from None


def parse_break(
    start: str | None, end: str | None, zone: ZoneInfo, now: datetime
) -> tuple[datetime, datetime | None]:
    """The break's first instant and the instant it ends (the local midnight after the end
    day), or None for "until I say". No start means from today."""
    today = now.astimezone(zone).date()
    first = _day(start, "start") if start else today
    if first < today:
        raise UserFacingError(
            N_("{day} has already passed. A break can start today or later."),
            day=Day(first, "EEE dd MMM y"),
        )
    if first - today > MAX_BREAK:
        raise UserFacingError(N_("That start is more than a year away. Pick a date within a year."))
    starts_at = localize(first, time(0, 0), zone)
    if not end:
        return starts_at, None
    last = _day(end, "end")
    if last < first:
        raise UserFacingError(
            N_(
                "The end ({end}) is before the start ({start}). "
                "The end is the last day you're away."
            ),
            end=Day(last, "EEE dd MMM y"),
            start=Day(first, "EEE dd MMM y"),
        )
    if (last - first) + timedelta(days=1) > MAX_BREAK:  # (never date arithmetic near 9999)
        raise UserFacingError(
            N_(
                "That's a break of more than a year. Pick an end within a year, or leave `end` "
                "out to be away until you say — you can come back any time with `/rota back`."
            )
        )
    return starts_at, localize(last + timedelta(days=1), time(0, 0), zone)


_UPCOMING_CLAIMS = (
    "SELECT c.id, c.slot_id FROM rota_claims c JOIN rota_slots s ON s.id = c.slot_id "
    "WHERE c.guild_id = ? AND c.user_id = ? AND s.starts_at > ? AND s.starts_at >= ? "
    "AND (CAST(? AS BIGINT) IS NULL OR s.starts_at < ?) ORDER BY s.starts_at"
)


def release_upcoming_in(
    tx: Tx, guild_id: int, user_id: int, now: datetime,
    start: datetime, end: datetime | None,
) -> list[Slot]:  # fmt: skip
    """Release the supporter's shifts not yet started that start in [start, end), with their
    reminders and debriefs; a shift in progress is left (there is nothing to hand over now)."""
    until = None if end is None else to_ts(end)
    rows = tx.fetchall(
        _UPCOMING_CLAIMS, (guild_id, user_id, to_ts(now), to_ts(start), until, until)
    )
    if not rows:
        return []
    for claim_id, _ in rows:
        tx.execute("DELETE FROM rota_claims WHERE id = ?", (claim_id,))
        cancel_claim_timers_in(tx, claim_id)
    marks = ",".join("?" * len(rows))
    return load_slots(tx, f"s.id IN ({marks})", [slot_id for _, slot_id in rows])


AlertTexts = Callable[[list[Slot]], list[str]]


def _alert_specs(guild_id: int, texts: list[str], now: datetime) -> list[OutboxSpec]:
    return [
        OutboxSpec(guild_id=guild_id, kind=FREED_ALERT, due_at=now, payload={"content": text})
        for text in texts
    ]


def _end_ref(guild_id: int, user_id: int) -> str:
    return f"away:{guild_id}:{user_id}"


def away_end_outbox(tx: Tx, timer: Timer, now: datetime) -> list[OutboxSpec]:
    """The break's end date came: end it and queue the welcome back, in one transaction. A
    break replaced or ended since has no row with this end, and so no DM."""
    _, guild_id, user_id = timer.ref.split(":")
    row = tx.fetchone(
        "DELETE FROM rota_away WHERE guild_id = ? AND user_id = ? AND ends_at = ? RETURNING *",
        (int(guild_id), int(user_id), timer.payload.get("ends_at")),
    )
    if row is None:
        return []
    return [
        OutboxSpec(
            guild_id=timer.guild_id,
            kind=AWAY_END,
            due_at=timer.due_at,
            user_id=int(user_id),
            expires_at=timer.due_at + WELCOME_STALE,
        )
    ]


def break_of(tx: Tx, guild_id: int, user_id: int) -> Away | None:
    row = tx.fetchone(
        "SELECT * FROM rota_away WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
    )
    return None if row is None else model_of(Away, row)


def judge_break(away: Away | None, starts_at: datetime, now: datetime) -> None:
    """Refuse a shift while on a break, or one inside a break still to come."""
    if away is None or not (away.covers(now) or away.covers(starts_at)):
        return
    if away.ends_at is None:
        raise UserFacingError(
            N_(
                "You're taking a break until you say, so I'm keeping shifts in it off your "
                "plate. Rest well. If you're ready to come back sooner, `/rota back` ends the "
                "break."
            )
        )
    raise UserFacingError(
        N_(
            "You're taking a break until {day}, so I'm keeping shifts in it off your plate. "
            "Rest well. If you're ready to come back sooner, `/rota back` ends the break."
        ),
        day=discord_time(away.ends_at, "D"),
    )


AWAY_NOW = (
    "NOT EXISTS (SELECT 1 FROM rota_away a WHERE a.guild_id = c.guild_id AND "
    "a.user_id = c.user_id AND a.starts_at <= :now AND (a.ends_at IS NULL OR a.ends_at > :now))"
)


class BreaksPart(RotaPart):
    async def is_away(self, guild_id: int, user_id: int) -> bool:
        """Whether the supporter is on a break right now (so is offered no shifts)."""
        away = await self._db.read(lambda tx: break_of(tx, guild_id, user_id))
        return away is not None and away.covers(self._clock.now())

    async def hand_back_all(self, guild_id: int, user_id: int, alert: AlertTexts) -> list[Slot]:
        """Open every upcoming shift of someone who can no longer cover them (they left), and
        queue the coordinators' alert listing them, in one transaction."""
        now = self._clock.now()

        def hand_back(tx: Tx) -> list[Slot]:
            freed = release_upcoming_in(tx, guild_id, user_id, now, now, None)
            if freed:
                enqueue_in(tx, _alert_specs(guild_id, alert(freed), now), now)
            return freed

        return await self._db.write(hand_back)

    async def step_back(
        self,
        guild_id: int,
        user_id: int,
        starts_at: datetime,
        ends_at: datetime | None,
        alert: AlertTexts,
    ) -> SteppedBack:
        """Record (or replace) the break, release the shifts inside it and queue one alert listing
        them, and schedule the welcome back: all or nothing."""
        now = self._clock.now()
        away = Away(guild_id=guild_id, user_id=user_id, starts_at=starts_at, ends_at=ends_at)

        def record(tx: Tx) -> SteppedBack:
            tx.execute(
                "INSERT INTO rota_away (guild_id, user_id, starts_at, ends_at, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id) DO UPDATE SET "
                "starts_at = excluded.starts_at, ends_at = excluded.ends_at, "
                "created_at = excluded.created_at",
                (guild_id, user_id, to_ts(starts_at), ends_at and to_ts(ends_at), to_ts(now)),
            )
            ref = _end_ref(guild_id, user_id)
            if ends_at is None:
                cancel_in(tx, AWAY_END, ref)
            else:
                schedule_in(tx, guild_id, [(AWAY_END, ref, ends_at, {"ends_at": to_ts(ends_at)})])
            freed = release_upcoming_in(tx, guild_id, user_id, now, starts_at, ends_at)
            if freed:
                enqueue_in(tx, _alert_specs(guild_id, alert(freed), now), now)
            return SteppedBack(away=away, freed=freed)

        return await self._db.write(record)

    async def come_back(self, guild_id: int, user_id: int) -> Away:
        """End the break now (or call off one not yet begun); shifts released stay released."""

        def end(tx: Tx) -> Away:
            row = tx.fetchone(
                "DELETE FROM rota_away WHERE guild_id = ? AND user_id = ? RETURNING *",
                (guild_id, user_id),
            )
            if row is None:
                raise UserFacingError(
                    N_(
                        "You're not on a break, so there's nothing to end. `/rota away` starts "
                        "one whenever you need it."
                    )
                )
            cancel_in(tx, AWAY_END, _end_ref(guild_id, user_id))
            return model_of(Away, row)

        return await self._db.write(end)

    async def list_breaks(self, guild_id: int) -> list[Away]:
        """Breaks now or still to come, soonest ending first ("until I say" last)."""
        now = self._clock.now()
        rows = await self._db.fetchall(
            "SELECT * FROM rota_away WHERE guild_id = ? AND (ends_at IS NULL OR ends_at > ?) "
            "ORDER BY ends_at IS NULL, ends_at, starts_at, user_id",
            (guild_id, to_ts(now)),
        )
        return [model_of(Away, row) for row in rows]


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData(
        "rota_away",
        export="rows",
        why="who is away and until when (operational); no reason is stored",
        people=(
            PersonColumn("user_id", "delete", N_("breaks from the rota (dates only, never why)")),
        ),
    ),
)
