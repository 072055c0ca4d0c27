"""The session list members answer on: Going / Can't make it, persistent and paged."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import discord
from discord.utils import format_dt

from bot.i18n import N_, Texts
from bot.i18n_discord import texts
from bot.services.groups import GroupService
from bot.services.sessions import Session, SessionService
from bot.tree import NO_MENTIONS
from cogs._pages import Page, line_page, pager
from cogs._routes import RecordButton
from cogs._ui import guild_of, hearth
from cogs.sessions._delivery import reason_text

SESSIONS_PER_PAGE = 10  # two buttons each: the page's four rows of its own items


GOING = N_("Going")
CANT = N_("Can't make it")


def short_time(moment: datetime, zone: ZoneInfo, tr: Texts) -> str:
    """A session's start where `<t:…>` markup can't go (button labels, suggestions): "Tue 03 Mar
    19:00" in English, the day and month in the reader's language."""
    return tr.format_day(moment.astimezone(zone), "EEE dd MMM HH:mm")


def _count(session: Session, tr: Texts) -> str:
    if session.places is not None:
        return tr.gettext("{going} going of {places} places").format(
            going=session.going, places=session.places
        )
    return tr.gettext("{going} going").format(going=session.going)


def _line(session: Session, mine: bool | None, tr: Texts) -> str:
    starts = format_dt(session.starts_at, "F")
    if session.cancelled:
        reason = reason_text(session, tr)
        if reason:
            return tr.gettext("• ~~#{id} {starts}~~ — cancelled: {reason}").format(
                id=session.id, starts=starts, reason=reason
            )
        return tr.gettext("• ~~#{id} {starts}~~ — cancelled").format(id=session.id, starts=starts)
    line = {
        True: tr.gettext("• **#{id}** {starts} until {until} — {count} · you're going"),
        False: tr.gettext("• **#{id}** {starts} until {until} — {count} · you can't make it"),
        None: tr.gettext("• **#{id}** {starts} until {until} — {count}"),
    }[mine]
    return line.format(
        id=session.id,
        starts=starts,
        until=format_dt(session.ends_at, "t"),
        count=_count(session, tr),
    )


def _label(session: Session, zone: ZoneInfo, what: str, tr: Texts) -> str:
    return tr.gettext("{answer} · #{id} {starts}").format(
        answer=tr.gettext(what), id=session.id, starts=short_time(session.starts_at, zone, tr)
    )


def _service(interaction: discord.Interaction) -> SessionService:
    bot = hearth(interaction)
    return bot.service(SessionService)


async def _answer(interaction: discord.Interaction, session_id: int, going: bool) -> None:
    guild = guild_of(interaction)
    answer = await _service(interaction).answer(guild.id, session_id, interaction.user.id, going)
    session = answer.session
    tr = await texts(interaction)
    text = (
        tr.gettext(
            "You're **going** to **{group}** {starts} — {count}. You can change your answer any "
            "time before it starts."
        )
        if answer.going
        else tr.gettext(
            "You've said you **can't make it** to **{group}** {starts} — {count}. You can change "
            "your answer any time before it starts."
        )
    )
    await interaction.response.send_message(
        text.format(
            group=session.group_name,
            starts=format_dt(session.starts_at, "F"),
            count=_count(session, tr),
        ),
        ephemeral=True,
        allowed_mentions=NO_MENTIONS,
    )


class GoingButton(RecordButton, route="hearth:session:going:{id}"):
    default_label = GOING
    button_style = discord.ButtonStyle.success

    async def callback(self, interaction: discord.Interaction) -> None:
        await _answer(interaction, self.record_id, True)


class CantButton(RecordButton, route="hearth:session:cant:{id}"):
    default_label = CANT

    async def callback(self, interaction: discord.Interaction) -> None:
        await _answer(interaction, self.record_id, False)


@pager("sessions")
async def _sessions_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    bot = hearth(interaction)
    guild_id = guild_of(interaction).id
    group = await bot.service(GroupService).get(guild_id, int(arg))
    sessions = await bot.service(SessionService).upcoming(guild_id, group.id)
    tr = await texts(interaction)
    if not sessions:
        return Page(
            content=tr.gettext(
                "**{group}** has no sessions coming up. Coordinators can add one with "
                "`/group sessions add`."
            ).format(group=group.name)
        )
    zone = ZoneInfo((await bot.settings.get(guild_id)).timezone)
    mine = await bot.service(SessionService).answers_of(group.id, interaction.user.id)
    shown, indexes = line_page(
        tr.gettext("**{group}** — upcoming sessions").format(group=group.name),
        [_line(s, mine.get(s.id), tr) for s in sessions],
        page,
        footer="\n"
        + tr.gettext(
            "Members: answer with the buttons. `/group sessions reminders` turns your "
            "reminders on or off."
        ),
        max_lines=SESSIONS_PER_PAGE,
        tr=tr,
    )
    for index in indexes:
        session = sessions[index]
        if not session.cancelled:
            shown.items.append(GoingButton(session.id, _label(session, zone, GOING, tr)))
            shown.items.append(CantButton(session.id, _label(session, zone, CANT, tr)))
    return shown
