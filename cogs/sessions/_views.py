"""The session list members answer on: Going / Can't make it, persistent and paged."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import discord
from discord.utils import format_dt

from bot.services.groups import GroupService
from bot.services.sessions import Session, SessionService
from bot.tree import NO_MENTIONS
from cogs._pages import Page, line_page, pager
from cogs._routes import RecordButton
from cogs._ui import guild_of, hearth

SESSIONS_PER_PAGE = 10  # two buttons each: the page's four rows of its own items


def _count(session: Session) -> str:
    places = f" of {session.places} places" if session.places is not None else ""
    return f"{session.going} going{places}"


def _line(session: Session, mine: bool | None) -> str:
    if session.cancelled:
        why = f": {session.reason}" if session.reason else ""
        return f"• ~~#{session.id} {format_dt(session.starts_at, 'F')}~~ — cancelled{why}"
    until = format_dt(session.ends_at, "t")
    yours = {True: " · you're going", False: " · you can't make it", None: ""}[mine]
    starts = format_dt(session.starts_at, "F")
    return f"• **#{session.id}** {starts} until {until} — {_count(session)}{yours}"


def _label(session: Session, zone: ZoneInfo, what: str) -> str:
    return f"{what} · #{session.id} {session.starts_at.astimezone(zone):%a %d %b %H:%M}"


def _service(interaction: discord.Interaction) -> SessionService:
    bot = hearth(interaction)
    return bot.service(SessionService)


async def _answer(interaction: discord.Interaction, session_id: int, going: bool) -> None:
    guild = guild_of(interaction)
    answer = await _service(interaction).answer(guild.id, session_id, interaction.user.id, going)
    session = answer.session
    mine = "You're **going**" if answer.going else "You've said you **can't make it**"
    await interaction.response.send_message(
        f"{mine} to **{session.group_name}** {format_dt(session.starts_at, 'F')} — "
        f"{_count(session)}. "
        "You can change your answer any time before it starts.",
        ephemeral=True,
        allowed_mentions=NO_MENTIONS,
    )


class GoingButton(RecordButton, route="hearth:session:going:{id}"):
    default_label = "Going"
    button_style = discord.ButtonStyle.success

    async def callback(self, interaction: discord.Interaction) -> None:
        await _answer(interaction, self.record_id, True)


class CantButton(RecordButton, route="hearth:session:cant:{id}"):
    default_label = "Can't make it"

    async def callback(self, interaction: discord.Interaction) -> None:
        await _answer(interaction, self.record_id, False)


@pager("sessions")
async def _sessions_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    bot = hearth(interaction)
    guild_id = guild_of(interaction).id
    group = await bot.service(GroupService).get(guild_id, int(arg))
    sessions = await bot.service(SessionService).upcoming(guild_id, group.id)
    if not sessions:
        return Page(
            content=f"**{group.name}** has no sessions coming up. Coordinators can add one with "
            "`/group sessions add`."
        )
    zone = ZoneInfo((await bot.settings.get(guild_id)).timezone)
    mine = await bot.service(SessionService).answers_of(group.id, interaction.user.id)
    shown, indexes = line_page(
        f"**{group.name}** — upcoming sessions",
        [_line(s, mine.get(s.id)) for s in sessions],
        page,
        footer="\nMembers: answer with the buttons. `/group sessions reminders` turns your "
        "reminders on or off.",
        max_lines=SESSIONS_PER_PAGE,
    )
    for index in indexes:
        session = sessions[index]
        if not session.cancelled:
            shown.items.append(GoingButton(session.id, _label(session, zone, "Going")))
            shown.items.append(CantButton(session.id, _label(session, zone, "Can't make it")))
    return shown
