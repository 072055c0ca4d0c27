"""Peer-supporter rotas: `/rota …` commands, persistent buttons and the timers behind them.

One cog made of three parts, one per audience (coordinators, supporters, wellbeing), so each
file stays readable; the parts share the `/rota` group, which the cog owns.
"""

from __future__ import annotations

import discord

from bot.app import HearthBot
from bot.features import Feature
from bot.i18n import Nn_
from bot.i18n_discord import texts_for_guild
from bot.services.rota import RotaService
from bot.services.rota.reminders import TIMER_OUTBOX
from bot.services.settings import GuildSettings
from cogs._pages import install_pages
from cogs.rota._admin import RotaAdmin
from cogs.rota._common import RotaCogPart, rota
from cogs.rota._member import RotaMember
from cogs.rota._timers import RotaTimers
from cogs.rota._views import DYNAMIC_ITEMS
from cogs.rota._wellbeing import RotaWellbeing, freed_alerts, register_kinds, unregister_kinds


class Rota(RotaAdmin, RotaMember, RotaWellbeing, RotaCogPart):
    group = rota

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.rota = bot.service(RotaService)
        self.timers = RotaTimers(bot)

    async def cog_load(self) -> None:
        install_pages(self.bot)
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.timers.register()
        register_kinds(self.bot)
        for kind, converter in TIMER_OUTBOX.items():
            self.bot.dispatcher.register_timer_outbox(kind, converter)
        self.bot.features.add(
            Feature(
                name="rota",
                about={Nn_("{n} rota", "{n} rotas"): self.rota.count_rotas},
                on_settings_changed=self._settings_changed,
            )
        )

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        for kind in TIMER_OUTBOX:
            self.bot.dispatcher.unregister_timer(kind)
        self.timers.unregister()
        unregister_kinds(self.bot)
        self.bot.features.remove("rota")

    async def _settings_changed(
        self, guild_id: int, before: GuildSettings, after: GuildSettings
    ) -> None:
        if before.reminder_hours == after.reminder_hours:
            return
        first = await self.rota.reschedule_reminders(guild_id, after.reminder_hours)
        if first is not None:
            self.bot.dispatcher.poke(first)

    @RotaCogPart.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """A supporter who left the server can't cover their shifts: open them and say so."""
        user_id = payload.user.id
        server = await texts_for_guild(self.bot, payload.guild_id)
        why = server.gettext("{who} left the server").format(who=f"<@{user_id}>")
        freed = await self.rota.hand_back_all(
            payload.guild_id, user_id, lambda slots: freed_alerts(why, slots, server)
        )
        if freed:
            self.bot.dispatcher.poke()


async def setup(bot: HearthBot) -> None:
    await bot.add_cog(Rota(bot))
