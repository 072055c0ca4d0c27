"""Sending check-ins: group prompts to channels, personal check-ins by DM, and retention.

Claimed occurrences reach Discord through the outbox (kinds `checkin.group`, `checkin.personal`),
rendered here at send time. A target that is gone (deleted channel, lost permission, closed DMs,
member left) pauses only its own schedule and tells the right people — coordinators for channels,
the member for their DMs — while the rest of the fan-out carries on. One that comes due after its
grace window (the bot was down) is skipped and logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord

from bot.delivery import OutboxKind, Outgoing
from bot.i18n import ENGLISH, N_, Texts
from bot.i18n_discord import texts_for_guild, texts_for_member
from bot.services.checkin_due import GROUP_KIND, PERSONAL_KIND
from bot.services.checkin_schedules import CheckinSchedules
from bot.services.checkins import Occurrence
from bot.services.outbox import OutboxItem
from bot.tree import NO_MENTIONS
from cogs.checkins._views import MOOD_SCALE, prompt_view

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

RETENTION_KIND = "checkin_retention"
CANNOT_DM = 50007
DM_CLOSED_NOTICE = N_(
    "I couldn't send your personal check-in because your direct messages are closed, so I've "
    "paused your check-ins. To restart them, allow DMs from this server (server name → Privacy "
    "Settings) and run `/checkin me on` again."
)


@dataclass(frozen=True)
class Problem:
    """Why a group prompt couldn't be posted: an English source (marked N_) and its values,
    shown in each reader's language and stored in English as the schedule's pause reason."""

    template: str
    params: dict[str, object] = field(default_factory=dict)

    def text(self, tr: Texts = ENGLISH) -> str:
        return tr.gettext(self.template).format(**self.params)


def _gone(channel_id: int | None) -> Problem:
    return Problem(N_("the channel {channel} no longer exists"), {"channel": f"<#{channel_id}>"})


def _forbidden(channel_id: int | None) -> Problem:
    return Problem(
        N_("I don't have permission to post in {channel}"), {"channel": f"<#{channel_id}>"}
    )


NOT_IN_SERVER = Problem(N_("Hearth is no longer in that server"))


def group_text(occurrence: Occurrence, tr: Texts = ENGLISH) -> str:
    label = tr.gettext("Check-in (test)") if occurrence.is_test else tr.gettext("Check-in")
    return f"**{label}** — {occurrence.prompt}\n\n" + tr.gettext(
        "How are you doing? Tap a number ({scale}). Your answer is private: coordinators "
        "only see how many answered, never who. You can also add a private note."
    ).format(scale=tr.gettext(MOOD_SCALE))


def personal_text(guild_name: str, tr: Texts = ENGLISH) -> str:
    return (
        tr.gettext("**How are you today?** (your check-in from {server})").format(server=guild_name)
        + "\n"
        + tr.gettext("Tap a number ({scale}), or skip. Only you can see your answers.").format(
            scale=tr.gettext(MOOD_SCALE)
        )
    )


def occurrence_of(item: OutboxItem) -> Occurrence:
    payload = item.payload
    return Occurrence(
        id=payload["occurrence_id"],
        guild_id=item.guild_id,
        schedule_id=payload["schedule_id"],
        kind="group" if item.kind == GROUP_KIND else "personal",
        user_id=item.user_id,
        channel_id=item.channel_id,
        prompt=payload.get("prompt", ""),
        open_thread=bool(payload.get("open_thread")),
        due_at=item.due_at,
    )


class Delivery:
    def __init__(self, bot: HearthBot, schedules: CheckinSchedules) -> None:
        self.bot = bot
        self.schedules = schedules

    def register(self) -> None:
        self.bot.outbox.register(GROUP_KIND, GroupPrompt(self))
        self.bot.outbox.register(PERSONAL_KIND, PersonalCheckin(self))

    def unregister(self) -> None:
        self.bot.outbox.unregister(GROUP_KIND)
        self.bot.outbox.unregister(PERSONAL_KIND)

    # --- group prompts -------------------------------------------------------------------------
    async def post_group(self, occurrence: Occurrence) -> Problem | None:
        """Post the prompt (and its thread); returns what went wrong for coordinators, or None."""
        guild = self.bot.get_guild(occurrence.guild_id)
        if guild is None:
            return NOT_IN_SERVER
        channel = guild.get_channel_or_thread(occurrence.channel_id or 0)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return _gone(occurrence.channel_id)
        tr = await texts_for_guild(self.bot, guild.id)  # a post in the server: its language
        try:
            message = await channel.send(
                group_text(occurrence, tr),
                view=prompt_view(occurrence, tr),
                allowed_mentions=NO_MENTIONS,
            )
        except discord.NotFound:
            return _gone(occurrence.channel_id)
        except discord.Forbidden:
            return _forbidden(occurrence.channel_id)
        if occurrence.open_thread and isinstance(channel, discord.TextChannel):
            await self.open_thread(guild, message, occurrence)
        return None

    async def open_thread(
        self, guild: discord.Guild, message: discord.PartialMessage, occurrence: Occurrence
    ) -> None:
        zone = (await self.bot.settings.get(guild.id)).timezone
        local = occurrence.due_at.astimezone(ZoneInfo(zone))
        tr = await texts_for_guild(self.bot, guild.id)
        day = tr.format_day(local.date(), "EEE dd MMM")
        try:
            await message.create_thread(
                name=tr.gettext("Check-in replies — {day}").format(day=day),
                auto_archive_duration=1440,
            )
        except discord.HTTPException as exc:
            log.warning("could not open a check-in thread in guild %s (%s)", guild.id, exc.code)
            await self.bot.alert(
                guild,
                tr.gettext(
                    "Check-in #{id} was posted in {channel}, but I couldn't open a thread for "
                    "replies (I need Create Public Threads there)."
                ).format(id=occurrence.schedule_id, channel=f"<#{occurrence.channel_id}>"),
            )

    async def pause_group(self, occurrence: Occurrence, problem: Problem) -> None:
        assert occurrence.schedule_id is not None
        paused = await self.schedules.pause_for_failure(occurrence.schedule_id, problem.text())
        log.warning(
            "check-in schedule %s in guild %s paused: target unavailable",
            occurrence.schedule_id,
            occurrence.guild_id,
        )
        guild = self.bot.get_guild(occurrence.guild_id)
        if paused and guild is not None:
            tr = await texts_for_guild(self.bot, guild.id)
            await self.bot.alert(
                guild,
                tr.gettext(
                    "Check-in #{id} couldn't be posted: {problem}. I've paused it. Fix the "
                    "channel and use `/checkin schedule resume {id}`, or remove it."
                ).format(id=occurrence.schedule_id, problem=problem.text(tr)),
            )

    # --- personal check-ins --------------------------------------------------------------------
    async def personal_refused(self, occurrence: Occurrence, error: discord.HTTPException) -> None:
        assert occurrence.user_id is not None and occurrence.schedule_id is not None
        if isinstance(error, discord.Forbidden):
            reason = (
                N_("your DMs were closed") if error.code == CANNOT_DM else N_("I couldn't DM you")
            )
            if await self.schedules.pause_for_failure(occurrence.schedule_id, reason):
                log.info("personal check-in %s paused: DM refused", occurrence.schedule_id)
                tr = await texts_for_member(self.bot, occurrence.guild_id, occurrence.user_id)
                await self.bot.notices.hold(
                    occurrence.guild_id, occurrence.user_id, tr.gettext(DM_CLOSED_NOTICE)
                )
        elif isinstance(error, discord.NotFound):
            log.info("personal check-in %s paused: user gone", occurrence.schedule_id)
            await self.schedules.pause_for_failure(occurrence.schedule_id, N_("account not found"))
        else:
            log.warning(
                "personal check-in %s refused (%s/%s)",
                occurrence.schedule_id, error.status, error.code,
            )  # fmt: skip

    async def member_left(self, guild_id: int, user_id: int) -> None:
        schedule = await self.schedules.personal(guild_id, user_id)
        if schedule is not None and not schedule.paused:
            await self.schedules.pause_for_failure(schedule.id, N_("you left the server"))
            log.info("personal check-in %s paused: member left", schedule.id)


class _CheckinKind(OutboxKind):
    def __init__(self, delivery: Delivery) -> None:
        self.delivery = delivery


class GroupPrompt(_CheckinKind):
    """A group prompt from the outbox: posted with its mood buttons (and a replies thread)."""

    async def render(self, item: OutboxItem) -> Outgoing | None:
        occurrence = occurrence_of(item)
        guild = self.delivery.bot.get_guild(item.guild_id)
        if guild is None:
            await self._stop(occurrence, NOT_IN_SERVER)
            return None
        channel = guild.get_channel_or_thread(occurrence.channel_id or 0)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            await self._stop(occurrence, _gone(occurrence.channel_id))
            return None
        tr = await texts_for_guild(self.delivery.bot, guild.id)  # rendered at send time
        return Outgoing(
            content=group_text(occurrence, tr),
            channel_ids=(channel.id,),
            components=prompt_view(occurrence, tr).to_components(),
        )

    async def sent(self, item: OutboxItem, channel_id: int, message_id: int) -> None:
        occurrence = occurrence_of(item)
        guild = self.delivery.bot.get_guild(item.guild_id)
        if guild is None or not occurrence.open_thread:
            return
        channel = guild.get_channel(channel_id)
        if isinstance(channel, discord.TextChannel):
            message = channel.get_partial_message(message_id)
            await self.delivery.open_thread(guild, message, occurrence)

    async def refused(
        self, item: OutboxItem, error: discord.HTTPException, outgoing: Outgoing
    ) -> None:
        occurrence = occurrence_of(item)
        if isinstance(error, discord.NotFound):
            problem = _gone(occurrence.channel_id)
        elif isinstance(error, discord.Forbidden):
            problem = _forbidden(occurrence.channel_id)
        else:
            problem = Problem(
                N_("Discord refused the post ({status}/{code})"),
                {"status": error.status, "code": error.code},
            )
        await self._stop(occurrence, problem)

    async def expired(self, item: OutboxItem) -> None:
        log.info(
            "check-in occurrence %s (schedule %s) came due past the grace window; skipped",
            item.payload.get("occurrence_id"), item.payload.get("schedule_id"),
        )  # fmt: skip

    async def _stop(self, occurrence: Occurrence, problem: Problem) -> None:
        if occurrence.schedule_id is not None:
            await self.delivery.pause_group(occurrence, problem)


class PersonalCheckin(_CheckinKind):
    """A personal check-in from the outbox, by DM; refusals pause the member's schedule."""

    async def render(self, item: OutboxItem) -> Outgoing | None:
        occurrence = occurrence_of(item)
        guild = self.delivery.bot.get_guild(item.guild_id)
        if guild is None:
            if occurrence.schedule_id is not None:
                await self.delivery.schedules.pause_for_failure(
                    occurrence.schedule_id, N_("server unavailable")
                )
            return None
        assert item.user_id is not None
        tr = await texts_for_member(self.delivery.bot, item.guild_id, item.user_id)
        return Outgoing(
            content=personal_text(guild.name, tr),
            user_id=item.user_id,
            components=prompt_view(occurrence, tr).to_components(),
        )

    async def refused(
        self, item: OutboxItem, error: discord.HTTPException, outgoing: Outgoing
    ) -> None:
        await self.delivery.personal_refused(occurrence_of(item), error)

    async def expired(self, item: OutboxItem) -> None:
        log.info(
            "personal check-in %s came due past the grace window; skipped",
            item.payload.get("schedule_id"),
        )
