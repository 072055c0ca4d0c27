"""Peer-supporter rotas: `/rota …` commands, persistent buttons and the timers behind them."""

from __future__ import annotations

import discord
from discord.ext import commands

from bot.app import HearthBot
from bot.features import Feature
from bot.services import rota as service
from bot.services.rota.breaks import hand_back_all
from bot.services.rota.reminders import TIMER_OUTBOX, reschedule_reminders
from bot.services.settings import GuildSettings
from cogs._pages import install_pages
from cogs.rota import _admin, _member, _wellbeing  # noqa: F401  (registers the subcommands)
from cogs.rota._common import rota
from cogs.rota._timers import RotaTimers
from cogs.rota._views import DYNAMIC_ITEMS
from cogs.rota._wellbeing import freed_alerts


class Rota(commands.Cog):
    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.timers = RotaTimers(bot)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(rota)
        install_pages(self.bot)
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.timers.register()
        _wellbeing.register(self.bot)
        for kind, converter in TIMER_OUTBOX.items():
            self.bot.dispatcher.register_timer_outbox(kind, converter)
        self.bot.features.add(
            Feature(
                name="rota",
                about={"rotas": self._count},
                on_settings_changed=self._settings_changed,
            )
        )

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(rota.name)
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        for kind in TIMER_OUTBOX:
            self.bot.dispatcher.unregister_timer(kind)
        self.timers.unregister()
        _wellbeing.unregister(self.bot)
        self.bot.features.remove("rota")

    async def _settings_changed(
        self, guild_id: int, before: GuildSettings, after: GuildSettings
    ) -> None:
        if before.reminder_hours == after.reminder_hours:
            return
        now = self.bot.clock.now()
        first = await reschedule_reminders(self.bot.db, guild_id, after.reminder_hours, now)
        if first is not None:
            self.bot.dispatcher.poke(first)

    async def _count(self, guild_id: int) -> int:
        return await service.count_rotas(self.bot.db, guild_id)

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """A supporter who left the server can't cover their shifts: open them and say so."""
        user_id = payload.user.id
        freed = await hand_back_all(
            self.bot.db, payload.guild_id, user_id, self.bot.clock.now(),
            lambda slots: freed_alerts(user_id, "left the server", slots),
        )  # fmt: skip
        if freed:
            self.bot.dispatcher.poke()


async def setup(bot: HearthBot) -> None:
    await bot.add_cog(Rota(bot))
