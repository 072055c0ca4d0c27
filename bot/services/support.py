"""Support requests: a member asks for a peer supporter; one supporter claims; someone closes.

A request row holds ids, times and state only. What the member wrote lives in the Discord thread,
never here, so a database backup can't leak it. Claiming and closing are single guarded UPDATEs:
of two supporters pressing "I'll take this" together, exactly one row update succeeds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from bot.clock import Clock
from bot.db import Database, IntegrityError, Row, Tx, to_ts
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.base import Service
from bot.services.data import PersonColumn, TableData
from bot.services.outbox import OutboxSpec
from bot.services.rota import RotaService
from bot.services.rows import model_of
from bot.services.settings import Setting
from bot.services.text import discord_time
from bot.services.timers import Timer

Source = Literal["support", "checkin"]
State = Literal["open", "closed"]
UNCLAIMED_TIMER = "support.unclaimed"
# The note a member may leave for the supporters (posted in the thread, never stored).
MAX_NOTE = 1500

# The support feature's own setting (bot/services/settings.py): settings[CLAIM_ALERT_MINUTES].
CLAIM_ALERT_MINUTES = Setting[int](
    "support_claim_alert_minutes",
    int,
    15,
    N_("Alert if a support request is unclaimed this long"),
    low=1,
    high=1440,
)
SETTINGS = (CLAIM_ALERT_MINUTES,)


def unclaimed_outbox(tx: Tx, timer: Timer, now: datetime) -> list[OutboxSpec]:
    """The due "still not taken" timer becomes its alert in the outbox, in the same transaction;
    whether the request is still open is decided when the alert's turn comes."""
    return [
        OutboxSpec(
            guild_id=timer.guild_id,
            kind=UNCLAIMED_TIMER,
            due_at=timer.due_at,
            payload={"request_id": int(timer.ref)},
        )
    ]


class SupportRequest(BaseModel):
    id: int
    guild_id: int
    user_id: int
    source: Source
    thread_id: int | None
    state: State
    claimed_by: int | None
    claimed_at: datetime | None
    closed_by: int | None
    closed_at: datetime | None
    created_at: datetime


class OnDuty(BaseModel):
    """A supporter on duty now, and when their shift ends."""

    user_id: int
    ends_at: datetime


class AlreadyOpen(UserFacingError):
    """The member already has an open request; the cog links its thread."""

    def __init__(self, request: SupportRequest) -> None:
        if request.thread_id:
            message = N_(
                "You already have an open support request in {thread} (opened {when}). "
                "Someone will reply there; you can close it with its Close button when "
                "you're ready."
            )
        else:
            message = N_(
                "You already have an open support request (opened {when}). Someone will reply "
                "there; you can close it with its Close button when you're ready."
            )
        super().__init__(
            message,
            thread=f"<#{request.thread_id}>",
            when=discord_time(request.created_at, "R"),
        )
        self.request = request


def _request(row: Row) -> SupportRequest:
    return model_of(SupportRequest, row)


class SupportService(Service):
    def __init__(self, db: Database, clock: Clock) -> None:
        super().__init__(db, clock)
        self._rota = RotaService(db, clock)

    async def supporters_on_duty(self, guild_id: int) -> list[OnDuty]:
        """Who is on a rota shift right now (one entry per supporter, latest shift end)."""
        latest: dict[int, datetime] = {}
        for shift in await self._rota.on_duty(guild_id):
            if shift.user_id and (
                shift.user_id not in latest or shift.ends_at > latest[shift.user_id]
            ):
                latest[shift.user_id] = shift.ends_at
        return [OnDuty(user_id=uid, ends_at=end) for uid, end in latest.items()]

    async def next_shift(self, guild_id: int) -> datetime | None:
        """When someone will next be on duty, for telling a member when to expect a reply."""
        return await self._rota.next_shift_start(guild_id)

    async def get(self, guild_id: int, request_id: int) -> SupportRequest:
        row = await self._db.fetchone(
            "SELECT * FROM support_requests WHERE guild_id = ? AND id = ?", (guild_id, request_id)
        )
        if row is None:
            raise UserFacingError(N_("I can't find that support request any more."))
        return _request(row)

    async def open_for(self, guild_id: int, user_id: int) -> SupportRequest | None:
        row = await self._db.fetchone(
            "SELECT * FROM support_requests WHERE guild_id = ? AND user_id = ? AND state = 'open'",
            (guild_id, user_id),
        )
        return None if row is None else _request(row)

    async def open(self, guild_id: int, user_id: int, source: Source) -> SupportRequest:
        """Open a request, or refuse with a link to the one already open (unique index)."""
        try:
            request_id = await self._db.insert(
                "INSERT INTO support_requests (guild_id, user_id, source, created_at) "
                "VALUES (?, ?, ?, ?)",
                (guild_id, user_id, source, to_ts(self._clock.now())),
            )
        except IntegrityError:
            existing = await self.open_for(guild_id, user_id)
            if existing is None:  # closed in between: try once more
                return await self.open(guild_id, user_id, source)
            raise AlreadyOpen(existing) from None
        return await self.get(guild_id, request_id)

    async def set_thread(self, guild_id: int, request_id: int, thread_id: int) -> None:
        await self._db.execute(
            "UPDATE support_requests SET thread_id = ? WHERE guild_id = ? AND id = ?",
            (thread_id, guild_id, request_id),
        )

    async def claim(self, guild_id: int, request_id: int, supporter_id: int) -> SupportRequest:
        """Exactly one supporter wins; the others learn who took it."""
        request = await self.get(guild_id, request_id)
        if request.user_id == supporter_id:
            raise UserFacingError(N_("This is your own request: a supporter will take it."))
        won = await self._db.execute(
            "UPDATE support_requests SET claimed_by = ?, claimed_at = ? "
            "WHERE guild_id = ? AND id = ? AND claimed_by IS NULL AND state = 'open'",
            (supporter_id, to_ts(self._clock.now()), guild_id, request_id),
        )
        request = await self.get(guild_id, request_id)
        if won:
            return request
        if request.state == "closed":
            raise UserFacingError(N_("This request has already been closed. Nothing was changed."))
        if request.claimed_by == supporter_id:
            raise UserFacingError(N_("You've already taken this request."))
        raise UserFacingError(
            N_(
                "{supporter} has already taken this request, so you don't need to. "
                "Thank you for being ready."
            ),
            supporter=f"<@{request.claimed_by}>",
        )

    async def close(self, guild_id: int, request_id: int, actor_id: int) -> SupportRequest:
        closed = await self._db.execute(
            "UPDATE support_requests SET state = 'closed', closed_by = ?, closed_at = ? "
            "WHERE guild_id = ? AND id = ? AND state = 'open'",
            (actor_id, to_ts(self._clock.now()), guild_id, request_id),
        )
        request = await self.get(guild_id, request_id)
        if not closed:
            raise UserFacingError(N_("This request is already closed."))
        return request


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData(
        "support_requests",
        export="never",
        why="who asked for support",
        people=(
            PersonColumn(
                "user_id",
                "anonymise",
                N_("support requests you made"),
                "they hold no content; counts stay right",
            ),
            PersonColumn(
                "claimed_by",
                "anonymise",
                N_("support requests you took"),
                "they hold no content; counts stay right",
            ),
            PersonColumn(
                "closed_by",
                "anonymise",
                N_("support requests you closed"),
                "they hold no content; counts stay right",
            ),
        ),
    ),
)
