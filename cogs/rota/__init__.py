"""Peer-supporter rotas: `/rota …` commands, persistent buttons and the timers behind them."""

from __future__ import annotations

import discord
from discord.ext import commands

from bot.app import HearthBot
from bot.errors import UserFacingError
from bot.services import rota as service
from bot.services.rota.reminders import TIMER_OUTBOX, reschedule_reminders
from bot.services.settings import GuildSettings
from cogs._pages import install_pages
from cogs._ui import split_text
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
        install_pages(self.bot)
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.timers.register()
        for kind, converter in TIMER_OUTBOX.items():
            self.bot.dispatcher.register_timer_outbox(kind, converter)
        self.bot.about_stats["rotas"] = self._count
        self.bot.settings.on_change(self._settings_changed)

    async def cog_unload(self) -> None:
        self.bot.settings.remove_listener(self._settings_changed)
        self.bot.tree.remove_command(rota.name)
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        for kind in TIMER_OUTBOX:
            self.bot.dispatcher.unregister_timer(kind)
        self.timers.unregister()
        self.bot.about_stats.pop("rotas", None)

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
        now = self.bot.clock.now()
        shifts = await service.my_shifts(self.bot.db, payload.guild_id, payload.user.id, now)
        freed = []
        for shift in shifts:
            if shift.slot.starts_at <= now:
                continue  # in progress: nothing to hand over now
            try:
                released = await service.release_claim(
                    self.bot.db, payload.guild_id, shift.slot.id, payload.user.id, now
                )
            except UserFacingError:
                continue  # released meanwhile
            freed.append(released.slot)
        guild = self.bot.get_guild(payload.guild_id)
        if not freed or guild is None:
            return
        lines = [
            f"• **{slot.rota_name}** <t:{int(slot.starts_at.timestamp())}:F> "
            f"(now {len(slot.claimers)}/{slot.needed}, slot #{slot.id})"
            for slot in freed
        ]
        text = (
            f"🔔 <@{payload.user.id}> left the server, so these shifts they had claimed are "
            "open again:\n" + "\n".join(lines)
        )
        for part in split_text(text):
            await self.bot.alert(guild, part)


async def setup(bot: HearthBot) -> None:
    await bot.add_cog(Rota(bot))
