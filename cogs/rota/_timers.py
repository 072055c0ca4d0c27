"""What rota timers send: reminders, debrief prompts, coverage alerts.

A due timer becomes an outbox row in the transaction that consumes it (see
`bot.services.rota.reminders.TIMER_OUTBOX`); these kinds render it when its turn comes, from the
claim as it is then (a swapped shift reminds its new supporter), and drop what is no longer worth
sending (a reminder after the shift started, a debrief days late, cover already found).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from discord.utils import format_dt

from bot.delivery import Outgoing
from bot.i18n import ENGLISH, Texts
from bot.i18n_discord import texts_for_guild, texts_for_member
from bot.outbox_kinds import AlertPost, DirectMessage
from bot.services.outbox import OutboxItem
from bot.services.rota.reminders import (
    COVERAGE,
    DEBRIEF,
    DEBRIEF_STALE,
    REMINDER,
    reminder_is_stale,
)
from cogs.rota._common import rota_of
from cogs.rota._views import debrief_text, debrief_view

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)


def _server_name(bot: HearthBot, guild_id: int, tr: Texts = ENGLISH) -> str:
    guild = bot.get_guild(guild_id)
    return guild.name if guild else tr.gettext("your server")


class Reminder(DirectMessage):
    async def render(self, item: OutboxItem) -> Outgoing | None:
        shift = await rota_of(self.bot).shift_by_claim(item.payload["claim_id"])
        if shift is None or reminder_is_stale(item.payload, shift.slot, self.bot.clock.now()):
            return None
        slot = shift.slot
        tr = await texts_for_guild(self.bot, slot.guild_id)  # written at send time
        text = tr.gettext(
            "⏰ Reminder: you're on **{rota}** in **{server}** {starts} ({relative}) until "
            "{ends}. If you can't make it, `/rota swap offer` or `/rota release` — and thank you."
        )
        return Outgoing(
            user_id=shift.user_id,
            content=text.format(
                rota=slot.rota_name,
                server=_server_name(self.bot, slot.guild_id, tr),
                starts=format_dt(slot.starts_at, "F"),
                relative=format_dt(slot.starts_at, "R"),
                ends=format_dt(slot.ends_at, "t"),
            ),
        )


class Debrief(DirectMessage):
    async def render(self, item: OutboxItem) -> Outgoing | None:
        shift = await rota_of(self.bot).shift_by_claim(item.payload["claim_id"])
        if shift is None or self.bot.clock.now() - shift.slot.ends_at > DEBRIEF_STALE:
            return None
        guild_id = shift.slot.guild_id
        tr = await texts_for_member(self.bot, guild_id, shift.user_id)  # written at send time
        return Outgoing(
            user_id=shift.user_id,
            content=debrief_text(shift, _server_name(self.bot, guild_id, tr), tr),
            components=debrief_view(guild_id, shift.claim_id, tr=tr).to_components(),
        )


class CoverageAlert(AlertPost):
    async def text(self, item: OutboxItem) -> str | None:
        slot = await rota_of(self.bot).slot_if_any(item.guild_id, item.payload["slot_id"])
        if slot is None or slot.starts_at <= self.bot.clock.now() or slot.open_places == 0:
            return None
        tr = await texts_for_guild(self.bot, item.guild_id)
        text = tr.ngettext(
            "🔔 **{rota}** {starts} ({relative}) still needs {count} more supporter "
            "({claimed}/{needed}, slot #{slot}). Supporters can claim it with `/rota claim`.",
            "🔔 **{rota}** {starts} ({relative}) still needs {count} more supporters "
            "({claimed}/{needed}, slot #{slot}). Supporters can claim it with `/rota claim`.",
            slot.open_places,
        )
        return text.format(
            rota=slot.rota_name,
            starts=format_dt(slot.starts_at, "F"),
            relative=format_dt(slot.starts_at, "R"),
            count=slot.open_places,
            claimed=len(slot.claimers),
            needed=slot.needed,
            slot=slot.id,
        )


class RotaTimers:
    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

    def register(self) -> None:
        self.bot.outbox.register(REMINDER, Reminder(self.bot))
        self.bot.outbox.register(DEBRIEF, Debrief(self.bot))
        self.bot.outbox.register(COVERAGE, CoverageAlert(self.bot))

    def unregister(self) -> None:
        for kind in (REMINDER, DEBRIEF, COVERAGE):
            self.bot.outbox.unregister(kind)
