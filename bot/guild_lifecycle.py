"""Servers joined, left and changed, as the bot's process sees them: the registry of servers
(and their Discord languages, for the processes that don't have them in their cache) kept in
step, and each feature told.

`HearthBot` builds on this class, as on `ShardedBot` beneath it; the attributes declared below
are set by `HearthBot.__init__`.
"""

from __future__ import annotations

import asyncio

import discord

from bot.features import Features
from bot.services.guilds import GuildRegistry
from bot.sharding import ShardedBot
from bot.shards import ShardScope


class GuildLifecycle(ShardedBot):
    guild_registry: GuildRegistry
    features: Features
    shard_scope: ShardScope

    async def reconcile_guilds(self) -> None:
        """Catch up on servers joined or left while the bot was offline. Each server's features
        hear of it in load order; servers side by side, so many greetings don't queue up.

        Only servers of this process's shards: the others are in another process's cache, not
        gone."""
        present = {guild.id for guild in self.guilds}
        known = {g for g in await self.guild_registry.present_ids() if self.shard_scope.owns(g)}
        arrived = [
            guild
            for guild in self.guilds
            if guild.id not in known and await self.guild_registry.joined(guild.id)
        ]
        for guild_id in known - present:
            await self.guild_registry.left(guild_id)
        await self.guild_registry.note_locales(
            {guild.id: guild.preferred_locale.value for guild in self.guilds}
        )
        await asyncio.gather(
            *(self.features.guild_added(guild) for guild in arrived),
            *(self.features.guild_removed(guild_id) for guild_id in known - present),
        )

    async def on_guild_join(self, guild: discord.Guild) -> None:
        arrived = await self.guild_registry.joined(guild.id)
        await self.guild_registry.note_locales({guild.id: guild.preferred_locale.value})
        if arrived:
            await self.features.guild_added(guild)

    async def on_guild_update(self, before: discord.Guild, after: discord.Guild) -> None:
        if before.preferred_locale != after.preferred_locale:
            await self.guild_registry.note_locales({after.id: after.preferred_locale.value})

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.guild_registry.left(guild.id)
        await self.features.guild_removed(guild.id)
