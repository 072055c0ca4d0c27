"""Group sessions: the meetings a peer group holds, who is coming, and what reaches them.

Start and length are read by the rota's parser (`bot.services.rota.parsing`), so "mon 19:00",
"2026-03-03 19:00", "1h30m" mean the same everywhere, and a weekly series keeps the same local
wall-clock time across daylight-saving changes.

A session's reminders are one timer per configured hour (`session:<id>:<hours>`); when one comes
due it becomes one outbox row per member going, in the transaction that consumes the timer, so a
member who answers later is still reminded and one who switched reminders off is not. A
cancellation or a move writes its notices to the outbox in the transaction that makes the change:
exactly once, whatever crashes.

The last place of a session is won by one guarded statement (`INSERT … SELECT … WHERE count <
places`), never read-then-write.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from bot.db import Row, Tx, from_ts, to_ts
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.base import Service
from bot.services.outbox import OutboxSpec, enqueue_in
from bot.services.rota.parsing import parse_duration, parse_start, weekly_starts
from bot.services.rows import model_of
from bot.services.session_facilitators import (
    add_slot_in,
    drop_slot_in,
    facilitators_in,
    move_slot_in,
    unclaimed_in,
)
from bot.services.session_input import clean_reason, english_day
from bot.services.session_notices import GOING_USERS, REMINDER, notices, reminder_timers
from bot.services.text import contains_pattern, discord_time, one_line
from bot.services.timers import TimerSpec, cancel_prefix_in, schedule_in

# Audit actions, "feature.what_happened" like every feature's.
AUDIT_SESSIONS_ADDED = "session.added"
AUDIT_SESSIONS_MOVED = "session.moved"
AUDIT_SESSIONS_CANCELLED = "session.cancelled"
AUDIT_SESSION_PLACES_SET = "session.places_set"
AUDIT_SESSION_ROOM_SET = "session.room_set"
AUDIT_SESSION_FACILITATION_SET = "session.facilitation_set"
MAX_PLACES = 1000
# A session is named in commands by its number ("#12", or picked from the suggestions).
MAX_SESSION_TEXT = 100
CHOICES = 25
GONE = N_("I couldn't find that session. `/group sessions list` shows a group's sessions.")
# The reason Hearth itself stores on a session it cancelled (shown translated: `reason_text`).
NO_FACILITATOR = N_("no trained facilitator was free to hold it")

_SESSION_SQL = (
    "SELECT s.*, g.name AS group_name, g.session_places AS places, "
    "(SELECT COUNT(*) FROM session_rsvps r WHERE r.session_id = s.id AND r.going = 1) AS going "
    "FROM group_sessions s JOIN groups g ON g.id = s.group_id"
)
_ANSWER = (
    "INSERT INTO session_rsvps (session_id, guild_id, user_id, going, answered_at) "
    "SELECT :session, :guild, :user, :going, :now "
    "WHERE :going = 0 OR CAST(:places AS INTEGER) IS NULL "
    "OR (SELECT COUNT(*) FROM session_rsvps WHERE session_id = :session AND going = 1 "
    "AND user_id != :user) < CAST(:places AS INTEGER) "
    "ON CONFLICT (session_id, user_id) DO UPDATE SET going = excluded.going, "
    "answered_at = excluded.answered_at"
)


class Session(BaseModel):
    id: int
    guild_id: int
    group_id: int
    group_name: str
    series_id: int | None
    starts_at: datetime
    ends_at: datetime
    cancelled_at: datetime | None
    reason: str | None
    event_id: int | None
    slot_id: int | None
    going: int
    places: int | None

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def places_left(self) -> int | None:
        return None if self.places is None else max(0, self.places - self.going)


class Answer(BaseModel):
    session: Session
    going: bool


class Change(BaseModel):
    """What a cancel or move did: the sessions as they are now, and how many people were told."""

    sessions: list[Session]
    told: int
    first_due: datetime | None = None


def _session(row: Row) -> Session:
    return model_of(Session, row)


def _check_free(
    tx: Tx,
    group_id: int,
    spans: list[tuple[datetime, datetime]],
    except_ids: list[int],
) -> None:
    skip = f" AND id NOT IN ({','.join('?' * len(except_ids))})" if except_ids else ""
    for start, end in spans:
        clash = tx.fetchone(
            "SELECT starts_at FROM group_sessions WHERE group_id = ? AND cancelled_at IS NULL "
            f"AND starts_at < ? AND ends_at > ?{skip} LIMIT 1",
            (group_id, to_ts(end), to_ts(start), *except_ids),
        )
        if clash is not None:
            raise UserFacingError(
                N_(
                    "That would overlap the group's session at {when}. Nothing was changed; "
                    "pick another time, or move or cancel that session first."
                ),
                when=discord_time(from_ts(clash[0]), "F"),
            )


def _still_ahead(
    tx: Tx, guild_id: int, session_id: int, now: datetime, cancelled: str, started: str
) -> Session:
    """The session, if it is neither cancelled nor started; otherwise the refusal given."""
    row = tx.fetchone(f"{_SESSION_SQL} WHERE s.guild_id = ? AND s.id = ?", (guild_id, session_id))
    if row is None:
        raise UserFacingError(GONE)
    session = _session(row)
    if session.cancelled:
        raise UserFacingError(cancelled)
    if session.starts_at <= now:
        raise UserFacingError(started)
    return session


def _affected(tx: Tx, guild_id: int, session_id: int, rest: bool, now: datetime) -> list[Session]:
    session = _still_ahead(
        tx, guild_id, session_id, now,
        cancelled=N_("That session is already cancelled. Nothing was changed."),
        started=N_("That session has already started, so it can't be changed now."),
    )  # fmt: skip
    if not rest or session.series_id is None:
        return [session]
    rows = tx.fetchall(
        f"{_SESSION_SQL} WHERE s.guild_id = ? AND s.series_id = ? AND s.starts_at >= ? "
        "AND s.cancelled_at IS NULL ORDER BY s.starts_at",
        (guild_id, session.series_id, to_ts(session.starts_at)),
    )
    return [_session(r) for r in rows]


def _reload(tx: Tx, ids: list[int]) -> list[Session]:
    marks = ",".join("?" * len(ids))
    rows = tx.fetchall(f"{_SESSION_SQL} WHERE s.id IN ({marks}) ORDER BY s.starts_at", ids)
    return [_session(r) for r in rows]


class SessionService(Service):
    async def add(
        self,
        guild_id: int,
        group_id: int,
        actor_id: int,
        start: str,
        duration: str,
        repeat_weeks: int,
        zone: ZoneInfo,
        reminder_hours: list[int],
    ) -> Change:
        now = self._clock.now()
        day, at = parse_start(english_day(start), zone, now)
        length = parse_duration(duration)
        starts = weekly_starts(day, at, zone, repeat_weeks)
        spans = [(begin, begin + length) for begin in starts]

        def add(tx: Tx) -> Change:
            group = tx.fetchone(
                "SELECT archived_at FROM groups WHERE guild_id = ? AND id = ?", (guild_id, group_id)
            )
            if group is None:
                raise UserFacingError(N_("That group no longer exists. `/group list` shows them."))
            if group[0] is not None:
                raise UserFacingError(
                    N_(
                        "That group is archived, so it can't have new sessions. Reopen it first "
                        "(`/group edit`). Nothing was created."
                    )
                )
            _check_free(tx, group_id, spans, [])
            ids: list[int] = []
            timers: list[TimerSpec] = []
            for begin, end in spans:
                session_id = tx.insert(
                    "INSERT INTO group_sessions (guild_id, group_id, series_id, starts_at, "
                    "ends_at, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (guild_id, group_id, ids[0] if ids else None, to_ts(begin), to_ts(end),
                     to_ts(now), actor_id),
                )  # fmt: skip
                if not ids and len(spans) > 1:
                    tx.execute(
                        "UPDATE group_sessions SET series_id = id WHERE id = ?", (session_id,)
                    )
                ids.append(session_id)
                timers += reminder_timers(session_id, begin, reminder_hours, now)
                timers += add_slot_in(tx, guild_id, group_id, session_id, (begin, end),
                                      actor_id, now)  # fmt: skip
            schedule_in(tx, guild_id, timers)
            return Change(
                sessions=_reload(tx, ids),
                told=0,
                first_due=min((due for _, _, due, _ in timers), default=None),
            )

        return await self._db.write(add)

    async def get(self, guild_id: int, session_id: int) -> Session:
        row = await self._db.fetchone(
            f"{_SESSION_SQL} WHERE s.guild_id = ? AND s.id = ?", (guild_id, session_id)
        )
        if row is None:
            raise UserFacingError(GONE)
        return _session(row)

    async def find(self, session_id: int) -> Session | None:
        row = await self._db.fetchone(f"{_SESSION_SQL} WHERE s.id = ?", (session_id,))
        return None if row is None else _session(row)

    async def upcoming(self, guild_id: int, group_id: int) -> list[Session]:
        """Sessions not yet over, cancelled ones included so members see what changed."""
        rows = await self._db.fetchall(
            f"{_SESSION_SQL} WHERE s.guild_id = ? AND s.group_id = ? AND s.ends_at > ? "
            "ORDER BY s.starts_at",
            (guild_id, group_id, to_ts(self._clock.now())),
        )
        return [_session(r) for r in rows]

    async def choices(self, guild_id: int, typed: str) -> list[Session]:
        """Upcoming sessions whose group name or number matches what is typed, for suggestions."""
        text = one_line(typed).lstrip("#").casefold()
        rows = await self._db.fetchall(
            f"{_SESSION_SQL} WHERE s.guild_id = ? AND s.starts_at > ? AND s.cancelled_at IS NULL "
            "AND (g.name_key LIKE ? ESCAPE '\\' OR CAST(s.id AS TEXT) = ?) "
            "ORDER BY s.starts_at LIMIT ?",
            (guild_id, to_ts(self._clock.now()), contains_pattern(text), text, CHOICES),
        )
        return [_session(r) for r in rows]

    async def cancel(
        self, guild_id: int, session_id: int, rest: bool, reason: str | None
    ) -> Change:
        now = self._clock.now()
        why = clean_reason(reason)

        def cancel(tx: Tx) -> Change:
            sessions = _affected(tx, guild_id, session_id, rest, now)
            specs: list[OutboxSpec] = []
            for session in sessions:
                tx.execute(
                    "UPDATE group_sessions SET cancelled_at = ?, reason = ? WHERE id = ?",
                    (to_ts(now), why, session.id),
                )
                cancel_prefix_in(tx, REMINDER, f"session:{session.id}:")
                drop_slot_in(tx, session.id, session.slot_id)
                specs += notices(tx, session, "cancelled", session.starts_at, now)
            enqueue_in(tx, specs, now)
            return Change(sessions=_reload(tx, [s.id for s in sessions]), told=len(specs))

        return await self._db.write(cancel)

    async def move(
        self,
        guild_id: int,
        session_id: int,
        start: str,
        rest: bool,
        reason: str | None,
        zone: ZoneInfo,
        reminder_hours: list[int],
    ) -> Change:
        """Move a session (and with `rest` every later one of its series by the same number of
        days, to the new local time of day), keeping each one's length."""
        now = self._clock.now()
        day, at = parse_start(english_day(start), zone, now)
        why = clean_reason(reason)

        def move(tx: Tx) -> Change:
            sessions = _affected(tx, guild_id, session_id, rest, now)
            shift = day - sessions[0].starts_at.astimezone(zone).date()
            planned: list[tuple[Session, datetime, datetime]] = []
            for session in sessions:
                local_day = session.starts_at.astimezone(zone).date() + shift
                begin = weekly_starts(local_day, at, zone, 1)[0]
                planned.append((session, begin, begin + (session.ends_at - session.starts_at)))
            if any(begin <= now for _, begin, _ in planned):
                raise UserFacingError(N_("That time has already passed. Nothing was changed."))
            _check_free(
                tx,
                sessions[0].group_id,
                [(b, e) for _, b, e in planned],
                [s.id for s in sessions],
            )
            specs: list[OutboxSpec] = []
            timers: list[TimerSpec] = []
            for session, begin, end in planned:
                timers += move_slot_in(tx, session.id, session.slot_id, (begin, end),
                                       session.group_id, now)  # fmt: skip
                tx.execute(
                    "UPDATE group_sessions SET starts_at = ?, ends_at = ?, reason = ? WHERE id = ?",
                    (to_ts(begin), to_ts(end), why, session.id),
                )
                cancel_prefix_in(tx, REMINDER, f"session:{session.id}:")
                timers += reminder_timers(session.id, begin, reminder_hours, now)
                moved = session.model_copy(update={"starts_at": begin, "ends_at": end})
                specs += notices(tx, moved, "moved", session.starts_at, now)
            schedule_in(tx, guild_id, timers)
            enqueue_in(tx, specs, now)
            return Change(
                sessions=_reload(tx, [s.id for s in sessions]),
                told=len(specs),
                first_due=min((due for _, _, due, _ in timers), default=None),
            )

        return await self._db.write(move)

    async def answer(self, guild_id: int, session_id: int, user_id: int, going: bool) -> Answer:
        """A member's Going / Can't make it; the last place goes to exactly one of many."""
        now = self._clock.now()

        def answer(tx: Tx) -> Answer:
            session = _still_ahead(
                tx, guild_id, session_id, now,
                cancelled=N_("That session was cancelled, so it takes no answers."),
                started=N_("That session has already started; answers are closed."),
            )  # fmt: skip
            member = tx.fetchone(
                "SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?",
                (session.group_id, user_id),
            )
            if member is None:
                raise UserFacingError(
                    N_(
                        "Only members of **{group}** can answer for its sessions. "
                        "`/group join` signs you up."
                    ),
                    group=session.group_name,
                )
            params = {"session": session.id, "guild": guild_id, "user": user_id,
                      "going": int(going), "now": to_ts(now), "places": session.places}  # fmt: skip
            if tx.execute(_ANSWER, params) == 0:
                raise UserFacingError(
                    N_(
                        "Sorry — all {places} places for this session are taken. "
                        "Nothing was changed."
                    ),
                    places=session.places,
                )
            return Answer(session=_reload(tx, [session.id])[0], going=going)

        return await self._db.write(answer)

    async def withdraw(self, guild_id: int, session_id: int, user_id: int) -> None:
        """Take back a Going (Discord's Interested removed); a "can't make it" stays."""
        await self._db.execute(
            "DELETE FROM session_rsvps WHERE guild_id = ? AND session_id = ? AND user_id = ? "
            "AND going = 1",
            (guild_id, session_id, user_id),
        )

    async def answer_of(self, session_id: int, user_id: int) -> bool | None:
        value = await self._db.fetchval(
            "SELECT going FROM session_rsvps WHERE session_id = ? AND user_id = ?",
            (session_id, user_id),
        )
        return None if value is None else bool(value)

    async def answers_of(self, group_id: int, user_id: int) -> dict[int, bool]:
        """A member's own answers to a group's sessions, by session id."""
        rows = await self._db.fetchall(
            "SELECT r.session_id, r.going FROM session_rsvps r JOIN group_sessions s "
            "ON s.id = r.session_id WHERE s.group_id = ? AND r.user_id = ?",
            (group_id, user_id),
        )
        return {row[0]: bool(row[1]) for row in rows}

    async def going(self, session_id: int) -> list[int]:
        rows = await self._db.fetchall(GOING_USERS, (session_id,))
        return [row[0] for row in rows]

    async def cancel_if_unclaimed(self, session_id: int) -> Change | None:
        """At the start of a session that opens only with a facilitator: cancel it when nobody
        claimed its slot, telling everyone going (None when it opens as planned)."""
        now = self._clock.now()
        why = NO_FACILITATOR

        def cancel(tx: Tx) -> Change | None:
            found = _reload(tx, [session_id])
            if not found or found[0].cancelled or not unclaimed_in(tx, session_id):
                return None
            session = found[0]
            tx.execute(
                "UPDATE group_sessions SET cancelled_at = ?, reason = ? WHERE id = ?",
                (to_ts(now), why, session_id),
            )
            cancel_prefix_in(tx, REMINDER, f"session:{session_id}:")
            drop_slot_in(tx, session_id, session.slot_id)
            specs = notices(tx, session, "cancelled", session.starts_at, now)
            enqueue_in(tx, specs, now)
            return Change(sessions=_reload(tx, [session_id]), told=len(specs))

        return await self._db.write(cancel)

    async def facilitators(self, session_id: int) -> list[int]:
        return await self._db.read(lambda tx: facilitators_in(tx, session_id))
