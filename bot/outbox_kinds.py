"""The outbox kinds every feature shares (a DM to a member, an alert for coordinators, a log-channel
post) and `message_specs`, which turns a text into the rows that carry it.

Kept apart from `bot.delivery`, which claims and sends rows of any kind, so each stays one idea.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord

from bot.delivery import OutboxKind, Outgoing
from bot.services.outbox import OutboxItem, OutboxSpec
from bot.services.text import split_text

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)


def message_specs(
    guild_id: int,
    kind: str,
    now: datetime,
    content: str,
    *,
    channel_id: int | None = None,
    user_id: int | None = None,
    view: discord.ui.View | None = None,
    expires_at: datetime | None = None,
    **extra: Any,
) -> list[OutboxSpec]:
    """Outbox rows carrying a rendered text (and buttons, as their component data).

    Discord takes 2,000 characters a message, and an alert or DM that grows with the server (the
    shifts a leaver freed, a long helpline list) must never lose its end: a longer text becomes
    one row per part, split at line ends, with the buttons on the last part.
    """
    parts = split_text(content)
    specs = []
    for index, part in enumerate(parts):
        payload: dict[str, Any] = {"content": part, **extra}
        if view is not None and index == len(parts) - 1:
            payload["components"] = view.to_components()
        specs.append(
            OutboxSpec(
                guild_id=guild_id,
                kind=kind,
                due_at=now,
                channel_id=channel_id,
                user_id=user_id,
                payload=payload,
                expires_at=expires_at,
            )
        )
    return specs


class DirectMessage(OutboxKind):
    """A DM whose text is in the row; closed DMs hold it for the member's next interaction."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

    async def refused(
        self, item: OutboxItem, error: discord.HTTPException, outgoing: Outgoing
    ) -> None:
        if outgoing.user_id is None:
            return
        if isinstance(error, discord.Forbidden):
            await self.bot.notices.hold(item.guild_id, outgoing.user_id, outgoing.content)
        else:
            log.info(
                "user %s can't be messaged (%s); a DM was dropped", outgoing.user_id, error.code
            )


class AlertPost(OutboxKind):
    """An alert for coordinators: the alerts channel, else the log channel, as set at send time
    (or the other way round with `log_first`, for problems that belong beside the audit log)."""

    def __init__(self, bot: HearthBot, *, log_first: bool = False) -> None:
        self.bot = bot
        self.log_first = log_first

    async def text(self, item: OutboxItem) -> str | None:
        """The alert's text now, or None if it no longer applies."""
        return str(item.payload["content"])

    async def render(self, item: OutboxItem) -> Outgoing | None:
        guild = self.bot.get_guild(item.guild_id)
        if guild is None:
            return None
        text = await self.text(item)
        if text is None:
            return None
        settings = await self.bot.settings.get(guild.id)
        order = [settings.alerts_channel_id, settings.log_channel_id]
        usable = tuple(
            channel_id
            for channel_id in (order[::-1] if self.log_first else order)
            if channel_id and isinstance(guild.get_channel(channel_id), discord.TextChannel)
        )
        if not usable:
            log.warning(
                "guild %s has no usable alerts channel; an alert was not delivered", guild.id
            )
            return None
        return Outgoing(content=text, channel_ids=usable)

    async def refused(
        self, item: OutboxItem, error: discord.HTTPException, outgoing: Outgoing
    ) -> None:
        log.warning("could not alert in guild %s: %s", item.guild_id, error.code)


class LogPost(OutboxKind):
    """An audit entry posted to the log channel."""

    async def refused(
        self, item: OutboxItem, error: discord.HTTPException, outgoing: Outgoing
    ) -> None:
        log.warning("could not post to the log channel of guild %s: %s", item.guild_id, error.code)
