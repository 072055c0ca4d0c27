"""Peer-supporter rotas: `/rota …` commands, persistent buttons and the timers behind them."""

from __future__ import annotations

from discord.ext import commands

from bot.app import HearthBot
from bot.services import rota as service
from bot.services.rota.reminders import COVERAGE, DEBRIEF, REMINDER
from cogs.rota import _admin, _member  # noqa: F401  (registers the subcommands on the group)
from cogs.rota._common import rota
from cogs.rota._timers import RotaTimers
from cogs.rota._views import DYNAMIC_ITEMS


class Rota(commands.Cog):
    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.timers = RotaTimers(bot)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(rota)
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.bot.dispatcher.register_timer(REMINDER, self.timers.reminder)
        self.bot.dispatcher.register_timer(DEBRIEF, self.timers.debrief)
        self.bot.dispatcher.register_timer(COVERAGE, self.timers.coverage)
        self.bot.about_stats["rotas"] = self._count

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(rota.name)
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        for kind in (REMINDER, DEBRIEF, COVERAGE):
            self.bot.dispatcher.unregister_timer(kind)
        self.bot.about_stats.pop("rotas", None)

    async def _count(self, guild_id: int) -> int:
        return await service.count_rotas(self.bot.db, guild_id)


async def setup(bot: HearthBot) -> None:
    await bot.add_cog(Rota(bot))
