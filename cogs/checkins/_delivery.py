"""Sending check-ins: group prompts to channels, personal check-ins by DM, and retention.

Claimed occurrences reach Discord through the outbox (kinds `checkin.group`, `checkin.personal`),
rendered here at send time. A target that is gone (deleted channel, lost permission, closed DMs,
member left) pauses only its own schedule and tells the right people — coordinators for channels,
the member for their DMs — while the rest of the fan-out carries on. One that comes due after its
grace window (the bot was down) is skipped and logged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord

from bot.delivery import OutboxKind, Outgoing
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
            await self.open_thread(guild, message, occurrence)
        return None

    async def open_thread(
        self, guild: discord.Guild, message: discord.PartialMessage, occurrence: Occurrence
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

    async def pause_group(self, occurrence: Occurrence, problem: str) -> None:
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
    async def personal_refused(self, occurrence: Occurrence, error: discord.HTTPException) -> None:
        assert occurrence.user_id is not None and occurrence.schedule_id is not None
        if isinstance(error, discord.Forbidden):
            reason = "your DMs were closed" if error.code == CANNOT_DM else "I couldn't DM you"
            if await self.schedules.pause_for_failure(occurrence.schedule_id, reason):
                log.info("personal check-in %s paused: DM refused", occurrence.schedule_id)
                await self.bot.notices.hold(
                    occurrence.guild_id, occurrence.user_id, DM_CLOSED_NOTICE
                )
        elif isinstance(error, discord.NotFound):
            log.info("personal check-in %s paused: user gone", occurrence.schedule_id)
            await self.schedules.pause_for_failure(occurrence.schedule_id, "account not found")
        else:
            log.warning(
                "personal check-in %s refused (%s/%s)",
                occurrence.schedule_id, error.status, error.code,
            )  # fmt: skip

    async def member_left(self, guild_id: int, user_id: int) -> None:
        schedule = await self.schedules.personal(guild_id, user_id)
        if schedule is not None and not schedule.paused:
            await self.schedules.pause_for_failure(schedule.id, "you left the server")
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
            await self._stop(occurrence, "Hearth is no longer in that server")
            return None
        channel = guild.get_channel_or_thread(occurrence.channel_id or 0)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            await self._stop(occurrence, f"the channel <#{occurrence.channel_id}> no longer exists")
            return None
        return Outgoing(
            content=group_text(occurrence),
            channel_ids=(channel.id,),
            components=prompt_view(occurrence).to_components(),
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
            problem = f"the channel <#{occurrence.channel_id}> no longer exists"
        elif isinstance(error, discord.Forbidden):
            problem = f"I don't have permission to post in <#{occurrence.channel_id}>"
        else:
            problem = f"Discord refused the post ({error.status}/{error.code})"
        await self._stop(occurrence, problem)

    async def expired(self, item: OutboxItem) -> None:
        log.info(
            "check-in occurrence %s (schedule %s) came due past the grace window; skipped",
            item.payload.get("occurrence_id"), item.payload.get("schedule_id"),
        )  # fmt: skip

    async def _stop(self, occurrence: Occurrence, problem: str) -> None:
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
                    occurrence.schedule_id, "server unavailable"
                )
            return None
        return Outgoing(
            content=personal_text(guild.name),
            user_id=item.user_id,
            components=prompt_view(occurrence).to_components(),
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
