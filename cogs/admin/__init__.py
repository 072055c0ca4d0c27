"""`/admin …` for coordinators (settings, audit trail, export, permission check), and what
happens to a server's data after Hearth is removed from it."""

from __future__ import annotations

import io
import logging
from datetime import datetime, timedelta

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HearthBot
from bot.errors import UserFacingError
from bot.features import Feature
from bot.i18n import COMMAND_CHOICE, N_, Nn_
from bot.i18n_discord import texts
from bot.services.audit import MAX_AUDIT_DAYS, Phrase
from bot.services.export import AUDIT_EXPORT_CREATED, ExportService
from bot.services.locales import LANGUAGE
from bot.services.retention import PURGE_TIMER, RetentionService
from bot.services.setting_values import MAX_SETTING_VALUE
from bot.services.settings import (
    AUDIT_SETTINGS_CHANGED,
    MAX_SETTING_KEY,
    SETTING_KEYS,
    setting_field,
)
from bot.services.timers import Timer
from bot.tree import NO_MENTIONS
from cogs._pages import install_pages, send_paged
from cogs._ui import CoordinatorGroup, guild_of
from cogs.admin._audit import audit_arg
from cogs.admin._settings import key_choices, resolve_entity, settings_text, shown, value_phrase
from cogs.setup._languages import language_choices
from cogs.setup._permissions import check_permissions, describe_problems
from cogs.setup._timezones import label, suggest

log = logging.getLogger(__name__)

WITHHELD_NOTE = N_(
    "Private member data is never included: check-in answers and notes, personal schedules, "
    "messages held for members, and who asked for support."
)


class Admin(commands.Cog):
    admin = CoordinatorGroup(name="admin", description="Coordinator tools for Hearth")

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.exports = bot.service(ExportService)
        self.retention = bot.service(RetentionService)

    async def cog_load(self) -> None:
        install_pages(self.bot)
        self.bot.dispatcher.register_timer(PURGE_TIMER, self._purge)
        self.bot.features.add(
            Feature(name="admin", on_guild_added=self._kept, on_guild_removed=self._removed)
        )

    async def cog_unload(self) -> None:
        self.bot.features.remove("admin")
        self.bot.dispatcher.unregister_timer(PURGE_TIMER)

    # --- settings ----------------------------------------------------------------------------
    @admin.command(name="settings", description="Every Hearth setting for this server")
    async def settings(self, interaction: discord.Interaction) -> None:
        guild = guild_of(interaction)
        tr = await texts(interaction)
        current = await self.bot.settings.get(guild.id)
        embed = discord.Embed(
            title=tr.gettext("Hearth settings"),
            description=settings_text(guild, current, tr),
        )
        embed.set_footer(
            text=tr.gettext("Change one with /admin set, or roles and channels with /setup.")
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @admin.command(name="set", description="Change one Hearth setting")
    @app_commands.describe(
        key="The setting (start typing to search)",
        value="The new value, e.g. 4, on, 24,1, Europe/London, #channel, @role, or none",
    )
    async def set_(
        self,
        interaction: discord.Interaction,
        key: app_commands.Range[str, 1, MAX_SETTING_KEY],
        value: app_commands.Range[str, 1, MAX_SETTING_VALUE],
    ) -> None:
        guild = guild_of(interaction)
        if key not in SETTING_KEYS:
            raise UserFacingError(
                N_("There is no setting called `{key}`. `/admin settings` lists them all."),
                key=key[:60],
            )
        tr = await texts(interaction)
        raw = value
        if key.endswith(("_role_id", "_channel_id")):
            raw = resolve_entity(guild, key, value)
        before = getattr(await self.bot.settings.get(guild.id), key)
        updated = await self.bot.settings.set_from_text(guild.id, interaction.user.id, key, raw)
        after = getattr(updated, key)
        if before == after:
            await interaction.response.send_message(
                tr.gettext("`{key}` is already {value}; nothing changed.").format(
                    key=key, value=shown(guild, key, after, tr)
                ),
                ephemeral=True,
            )
            return
        await self.bot.audit(
            guild, interaction.user.id, AUDIT_SETTINGS_CHANGED, N_("{key}: {before} → {after}"),
            key=key, before=value_phrase(guild, key, before), after=value_phrase(guild, key, after),
        )  # fmt: skip
        await interaction.response.send_message(
            tr.gettext("Changed {key}: {before} → {after}.").format(
                key=key, before=shown(guild, key, before, tr), after=shown(guild, key, after, tr)
            ),
            ephemeral=True,
        )

    @set_.autocomplete("key")
    async def _key_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        tr = await texts(interaction)
        return [
            app_commands.Choice(name=name, value=key) for name, key in key_choices(current, tr=tr)
        ]

    @set_.autocomplete("value")
    async def _value_choices(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        key = str(getattr(interaction.namespace, "key", "") or "")
        if key not in SETTING_KEYS or interaction.guild is None:
            return []
        field = setting_field(key)
        tr = await texts(interaction)
        if field.annotation is bool:
            options = [(tr.gettext("on"), "on"), (tr.gettext("off"), "off")]
        elif key == "timezone":
            now = self.bot.clock.now()
            options = [(label(name, now, tr), name) for name in suggest(current)]
        elif key == LANGUAGE.name:
            options = [(tr.pgettext(COMMAND_CHOICE, c.name), c.value) for c in language_choices()]
        else:
            value = getattr(await self.bot.settings.get(interaction.guild.id), key)
            text = shown(interaction.guild, key, value, tr)
            raw = ",".join(map(str, value)) if isinstance(value, list) else str(value)
            current_text = tr.gettext("current: {value}").format(value=text)[:100]
            options = [(current_text, raw[:100])] if value is not None else []
        return [app_commands.Choice(name=name, value=raw) for name, raw in options]

    # --- audit trail -------------------------------------------------------------------------
    @admin.command(name="audit", description="Who did which admin action, and when")
    @app_commands.describe(member="Only this person's actions", days="How far back (default 30)")
    async def audit(
        self,
        interaction: discord.Interaction,
        member: discord.User | None = None,
        days: app_commands.Range[int, 1, MAX_AUDIT_DAYS] = 30,
    ) -> None:
        await send_paged(interaction, "audit", audit_arg(member.id if member else 0, days))

    # --- export ------------------------------------------------------------------------------
    @admin.command(name="export", description="Download this server's Hearth data (zip)")
    async def export(self, interaction: discord.Interaction) -> None:
        guild = guild_of(interaction)
        tr = await texts(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        archive = await self.exports.build(guild.id)
        size_limit = interaction.filesize_limit
        if len(archive.data) > size_limit:
            await interaction.followup.send(
                tr.gettext(
                    "The export is {size} MB, more than Discord lets me send here ({limit} MB). "
                    "Please ask whoever runs Hearth for a copy from the database instead. "
                    "Nothing was sent."
                ).format(size=f"{len(archive.data) / 1e6:.1f}", limit=f"{size_limit / 1e6:.0f}"),
                ephemeral=True,
            )
            return
        stamp = archive.created_at.strftime("%Y-%m-%d")
        file = discord.File(io.BytesIO(archive.data), filename=f"hearth-export-{stamp}.zip")
        await self.bot.audit(
            guild, interaction.user.id, AUDIT_EXPORT_CREATED, N_("{tables}, {rows}"),
            tables=Phrase(Nn_("{n} table", "{n} tables"), n=len(archive.tables)),
            rows=Phrase(Nn_("{n} row", "{n} rows"), n=archive.row_count),
        )  # fmt: skip
        tables = tr.ngettext("{n} table", "{n} tables", len(archive.tables)).format(
            n=len(archive.tables)
        )
        rows = tr.ngettext("{n} row", "{n} rows", archive.row_count).format(n=archive.row_count)
        await interaction.followup.send(
            tr.gettext(
                "Here is this server's Hearth data ({tables}, {rows}): `hearth-export.json` and "
                "one CSV per table. Times are Unix seconds (UTC)."
            ).format(tables=tables, rows=rows)
            + "\n"
            + tr.gettext(WITHHELD_NOTE),
            file=file,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    # --- permissions -------------------------------------------------------------------------
    @admin.command(name="permissions", description="Check that Hearth has the permissions it needs")
    async def permissions(self, interaction: discord.Interaction) -> None:
        guild = guild_of(interaction)
        tr = await texts(interaction)
        settings = await self.bot.settings.get(guild.id)
        await interaction.response.send_message(
            describe_problems(check_permissions(guild, settings, tr), tr)[:2000], ephemeral=True
        )

    # --- removal and retention ---------------------------------------------------------------
    def _window(self) -> timedelta:
        return timedelta(days=self.bot.config.defaults.removed_server_retention_days)

    async def _removed(self, guild_id: int) -> None:
        due = self.bot.clock.now() + self._window()
        await self._schedule_purge(guild_id, due)
        log.info("removed from guild %s; its data will be deleted at %s", guild_id, due)

    async def _kept(self, guild: discord.Guild) -> None:
        """A re-invite inside the window: keep everything (the purge also re-checks)."""
        if await self.bot.timers.cancel(PURGE_TIMER, str(guild.id)):
            log.info("re-invited to guild %s; its data is kept", guild.id)

    async def _schedule_purge(self, guild_id: int, due: datetime) -> None:
        await self.bot.timers.schedule(guild_id, PURGE_TIMER, str(guild_id), due)
        self.bot.dispatcher.poke(due)

    async def _purge(self, timer: Timer, now: datetime) -> None:
        outcome = await self.retention.purge_if_due(timer.guild_id, self._window())
        if outcome.status == "not_yet" and outcome.due_at is not None:
            await self._schedule_purge(timer.guild_id, outcome.due_at)
            return
        if outcome.status == "purged":
            self.bot.settings.forget(timer.guild_id)
            log.info(
                "deleted the data of guild %s, removed over %s ago (%d rows)",
                timer.guild_id,
                self._window(),
                outcome.total,
            )


async def setup(bot: HearthBot) -> None:
    await bot.add_cog(Admin(bot))
