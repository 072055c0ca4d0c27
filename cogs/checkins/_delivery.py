"""Sending check-ins: group prompts to channels, personal check-ins by DM, and retention.

A target that is gone (deleted channel, lost permission, closed DMs, member left) pauses only its
own schedule and tells the right people — coordinators for channels, the member for their DMs —
while the rest of the fan-out carries on.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord

from bot.services.checkin_answers import CheckinAnswers
from bot.services.checkin_schedules import CheckinSchedules
from bot.services.checkins import Occurrence
from bot.services.timers import Timer
from bot.tree import NO_MENTIONS
from cogs.checkins._views import MOOD_SCALE, prompt_view

if TYPE_CHECKING:
    from datetime import datetime

    from bot.app import HearthBot

log = logging.getLogger(__name__)

RETENTION_KIND = "checkin_retention"
RETENTION_REF = "daily"
CANNOT_DM = 50007
DM_CLOSED_NOTICE = (
    "I couldn't send your personal check-in because your direct messages are closed, so I've "
    "paused your check-ins. To restart them, allow DMs from this server (server name → Privacy "
    "Settings) and run `/checkin me on` again."
)


def group_text(occurrence: Occurrence) -> str:
    label = "Check-in (test)" if occurrence.is_test else "Check-in"
    return (
        f"**{label}** — {occurrence.prompt}\n\n"
        f"How are you doing? Tap a number ({MOOD_SCALE}). Your answer is private: coordinators "
        "only see how many answered, never who. You can also add a private note."
    )


def personal_text(guild_name: str) -> str:
    return (
        f"**How are you today?** (your check-in from {guild_name})\n"
        f"Tap a number ({MOOD_SCALE}), or skip. Only you can see your answers."
    )


class Delivery:
    def __init__(self, bot: HearthBot, schedules: CheckinSchedules) -> None:
        self.bot = bot
        self.schedules = schedules

    async def deliver(self, occurrence: Occurrence) -> None:
        """Send one claimed occurrence; never raises for a target that went away."""
        if occurrence.kind == "group":
            problem = await self.post_group(occurrence)
            if problem is not None and occurrence.schedule_id is not None:
                await self._pause_group(occurrence, problem)
        else:
            await self.send_personal(occurrence)

    # --- group prompts -------------------------------------------------------------------------
    async def post_group(self, occurrence: Occurrence) -> str | None:
        """Post the prompt (and its thread); returns what went wrong for coordinators, or None."""
        guild = self.bot.get_guild(occurrence.guild_id)
        if guild is None:
            return "Hearth is no longer in that server"
        channel = guild.get_channel_or_thread(occurrence.channel_id or 0)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            return f"the channel <#{occurrence.channel_id}> no longer exists"
        try:
            message = await channel.send(
                group_text(occurrence), view=prompt_view(occurrence), allowed_mentions=NO_MENTIONS
            )
        except discord.NotFound:
            return f"the channel <#{occurrence.channel_id}> no longer exists"
        except discord.Forbidden:
            return f"I don't have permission to post in <#{occurrence.channel_id}>"
        if occurrence.open_thread and isinstance(channel, discord.TextChannel):
            await self._open_thread(guild, message, occurrence)
        return None

    async def _open_thread(
        self, guild: discord.Guild, message: discord.Message, occurrence: Occurrence
    ) -> None:
        zone = (await self.bot.settings.get(guild.id)).timezone
        local = occurrence.due_at.astimezone(ZoneInfo(zone))
        try:
            await message.create_thread(
                name=f"Check-in replies — {local:%a %d %b}", auto_archive_duration=1440
            )
        except discord.HTTPException as exc:
            log.warning("could not open a check-in thread in guild %s (%s)", guild.id, exc.code)
            await self.bot.alert(
                guild,
                f"Check-in #{occurrence.schedule_id} was posted in <#{occurrence.channel_id}>, "
                "but I couldn't open a thread for replies (I need Create Public Threads there).",
            )

    async def _pause_group(self, occurrence: Occurrence, problem: str) -> None:
        assert occurrence.schedule_id is not None
        paused = await self.schedules.pause_for_failure(occurrence.schedule_id, problem)
        log.warning(
            "check-in schedule %s in guild %s paused: target unavailable",
            occurrence.schedule_id,
            occurrence.guild_id,
        )
        guild = self.bot.get_guild(occurrence.guild_id)
        if paused and guild is not None:
            await self.bot.alert(
                guild,
                f"Check-in #{occurrence.schedule_id} couldn't be posted: {problem}. I've paused "
                f"it. Fix the channel and use `/checkin schedule resume {occurrence.schedule_id}`, "
                "or remove it.",
            )

    # --- personal check-ins --------------------------------------------------------------------
    async def send_personal(self, occurrence: Occurrence) -> None:
        assert occurrence.user_id is not None and occurrence.schedule_id is not None
        guild = self.bot.get_guild(occurrence.guild_id)
        if guild is None:
            await self.schedules.pause_for_failure(occurrence.schedule_id, "server unavailable")
            return
        try:
            channel = await self.bot.create_dm(discord.Object(id=occurrence.user_id))
            await channel.send(
                personal_text(guild.name),
                view=prompt_view(occurrence),
                allowed_mentions=NO_MENTIONS,
            )
        except discord.Forbidden as exc:
            reason = "your DMs were closed" if exc.code == CANNOT_DM else "I couldn't DM you"
            if await self.schedules.pause_for_failure(occurrence.schedule_id, reason):
                log.info("personal check-in %s paused: DM refused", occurrence.schedule_id)
                await self.bot.notices.hold(guild.id, occurrence.user_id, DM_CLOSED_NOTICE)
        except discord.NotFound:
            log.info("personal check-in %s paused: user gone", occurrence.schedule_id)
            await self.schedules.pause_for_failure(occurrence.schedule_id, "account not found")

    async def member_left(self, guild_id: int, user_id: int) -> None:
        schedule = await self.schedules.personal(guild_id, user_id)
        if schedule is not None and not schedule.paused:
            await self.schedules.pause_for_failure(schedule.id, "you left the server")
            log.info("personal check-in %s paused: member left", schedule.id)

    # --- retention -----------------------------------------------------------------------------
    async def retention(self, answers: CheckinAnswers, timer: Timer, now: datetime) -> None:
        """Delete answers older than each server keeps them, then run again tomorrow."""
        try:
            for guild_id in await answers.guilds_with_data():
                keep = (await self.bot.settings.get(guild_id)).retention_days
                removed = await answers.purge_older_than(guild_id, now - timedelta(days=keep))
                if removed:
                    log.info("retention removed %d check-in answers in guild %s", removed, guild_id)
        finally:
            await self.schedule_retention(now + timedelta(days=1))

    async def schedule_retention(self, due_at: datetime) -> None:
        await self.bot.timers.schedule(0, RETENTION_KIND, RETENTION_REF, due_at)
        self.bot.dispatcher.poke(due_at)
