"""What happens when a rota timer fires: reminders, debrief prompts, coverage alerts.

Timers are claimed (deleted) before these run, so each fires at most once; these decide what is
still worth sending when the bot was down (a reminder after the shift started is skipped).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from bot.services import rota as service
from bot.services.rota.reminders import DEBRIEF_STALE, ref_id, reminder_is_stale
from bot.services.timers import Timer
from cogs.rota._views import debrief_text, debrief_view

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)


def _t(moment: datetime, style: str = "F") -> str:
    return f"<t:{int(moment.timestamp())}:{style}>"


class RotaTimers:
    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

    def _server_name(self, guild_id: int) -> str:
        guild = self.bot.get_guild(guild_id)
        return guild.name if guild else "your server"

    async def reminder(self, timer: Timer, now: datetime) -> None:
        shift = await service.shift_by_claim(self.bot.db, ref_id(timer.ref))
        if shift is None or reminder_is_stale(timer.payload, shift.slot, now):
            return
        slot = shift.slot
        server = self._server_name(slot.guild_id)
        await self.bot.dm(
            slot.guild_id, shift.user_id,
            f"⏰ Reminder: you're on **{slot.rota_name}** in **{server}** "
            f"{_t(slot.starts_at)} ({_t(slot.starts_at, 'R')}) until {_t(slot.ends_at, 't')}. "
            "If you can't make it, `/rota swap offer` or `/rota release` — and thank you.",
        )  # fmt: skip

    async def debrief(self, timer: Timer, now: datetime) -> None:
        shift = await service.shift_by_claim(self.bot.db, ref_id(timer.ref))
        if shift is None or now - shift.slot.ends_at > DEBRIEF_STALE:
            return
        await self.bot.dm(
            shift.slot.guild_id, shift.user_id,
            debrief_text(shift, self._server_name(shift.slot.guild_id)),
            view=debrief_view(shift.slot.guild_id, shift.claim_id),
        )  # fmt: skip

    async def coverage(self, timer: Timer, now: datetime) -> None:
        guild = self.bot.get_guild(timer.guild_id)
        if guild is None:
            return
        slot = await service.find_slot(self.bot.db, timer.guild_id, ref_id(timer.ref))
        if slot is None or slot.starts_at <= now or slot.open_places == 0:
            return
        await self.bot.alert(
            guild,
            f"🔔 **{slot.rota_name}** {_t(slot.starts_at)} ({_t(slot.starts_at, 'R')}) still "
            f"needs {slot.open_places} more supporter{'s' if slot.open_places > 1 else ''} "
            f"({len(slot.claimers)}/{slot.needed}, slot #{slot.id}). Supporters can claim it "
            "with `/rota claim`.",
        )
