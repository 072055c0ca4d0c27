"""Each session mirrored as a Discord Scheduled Event, so members see it in Discord's Events.

The session in Hearth is the record and the event follows it: created with the session, moved
with it, cancelled with it. Without Manage Events the session still exists and coordinators are
told the exact fix. An event someone deletes by hand is forgotten, never recreated behind their
back. Discord's "Interested" counts as Going (members only, places guarded); a bot cannot mark
someone interested, so pressing Going in Hearth does not show on the event.
"""

from __future__ import annotations

import logging

import discord

from bot.app import HearthBot
from bot.i18n import ENGLISH, N_, Texts
from bot.i18n_discord import texts_for_guild
from bot.services import session_events
from bot.services.groups import GroupService
from bot.services.session_upkeep import SessionUpkeep
from bot.services.sessions import Session

log = logging.getLogger(__name__)

MANAGE_EVENTS_FIX = N_(
    "The session is saved in Hearth, but I couldn't add it to Discord's **Events** list: I need "
    "the **Manage Events** permission. Server Settings → Roles → Hearth → turn on **Manage "
    "Events**; sessions planned or moved after that appear in Events."
)


def _location(
    guild: discord.Guild, channel_id: int | None, group_name: str, tr: Texts = ENGLISH
) -> str:
    channel = guild.get_channel(channel_id) if channel_id else None
    if channel is not None:
        return f"#{channel.name}"
    return tr.gettext("The {group} group").format(group=group_name)[:100]


async def mirror(
    bot: HearthBot, guild: discord.Guild, sessions: list[Session], tr: Texts = ENGLISH
) -> str | None:
    """Bring the event of each session (all of one group, held in its room or channel) in line
    with it; what to tell coordinators if Discord refused (None when every event is right), in
    `tr`'s language. The event itself, which every member sees, is written in the server's."""
    group = await bot.service(GroupService).get(guild.id, sessions[0].group_id)
    room_id = await bot.service(SessionUpkeep).room(group.id)
    server_tr = await texts_for_guild(bot, guild.id)
    for session in sessions:
        try:
            await _mirror_one(bot, guild, session, group.channel_id, room_id, server_tr)
        except discord.Forbidden:
            return tr.gettext(MANAGE_EVENTS_FIX)
        except discord.HTTPException as exc:
            log.warning("scheduled event for session %s failed (%s)", session.id, exc.code)
            return tr.gettext(
                "The session is saved in Hearth, but Discord didn't take its event just now "
                "(error {code}). Moving the session later tries again."
            ).format(code=exc.code)
    return None


async def _mirror_one(
    bot: HearthBot,
    guild: discord.Guild,
    session: Session,
    channel_id: int | None,
    room_id: int | None,
    tr: Texts,
) -> None:
    if session.event_id == 0:  # deleted in Discord by someone: their choice stands
        return
    if session.event_id is None:
        if session.cancelled:
            return
        name = session.group_name[:100]
        description = tr.gettext("A {group} session, planned in Hearth (#{id}).").format(
            group=session.group_name, id=session.id
        )
        room = guild.get_channel(room_id) if room_id else None
        if isinstance(room, discord.VoiceChannel | discord.StageChannel):
            event = await guild.create_scheduled_event(
                name=name, description=description, start_time=session.starts_at,
                end_time=session.ends_at, privacy_level=discord.PrivacyLevel.guild_only,
                channel=room,
            )  # fmt: skip
        else:
            event = await guild.create_scheduled_event(
                name=name, description=description, start_time=session.starts_at,
                end_time=session.ends_at, privacy_level=discord.PrivacyLevel.guild_only,
                entity_type=discord.EntityType.external,
                location=_location(guild, channel_id, session.group_name, tr),
            )  # fmt: skip
        await session_events.set_event(bot.db, session.id, event.id)
        return
    found = guild.get_scheduled_event(session.event_id)
    if found is None:  # deleted by hand while Hearth was away
        await session_events.forget_event(bot.db, guild.id, session.event_id)
        return
    try:
        if session.cancelled:
            await found.cancel()
        else:
            await found.edit(start_time=session.starts_at, end_time=session.ends_at)
    except discord.NotFound:
        await session_events.forget_event(bot.db, guild.id, session.event_id)
