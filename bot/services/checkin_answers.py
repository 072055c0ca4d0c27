"""Check-in answers: private to their author; coordinators only ever see counts.

A member answers an occurrence at most once (answering again updates it), so one row per
(occurrence, member). Summaries show the spread of moods only from `SUMMARY_THRESHOLD` answers:
with fewer, a distribution could reveal how a particular person is doing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from bot.db import Tx, from_ts, to_ts
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.base import Service
from bot.services.checkins import LOW_MOOD, MAX_NOTE, MOODS, SUMMARY_THRESHOLD, Occurrence
from bot.services.data import TableData
from bot.services.rows import model_of

MAX_HISTORY_DAYS = 365
MAX_SUMMARY_OCCURRENCES = 20


class AnswerResult(BaseModel):
    mood: int | None
    previous_mood: int | None
    updated: bool
    has_note: bool

    @property
    def low(self) -> bool:
        return self.mood == LOW_MOOD


class OccurrenceSummary(BaseModel):
    occurrence_id: int
    due_at: datetime
    is_test: bool
    answered: int
    # None when fewer than SUMMARY_THRESHOLD answered: too few to show without exposing anyone.
    distribution: dict[int, int] | None


class HistoryEntry(BaseModel):
    answered_at: datetime
    kind: str
    mood: int | None
    note: str | None


def _check_mood(mood: int) -> None:
    if mood not in MOODS:
        raise UserFacingError(N_("Moods go from 1 to 5."))


def _answerable(tx: Tx, occurrence_id: int, guild_id: int | None, user_id: int) -> Occurrence:
    """The occurrence this member may answer, or a kind refusal.

    Group prompts are answered from inside their server; a personal check-in only by the
    member it was sent to (its DM has no server, so the id is the proof).
    """
    row = tx.fetchone("SELECT * FROM checkin_occurrences WHERE id = ?", (occurrence_id,))
    if row is None:
        raise UserFacingError(
            N_(
                "This check-in has ended and its answers were cleared, so I can't record that. "
                "Thank you for wanting to answer."
            )
        )
    occurrence = model_of(Occurrence, row)
    if occurrence.kind == "personal" and occurrence.user_id != user_id:
        raise UserFacingError(N_("This check-in belongs to someone else."))
    if occurrence.kind == "group" and occurrence.guild_id != guild_id:
        raise UserFacingError(N_("This check-in belongs to a different server."))
    return occurrence


def _upsert(
    tx: Tx, occurrence: Occurrence, user_id: int, now: datetime, *,
    mood: int | None = None, note: str | None = None,
) -> AnswerResult:  # fmt: skip
    """Record a mood or a note (or both), keeping whichever part is not given."""
    stamp = to_ts(now)
    before = tx.fetchone(
        "SELECT mood, note FROM checkin_answers WHERE occurrence_id = ? AND user_id = ?",
        (occurrence.id, user_id),
    )
    after = tx.fetchall(
        "INSERT INTO checkin_answers (occurrence_id, user_id, guild_id, mood, note, "
        "answered_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (occurrence_id, user_id) DO UPDATE SET "
        "mood = COALESCE(excluded.mood, checkin_answers.mood), "
        "note = COALESCE(excluded.note, checkin_answers.note), "
        "updated_at = excluded.updated_at RETURNING mood, note",
        (occurrence.id, user_id, occurrence.guild_id, mood, note, stamp, stamp),
    )[0]  # read RETURNING to the end before COMMIT
    return AnswerResult(
        mood=after["mood"],
        previous_mood=None if before is None else before["mood"],
        updated=before is not None
        and (
            (mood is not None and before["mood"] is not None)
            or (note is not None and before["note"] is not None)
        ),
        has_note=after["note"] is not None,
    )


class CheckinAnswers(Service):
    async def occurrence_for(
        self, occurrence_id: int, guild_id: int | None, user_id: int
    ) -> Occurrence:
        """The occurrence this member may answer, or a kind refusal."""
        return await self._db.read(lambda tx: _answerable(tx, occurrence_id, guild_id, user_id))

    async def answer_mood(
        self, occurrence_id: int, guild_id: int | None, user_id: int, mood: int
    ) -> tuple[Occurrence, AnswerResult]:
        """Check the member may answer, and record their mood, in one trip to the database: a
        mood button is the most pressed button Hearth has, often by many people at once."""
        _check_mood(mood)
        now = self._clock.now()

        def answer(tx: Tx) -> tuple[Occurrence, AnswerResult]:
            occurrence = _answerable(tx, occurrence_id, guild_id, user_id)
            return occurrence, _upsert(tx, occurrence, user_id, now, mood=mood)

        return await self._db.write(answer)

    async def record_note(self, occurrence: Occurrence, user_id: int, note: str) -> AnswerResult:
        text = note.strip()
        if not text:
            raise UserFacingError(N_("The note was empty, so I didn't save anything."))
        if len(text) > MAX_NOTE:
            raise UserFacingError(N_("Please keep the note to {limit} characters."), limit=MAX_NOTE)
        now = self._clock.now()
        return await self._db.write(lambda tx: _upsert(tx, occurrence, user_id, now, note=text))

    async def note_of(self, occurrence_id: int, user_id: int) -> str | None:
        note: str | None = await self._db.fetchval(
            "SELECT note FROM checkin_answers WHERE occurrence_id = ? AND user_id = ?",
            (occurrence_id, user_id),
        )
        return note

    # --- what coordinators may see: counts only ------------------------------------------------
    async def summary(
        self, guild_id: int, schedule_id: int, occurrences: int
    ) -> list[OccurrenceSummary]:
        count = max(1, min(occurrences, MAX_SUMMARY_OCCURRENCES))
        rows = await self._db.fetchall(
            "SELECT o.id, o.due_at, o.is_test, a.mood, COUNT(a.user_id) AS n "
            "FROM (SELECT id, due_at, is_test FROM checkin_occurrences "
            "      WHERE schedule_id = ? AND guild_id = ? AND kind = 'group' "
            "      ORDER BY due_at DESC, id DESC LIMIT ?) AS o "
            "LEFT JOIN checkin_answers AS a ON a.occurrence_id = o.id AND a.mood IS NOT NULL "
            "GROUP BY o.id, o.due_at, o.is_test, a.mood ORDER BY o.due_at DESC, o.id DESC",
            (schedule_id, guild_id, count),
        )
        found: dict[int, OccurrenceSummary] = {}
        moods: dict[int, dict[int, int]] = {}
        for row in rows:
            entry = found.setdefault(
                row["id"],
                OccurrenceSummary(
                    occurrence_id=row["id"],
                    due_at=from_ts(row["due_at"]),
                    is_test=bool(row["is_test"]),
                    answered=0,
                    distribution=None,
                ),
            )
            if row["mood"] is not None:
                entry.answered += row["n"]
                moods.setdefault(row["id"], {})[row["mood"]] = row["n"]
        for occurrence_id, entry in found.items():
            if entry.answered >= SUMMARY_THRESHOLD:
                spread = moods.get(occurrence_id, {})
                entry.distribution = {mood: spread.get(mood, 0) for mood in MOODS}
        return list(found.values())

    # --- a member's own data -------------------------------------------------------------------
    async def history(self, guild_id: int, user_id: int, days: int) -> list[HistoryEntry]:
        if not 1 <= days <= MAX_HISTORY_DAYS:
            raise UserFacingError(N_("History covers 1 to {limit} days."), limit=MAX_HISTORY_DAYS)
        since = to_ts(self._clock.now() - timedelta(days=days))
        rows = await self._db.fetchall(
            "SELECT a.answered_at, a.mood, a.note, o.kind FROM checkin_answers AS a "
            "JOIN checkin_occurrences AS o ON o.id = a.occurrence_id "
            "WHERE a.guild_id = ? AND a.user_id = ? AND a.answered_at >= ? "
            "ORDER BY a.answered_at, a.occurrence_id",
            (guild_id, user_id, since),
        )
        return [
            HistoryEntry(
                answered_at=from_ts(row["answered_at"]),
                kind=row["kind"],
                mood=row["mood"],
                note=row["note"],
            )
            for row in rows
        ]

    async def count_for(self, guild_id: int, user_id: int) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM checkin_answers WHERE guild_id = ? AND user_id = ?",
                (guild_id, user_id),
            )
        )

    async def delete_all(self, guild_id: int, user_id: int) -> int:
        return await self._db.execute(
            "DELETE FROM checkin_answers WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
        )

    # --- retention -----------------------------------------------------------------------------
    async def guilds_with_data(self) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT DISTINCT guild_id FROM checkin_occurrences "
            "UNION SELECT DISTINCT guild_id FROM checkin_answers"
        )
        return [row[0] for row in rows]

    async def purge_older_than(self, guild_id: int, cutoff: datetime) -> int:
        """Delete answers (and the occurrences they hung off) older than the server keeps them."""
        cutoff_ts = to_ts(cutoff)

        def purge(tx: Tx) -> int:
            answers = tx.execute(
                "DELETE FROM checkin_answers WHERE guild_id = ? AND answered_at < ?",
                (guild_id, cutoff_ts),
            )
            tx.execute(
                "DELETE FROM checkin_occurrences WHERE guild_id = ? AND due_at < ?",
                (guild_id, cutoff_ts),
            )
            return answers

        return await self._db.write(purge)


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData.members_own(
        "checkin_answers",
        N_("check-in answers and notes"),
        why="members' private answers and notes",
    ),
)
