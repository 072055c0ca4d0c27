"""Which Discord Scheduled Event stands for which group session, and Discord's "Interested".

An event is a mirror: the session in Hearth is the record. An event deleted by hand is simply
forgotten (the session stays); "Interested" on an event counts as Going, under the same rules
as the button (members only, places guarded), and taking it back withdraws the answer.
"""

from __future__ import annotations

from bot.db import Database
from bot.errors import UserFacingError
from bot.services.sessions import _SESSION_SQL, Session, SessionService, _session


async def set_event(db: Database, session_id: int, event_id: int | None) -> None:
    await db.execute("UPDATE group_sessions SET event_id = ? WHERE id = ?", (event_id, session_id))


async def by_event(db: Database, guild_id: int, event_id: int) -> Session | None:
    row = await db.fetchone(
        f"{_SESSION_SQL} WHERE s.event_id = ? AND s.guild_id = ?", (event_id, guild_id)
    )
    return None if row is None else _session(row)


async def forget_event(db: Database, guild_id: int, event_id: int) -> int:
    """Someone deleted the event in Discord: remember that (0), so it is not recreated."""
    return await db.execute(
        "UPDATE group_sessions SET event_id = 0 WHERE event_id = ? AND guild_id = ?",
        (event_id, guild_id),
    )


async def interested(
    service: SessionService, session: Session, user_id: int, on: bool
) -> str | None:
    """Apply Discord's Interested to the member's answer; why it did not count, if it didn't."""
    if not on:
        await service.withdraw(session.guild_id, session.id, user_id)
        return None
    try:
        await service.answer(session.guild_id, session.id, user_id, True)
    except UserFacingError as refusal:
        return str(refusal)
    return None
