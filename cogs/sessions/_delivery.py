"""What sessions send on their own, rendered from the session as it is at send time."""

from __future__ import annotations

from datetime import datetime

from discord.utils import format_dt

from bot.delivery import Outgoing
from bot.outbox_kinds import AlertPost, DirectMessage
from bot.services.outbox import OutboxItem
from bot.services.sessions import SessionService


class SessionReminder(DirectMessage):
    async def render(self, item: OutboxItem) -> Outgoing | None:
        sessions = self.bot.service(SessionService)
        session = await sessions.find(int(item.payload["session_id"]))
        if session is None or session.cancelled or item.user_id is None:
            return None
        if not await sessions.answer_of(session.id, item.user_id):
            return None  # they changed their answer since
        return Outgoing(
            user_id=item.user_id,
            content=f"⏰ Reminder: **{session.group_name}** meets "
            f"{format_dt(session.starts_at, 'F')} "
            f"({format_dt(session.starts_at, 'R')}). If you can't make it after all, press "
            "**Can't make it** in `/group sessions list` so the group knows. "
            "(`/group sessions reminders` turns these off.)",
        )


class SessionNotice(DirectMessage):
    async def render(self, item: OutboxItem) -> Outgoing | None:
        session = await self.bot.service(SessionService).find(int(item.payload["session_id"]))
        if session is None or item.user_id is None:
            return None
        old = datetime.fromtimestamp(
            int(item.payload["old_starts_at"]), tz=session.starts_at.tzinfo
        )
        why = f" Reason: {session.reason}" if session.reason else ""
        if item.payload["what"] == "cancelled":
            text = (
                f"The **{session.group_name}** session on {format_dt(old, 'F')} is cancelled.{why} "
                "I'm sorry for the change. If you'd like someone to talk to meanwhile, "
                "`/support` reaches a supporter privately, and `/crisis` lists helplines."
            )
        else:
            text = (
                f"The **{session.group_name}** session on {format_dt(old, 'F')} has moved to "
                f"{format_dt(session.starts_at, 'F')} "
                f"({format_dt(session.starts_at, 'R')}).{why} Your answer "
                "still stands; change it in `/group sessions list` if the new time doesn't suit."
            )
        return Outgoing(user_id=item.user_id, content=text)


class FacilitatorAlert(AlertPost):
    async def text(self, item: OutboxItem) -> str | None:
        session = await self.bot.service(SessionService).find(int(item.payload["session_id"]))
        if session is None or session.cancelled or session.slot_id is None:
            return None
        if await self.bot.service(SessionService).facilitators(session.id):
            return None  # claimed since
        return (
            f"🔔 The **{session.group_name}** session {format_dt(session.starts_at, 'F')} "
            f"({format_dt(session.starts_at, 'R')}) has no facilitator yet ({session.going} "
            f"going). Supporters can claim slot #{session.slot_id} with `/rota claim`."
        )
