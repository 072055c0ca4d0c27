"""What sessions send on their own, rendered from the session as it is at send time, in the
reader's language: a member's DM in theirs, the coordinators' alert in the server's."""

from __future__ import annotations

from datetime import datetime

from discord.utils import format_dt

from bot.delivery import Outgoing
from bot.i18n import Texts
from bot.i18n_discord import texts_for_guild, texts_for_member
from bot.outbox_kinds import AlertPost, DirectMessage
from bot.services.outbox import OutboxItem
from bot.services.sessions import NO_FACILITATOR, Session, SessionService


def reason_text(session: Session, tr: Texts) -> str | None:
    """The reason a session was cancelled or moved: as the coordinator wrote it, or Hearth's own
    (a session nobody facilitated) in the reader's language."""
    if session.reason == NO_FACILITATOR:
        return tr.gettext(NO_FACILITATOR)
    return session.reason


class SessionReminder(DirectMessage):
    async def render(self, item: OutboxItem) -> Outgoing | None:
        sessions = self.bot.service(SessionService)
        session = await sessions.find(int(item.payload["session_id"]))
        if session is None or session.cancelled or item.user_id is None:
            return None
        if not await sessions.answer_of(session.id, item.user_id):
            return None  # they changed their answer since
        tr = await texts_for_member(self.bot, item.guild_id, item.user_id)
        return Outgoing(
            user_id=item.user_id,
            content=tr.gettext(
                "⏰ Reminder: **{group}** meets {starts} ({relative}). If you can't make it "
                "after all, press **Can't make it** in `/group sessions list` so the group "
                "knows. (`/group sessions reminders` turns these off.)"
            ).format(
                group=session.group_name,
                starts=format_dt(session.starts_at, "F"),
                relative=format_dt(session.starts_at, "R"),
            ),
        )


class SessionNotice(DirectMessage):
    async def render(self, item: OutboxItem) -> Outgoing | None:
        session = await self.bot.service(SessionService).find(int(item.payload["session_id"]))
        if session is None or item.user_id is None:
            return None
        old = datetime.fromtimestamp(
            int(item.payload["old_starts_at"]), tz=session.starts_at.tzinfo
        )
        tr = await texts_for_member(self.bot, item.guild_id, item.user_id)
        reason = reason_text(session, tr)
        why = " " + tr.gettext("Reason: {reason}").format(reason=reason) if reason else ""
        if item.payload["what"] == "cancelled":
            text = tr.gettext(
                "The **{group}** session on {when} is cancelled.{why} I'm sorry for the change. "
                "If you'd like someone to talk to meanwhile, `/support` reaches a supporter "
                "privately, and `/crisis` lists helplines."
            ).format(group=session.group_name, when=format_dt(old, "F"), why=why)
        else:
            text = tr.gettext(
                "The **{group}** session on {when} has moved to {starts} ({relative}).{why} Your "
                "answer still stands; change it in `/group sessions list` if the new time doesn't "
                "suit."
            ).format(
                group=session.group_name,
                when=format_dt(old, "F"),
                starts=format_dt(session.starts_at, "F"),
                relative=format_dt(session.starts_at, "R"),
                why=why,
            )
        return Outgoing(user_id=item.user_id, content=text)


class FacilitatorAlert(AlertPost):
    async def text(self, item: OutboxItem) -> str | None:
        session = await self.bot.service(SessionService).find(int(item.payload["session_id"]))
        if session is None or session.cancelled or session.slot_id is None:
            return None
        if await self.bot.service(SessionService).facilitators(session.id):
            return None  # claimed since
        tr = await texts_for_guild(self.bot, item.guild_id)
        return tr.gettext(
            "🔔 The **{group}** session {starts} ({relative}) has no facilitator yet ({going} "
            "going). Supporters can claim slot #{slot} with `/rota claim`."
        ).format(
            group=session.group_name,
            starts=format_dt(session.starts_at, "F"),
            relative=format_dt(session.starts_at, "R"),
            going=session.going,
            slot=session.slot_id,
        )
