"""The sessions' own timer: the start of a session that opens only with a facilitator (the daily
retention of answers to sessions long past is a `cogs._ui.DailyRetention`)."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.app import HearthBot
from bot.services.sessions import SessionService
from bot.services.timers import Timer
from cogs.sessions._events import mirror

log = logging.getLogger(__name__)

RETENTION_KIND = "session.retention"


class SessionTimers:
    def __init__(self, bot: HearthBot, service: SessionService) -> None:
        self.bot = bot
        self.service = service

    async def opens_only_with_facilitator(self, timer: Timer, now: datetime) -> None:
        """At the start of a session of a group that opens only with a facilitator."""
        change = await self.service.cancel_if_unclaimed(int(timer.ref.split(":")[1]))
        if change is None:
            return
        self.bot.dispatcher.poke(now)
        guild = self.bot.get_guild(timer.guild_id)
        if guild is not None:
            await mirror(self.bot, guild, change.sessions)
