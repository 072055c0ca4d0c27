"""What members do with their own check-ins: switch on by DM, off, pause, and see history.

Switching on sends a welcome DM first and only stores the schedule if it arrived: a check-in that
would silently never reach the member is worse than a clear "your DMs are closed".
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord
from babel import Locale, UnknownLocaleError
from babel.numbers import format_decimal
from discord.utils import format_dt

from bot.errors import UserFacingError
from bot.i18n import N_, Texts
from bot.i18n_discord import texts
from bot.services.charts import mood_chart
from bot.services.checkins import describe_when
from bot.tree import NO_MENTIONS, send_ephemeral
from cogs._pages import Page, line_page, pager, send_paged
from cogs._ui import guild_of
from cogs.checkins._views import checkins

if TYPE_CHECKING:
    from cogs.checkins import Checkins

CANNOT_DM = 50007


async def switch_on(
    cog: Checkins, interaction: discord.Interaction, days: str, at: str, zone: str | None
) -> None:
    guild = guild_of(interaction)
    mask, local, zone_name = await cog.schedules.validate_personal(guild.id, days, at, zone)
    await interaction.response.defer(ephemeral=True, thinking=True)
    tr = await texts(interaction)  # the member's own language, for the reply and the DM
    when = describe_when(mask, local, zone_name, tr)
    try:
        await interaction.user.send(
            tr.gettext(
                "Hi! You switched on personal check-ins from **{server}**: {when}, I'll ask "
                "how you are. Your answers are private to you. `/checkin me pause` takes a break, "
                "`/checkin me off` stops them."
            ).format(server=guild.name, when=when),
            allowed_mentions=NO_MENTIONS,
        )
    except discord.Forbidden as exc:
        if exc.code == CANNOT_DM:
            raise UserFacingError(
                N_(
                    "I couldn't send you a DM — your direct messages are closed. Personal "
                    "check-ins are **not** switched on. Allow direct messages from this server "
                    "(server name → Privacy Settings → Direct Messages), then run `/checkin me "
                    "on` again."
                )
            ) from None
        raise UserFacingError(
            N_(
                "I couldn't send you a DM — Discord didn't let me message you. Personal "
                "check-ins are **not** switched on. Allow direct messages from this server "
                "(server name → Privacy Settings → Direct Messages), then run `/checkin me "
                "on` again."
            )
        ) from None
    schedule = await cog.schedules.personal_on(
        guild.id, interaction.user.id, mask, local, zone_name
    )
    cog.bot.dispatcher.poke(schedule.next_due_at)
    first = schedule.next_due_at
    await send_ephemeral(
        interaction,
        tr.gettext(
            "Personal check-ins are on: {when}. I've sent you a welcome DM; the first check-in "
            "comes {first} ({relative}). Only you will see your answers."
        ).format(when=when, first=format_dt(first, "F"), relative=format_dt(first, "R")),
    )


async def switch_off(cog: Checkins, interaction: discord.Interaction) -> None:
    guild = guild_of(interaction)
    tr = await texts(interaction)
    if not await cog.schedules.personal_off(guild.id, interaction.user.id):
        await send_ephemeral(
            interaction, tr.gettext("Your personal check-ins weren't on, so nothing changed.")
        )
        return
    await send_ephemeral(
        interaction,
        tr.gettext(
            "Personal check-ins are off; I won't DM you any more. Your past answers stay private "
            "to you — `/checkin history` shows them and `/checkin delete` removes them."
        ),
    )


async def snooze(cog: Checkins, interaction: discord.Interaction, days: int) -> None:
    guild = guild_of(interaction)
    schedule = await cog.schedules.personal_snooze(guild.id, interaction.user.id, days)
    cog.bot.dispatcher.poke(schedule.next_due_at)
    assert schedule.snoozed_until is not None
    until = format_dt(schedule.snoozed_until, "F")
    upcoming = format_dt(schedule.next_due_at, "F")
    await send_ephemeral(
        interaction,
        (await texts(interaction))
        .gettext(
            "Taking a break: no check-ins until {until}. "
            "They restart by themselves; the next one is {upcoming}."
        )
        .format(until=until, upcoming=upcoming),
    )


async def history(cog: Checkins, interaction: discord.Interaction, days: int) -> None:
    guild = guild_of(interaction)
    await interaction.response.defer(ephemeral=True, thinking=True)
    entries = await cog.answers.history(guild.id, interaction.user.id, days)
    if not entries:
        tr = await texts(interaction)
        await send_ephemeral(interaction, _none_text(tr, days))
        return
    zone = ZoneInfo((await cog.bot.settings.get(guild.id)).timezone)
    today = cog.bot.clock.now().astimezone(zone).date()
    per_day: dict[date, list[int]] = defaultdict(list)
    for entry in entries:
        if entry.mood is not None:
            per_day[entry.answered_at.astimezone(zone).date()].append(entry.mood)
    span = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    chart = mood_chart(
        [(day, sum(per_day[day]) / len(per_day[day]) if per_day[day] else None) for day in span]
    )
    await send_paged(
        interaction,
        "checkin_history",
        str(days),
        file=discord.File(io.BytesIO(chart), filename="checkins.png"),
    )


def _one_decimal(value: float, tr: Texts) -> str:
    """An average like 3.5, written as the reader's language writes decimals (3,5)."""
    try:
        locale = Locale.parse(tr.language)
    except (ValueError, UnknownLocaleError):
        locale = Locale.parse("en")
    return format_decimal(round(value, 1), "0.0", locale=locale)


def _none_text(tr: Texts, days: int) -> str:
    return tr.ngettext(
        "You have no check-in answers from the last {n} days.",
        "You have no check-in answers from the last {n} days.",
        days,
    ).format(n=days)


@pager("checkin_history")
async def _history_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    """Every answer in the period, newest first; notes are excerpted (`/mydata export` has
    them in full)."""
    cog = checkins(interaction)
    days = int(arg)
    guild = guild_of(interaction)
    entries = await cog.answers.history(guild.id, interaction.user.id, days)
    tr = await texts(interaction)
    if not entries:
        return Page(content=_none_text(tr, days))
    moods = [entry.mood for entry in entries if entry.mood is not None]
    lines = []
    no_mood, personal, group = tr.gettext("no mood"), tr.gettext("personal"), tr.gettext("group")
    for entry in reversed(entries):
        mood = f"**{entry.mood}**/5" if entry.mood is not None else no_mood
        where = personal if entry.kind == "personal" else group
        note = ""
        if entry.note:
            short = " ".join(entry.note.split())
            note = f" — “{short[:120]}{'…' if len(short) > 120 else ''}”"
        lines.append(f"{format_dt(entry.answered_at, 'd')} {mood} ({where}){note}")
    if moods:
        header = tr.ngettext(
            "**Your check-ins, last {days} days** — {n} answer; average mood {average}. "
            "Only you can see this.",
            "**Your check-ins, last {days} days** — {n} answers; average mood {average}. "
            "Only you can see this.",
            len(entries),
        ).format(days=days, n=len(entries), average=_one_decimal(sum(moods) / len(moods), tr))
    else:
        header = tr.ngettext(
            "**Your check-ins, last {days} days** — {n} answer. Only you can see this.",
            "**Your check-ins, last {days} days** — {n} answers. Only you can see this.",
            len(entries),
        ).format(days=days, n=len(entries))
    shown, _ = line_page(header, lines, page, tr=tr)
    return shown
