"""Creating the roles and private channels a server does not have yet, from the setup panel."""

from __future__ import annotations

from typing import Any

import discord

from bot.app import HearthBot
from bot.i18n import N_, Texts
from bot.i18n_discord import texts_for_guild
from bot.services.audit import Phrase
from bot.services.settings import AUDIT_SETUP_CREATED, GuildSettings

# The roles and channels are named in the server's language (contexts "role name" and "channel
# name"; a channel name is lowercase words joined by hyphens, as Discord writes them).


def _role(guild: discord.Guild, role_id: int | None) -> discord.Role | None:
    return guild.get_role(role_id) if role_id else None


def _text_channel(guild: discord.Guild, channel_id: int | None) -> discord.TextChannel | None:
    channel = guild.get_channel(channel_id) if channel_id else None
    return channel if isinstance(channel, discord.TextChannel) else None


def _private_overwrites(
    guild: discord.Guild, coordinators: discord.Role | None
) -> dict[Any, discord.PermissionOverwrite]:
    """Hidden from everyone but coordinators and the bot: the log and alerts name members."""
    overwrites: dict[Any, discord.PermissionOverwrite] = {
        guild.default_role: discord.PermissionOverwrite(view_channel=False),
        guild.me: discord.PermissionOverwrite(
            view_channel=True, send_messages=True, embed_links=True, read_message_history=True
        ),
    }
    if coordinators is not None:
        overwrites[coordinators] = discord.PermissionOverwrite(
            view_channel=True, read_message_history=True
        )
    return overwrites


async def create_missing(
    bot: HearthBot,
    guild: discord.Guild,
    actor: discord.abc.User,
    settings: GuildSettings,
    tr: Texts,
) -> tuple[list[str], list[str]]:
    """Create what is not set (or was deleted); returns (what was created, what failed and why),
    in `tr`'s language (the audit trail's in each reader's).

    Each thing created is saved and audited at once, so a failure half-way loses nothing done.
    The roles and channels are named in the server's language: they are the server's, not one
    reader's.
    """
    server = await texts_for_guild(bot, guild.id)
    created: list[str] = []
    failed: list[str] = []
    reason = server.gettext("Hearth /setup by {actor} ({id})").format(actor=actor, id=actor.id)
    server = await texts_for_guild(bot, guild.id)

    async def save(key: str, value: int, what: Phrase) -> None:
        await bot.settings.update(guild.id, actor.id, **{key: value})
        created.append(what.render(tr))
        await bot.audit(guild, actor.id, AUDIT_SETUP_CREATED, what)

    coordinators = _role(guild, settings.coordinator_role_id)
    for key, name, existing in (
        ("coordinator_role_id", server.pgettext("role name", "Coordinators"), coordinators),
        (
            "supporter_role_id",
            server.pgettext("role name", "Peer supporters"),
            _role(guild, settings.supporter_role_id),
        ),
    ):
        if existing is not None:
            continue
        try:
            role = await guild.create_role(name=name, reason=reason)
        except discord.Forbidden:
            failed.append(
                tr.gettext("the {name} role: I need the Manage Roles permission").format(name=name)
            )
            continue
        await save(key, role.id, Phrase(N_("role {role}"), role=role.mention))
        if key == "coordinator_role_id":
            coordinators = role
    for key, name, existing_channel in (
        (
            "log_channel_id",
            server.pgettext("channel name", "hearth-log"),
            _text_channel(guild, settings.log_channel_id),
        ),
        (
            "alerts_channel_id",
            server.pgettext("channel name", "hearth-alerts"),
            _text_channel(guild, settings.alerts_channel_id),
        ),
    ):
        if existing_channel is not None:
            continue
        try:
            channel = await guild.create_text_channel(
                name, overwrites=_private_overwrites(guild, coordinators), reason=reason
            )
        except discord.Forbidden:
            failed.append(
                tr.gettext(
                    "#{name}: I need the Manage Channels and Manage Roles permissions "
                    "(to keep it private)"
                ).format(name=name)
            )
            continue
        await save(
            key, channel.id, Phrase(N_("private channel {channel}"), channel=channel.mention)
        )
    return created, failed
