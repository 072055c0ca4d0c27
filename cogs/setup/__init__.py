"""`/setup` (the guided setup panel) and the private greeting when Hearth joins a server."""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HearthBot
from bot.config import MAX_ZONE_NAME
from bot.delivery import OutboxKind, Outgoing
from bot.features import Feature
from bot.i18n import COMMAND_CHOICE, N_
from bot.i18n_discord import texts, texts_for_guild
from bot.services.locales import LANGUAGE
from bot.services.outbox import OutboxItem, OutboxSpec
from bot.services.settings import audit_setup_step
from bot.tree import NO_MENTIONS
from cogs._ui import coordinator_only, guild_of
from cogs.setup._languages import language_choices
from cogs.setup._timezones import label, suggest
from cogs.setup._views import register, render, resolve_timezone

log = logging.getLogger(__name__)

GREETING_KIND, CHANNEL_GREETING_KIND = "greeting", "greeting.channel"

# Written when sent, in the server's language (`auto`: its Discord language, when Hearth has it).
GREETING = N_(
    "Hello! Thanks for adding **Hearth** to **{guild}**. I haven't posted anything in the "
    "server.\n\n"
    "To get started, run `/setup` in any channel there (it needs Manage Server; only you will "
    "see it). It walks you through the server's time zone, the coordinator and peer supporter "
    "roles, and private log and alerts channels, and checks that I have the permissions I need. "
    "It takes about two minutes and you can change everything later.\n\n"
    "`/help` lists the commands. Hearth is a peer-support tool, not a crisis service."
)
CHANNEL_GREETING = N_(
    "Hello! I'm **Hearth**, just added to this server. I couldn't reach the server owner by DM, "
    "so I'm leaving this here once: a server admin (Manage Server) can run `/setup` to set me "
    "up. Until then I stay quiet."
)


class Setup(commands.Cog):
    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        register(self.bot)
        self.bot.outbox.register(GREETING_KIND, OwnerGreeting(self.bot))
        self.bot.outbox.register(CHANNEL_GREETING_KIND, ChannelGreeting(self.bot))
        self.bot.features.add(Feature(name="setup", on_guild_added=self.greet))

    async def cog_unload(self) -> None:
        self.bot.features.remove("setup")
        self.bot.outbox.unregister(GREETING_KIND)
        self.bot.outbox.unregister(CHANNEL_GREETING_KIND)

    @app_commands.command(name="setup", description="Set Hearth up for this server (coordinators)")
    @app_commands.describe(
        timezone="The server's time zone, e.g. Europe/London (start typing)",
        language="The language Hearth writes to the server in",
    )
    @app_commands.choices(language=language_choices())
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @coordinator_only()
    async def setup(
        self,
        interaction: discord.Interaction,
        timezone: app_commands.Range[str, 1, MAX_ZONE_NAME] | None = None,
        language: app_commands.Choice[str] | None = None,
    ) -> None:
        guild = guild_of(interaction)
        tr = await texts(interaction)
        note = None
        changed_zone = None
        # A time zone it doesn't know is refused before anything is saved.
        zone = resolve_timezone(timezone) if timezone is not None else None
        if language is not None:
            note = await self.save_language(interaction, guild, language)
        if zone is not None:
            before = (await self.bot.settings.get(guild.id)).timezone
            if zone != before:
                await self.bot.settings.update(guild.id, interaction.user.id, timezone=zone)
                changed_zone = zone
            saved = tr.gettext("Saved: Time zone is now {zone}.").format(zone=zone)
            note = " ".join(filter(None, [note, saved]))
        if changed_zone is not None:
            await self.bot.audit(
                guild, interaction.user.id, audit_setup_step("timezone"), N_("set to {value}"),
                value=changed_zone,
            )  # fmt: skip
        settings = await self.bot.settings.get(guild.id)
        content, view = render(guild, settings, 1, note, tr)
        await interaction.response.send_message(
            content, view=view, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    async def save_language(
        self,
        interaction: discord.Interaction,
        guild: discord.Guild,
        chosen: app_commands.Choice[str],
    ) -> str:
        """The server's language (`bot.services.locales`), saved and audited if it changed."""
        before = (await self.bot.settings.get(guild.id))[LANGUAGE]
        if chosen.value != before:
            await self.bot.settings.update(guild.id, interaction.user.id, language=chosen.value)
            await self.bot.audit(
                guild, interaction.user.id, audit_setup_step("language"), N_("set to {value}"),
                value=chosen.value,
            )  # fmt: skip
        tr = await texts(interaction)
        name = tr.pgettext(COMMAND_CHOICE, chosen.name)
        return tr.gettext("Saved: Hearth writes to this server in {language}.").format(
            language=name
        )

    @setup.autocomplete("timezone")
    async def timezone_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        now = self.bot.clock.now()
        tr = await texts(interaction)
        return [
            app_commands.Choice(name=label(name, now, tr), value=name) for name in suggest(current)
        ]

    async def greet(self, guild: discord.Guild) -> None:
        """Tell the owner privately how to start; a channel only if their DMs are closed.

        The greeting is claimed in the store together with its outbox row, so it is never
        repeated (a join event arriving twice, a re-invite), and never lost to a crash.
        """
        now = self.bot.clock.now()
        spec = OutboxSpec(guild_id=guild.id, kind=GREETING_KIND, due_at=now, user_id=guild.owner_id)
        lease = (self.bot.outbox.owner, now + self.bot.outbox_store.lease)

        item_id = await self.bot.guild_registry.claim_greeting(guild.id, spec, now, lease)
        if item_id is not None:  # born leased to us: sent now, or after a crash by the next start
            await self.bot.outbox.send_recorded(item_id)


class OwnerGreeting(OutboxKind):
    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

    async def render(self, item: OutboxItem) -> Outgoing | None:
        guild = self.bot.get_guild(item.guild_id)
        if guild is None:
            return None
        if guild.owner_id is None:
            await self._in_a_channel(item)
            return None
        tr = await texts_for_guild(self.bot, guild.id)
        text = tr.gettext(GREETING).format(guild=guild.name)
        return Outgoing(content=text, user_id=guild.owner_id)

    async def refused(
        self, item: OutboxItem, error: discord.HTTPException, outgoing: Outgoing
    ) -> None:
        log.info("could not DM the owner of guild %s (%s)", item.guild_id, error.status)
        await self._in_a_channel(item)

    async def _in_a_channel(self, item: OutboxItem) -> None:
        spec = OutboxSpec(guild_id=item.guild_id, kind=CHANNEL_GREETING_KIND, due_at=item.due_at)
        await self.bot.outbox.send_now([spec])


class ChannelGreeting(OutboxKind):
    """The note left once in the first channel Hearth can write to (the system channel first)."""

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

    async def render(self, item: OutboxItem) -> Outgoing | None:
        guild = self.bot.get_guild(item.guild_id)
        channels = _writable_channels(guild) if guild is not None else []
        if not channels:
            log.warning(
                "could not greet guild %s: owner DMs closed and no writable channel", item.guild_id
            )
            return None
        tr = await texts_for_guild(self.bot, item.guild_id)
        channel_ids = tuple(c.id for c in channels)
        return Outgoing(content=tr.gettext(CHANNEL_GREETING), channel_ids=channel_ids)

    async def refused(
        self, item: OutboxItem, error: discord.HTTPException, outgoing: Outgoing
    ) -> None:
        log.warning(
            "could not greet guild %s: owner DMs closed and no writable channel", item.guild_id
        )


def _writable_channels(guild: discord.Guild) -> list[discord.TextChannel]:
    me = guild.me
    candidates = sorted(guild.text_channels, key=lambda c: (c.position, c.id))
    if guild.system_channel is not None:
        candidates.insert(0, guild.system_channel)
    return [c for c in candidates if c.permissions_for(me).send_messages]


async def setup(bot: HearthBot) -> None:
    await bot.add_cog(Setup(bot))
