"""`/about` and `/help`, and delivery of notices held while a member's DMs were closed."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.app import HearthBot
from bot.i18n import COMMAND_DESCRIPTION, COMMAND_NAME, N_, Texts
from bot.i18n_discord import texts
from cogs._ui import deliver_notices, is_coordinator, requires_coordinator

EMBED_FIELDS = 25  # Discord's most per embed; more top-level commands go on to another embed
NOT_A_CRISIS_SERVICE = N_(
    "Hearth is a peer-support tool, not a crisis service, and its volunteers are peers, not "
    "professionals. If you are in immediate danger, contact your local emergency services; "
    "`/crisis` lists helplines where this server has added them."
)


# What `/help command:` may hold: a command path as typed, "/" and up to three names of
# Discord's 32 characters.
MAX_COMMAND_PATH = 1 + 3 * 32 + 2


def _duration(seconds: float, tr: Texts) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [tr.gettext("{days}d").format(days=days)] if days else []
    if days or hours:
        parts.append(tr.gettext("{hours}h").format(hours=hours))
    parts.append(tr.gettext("{minutes}m").format(minutes=minutes))
    return " ".join(parts)


def _flatten(commands_: list[Any]) -> list[app_commands.Command[Any, ..., Any]]:
    flat: list[app_commands.Command[Any, ..., Any]] = []
    for command in commands_:
        if isinstance(command, app_commands.Group):
            flat.extend(_flatten(command.commands))
        elif isinstance(command, app_commands.Command):
            flat.append(command)
    return flat


def _root(command: app_commands.Command[Any, ..., Any]) -> Any:
    return command.root_parent or command


def _name(path: str, tr: Texts) -> str:
    """A command path ("rota swap offer") as the reader's client shows it ("turnos …")."""
    return " ".join(tr.pgettext(COMMAND_NAME, part) for part in path.split(" "))


def _typed_name(root: str, tr: Texts) -> str:
    """A command's name as a person types it in `tr`'s language (the catalogue's own text, for
    comparing with what they typed)."""
    return tr.translated(COMMAND_NAME, root) or root


def _description(command: Any, tr: Texts) -> str:
    return tr.pgettext(COMMAND_DESCRIPTION, command.description)


class Core(commands.Cog):
    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="What Hearth is, and what it is not")
    async def about(self, interaction: discord.Interaction) -> None:
        tr = await texts(interaction)
        lines = [
            tr.gettext("**Hearth {version}** — a peer-support companion for this server.").format(
                version=__version__
            ),
            tr.gettext("Running for {uptime}.").format(
                uptime=_duration(self.bot.uptime_seconds, tr)
            ),
        ]
        if interaction.guild_id is not None:
            counts = []
            for (singular, plural), counter in self.bot.features.about():
                n = await counter(interaction.guild_id)
                counts.append(tr.ngettext(singular, plural, n).format(n=n))
            if counts:
                lines.append(
                    tr.gettext("This server has {counts}.").format(counts=", ".join(counts))
                )
        lines.append("")
        lines.append(tr.gettext(NOT_A_CRISIS_SERVICE))
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    def usable_commands(
        self, interaction: discord.Interaction, coordinator: bool
    ) -> list[app_commands.Command[Any, ..., Any]]:
        """Commands this person may run here: Discord's defaults plus Hearth's own check."""
        usable = []
        for command in _flatten(self.bot.tree.get_commands()):
            root = _root(command)
            if interaction.guild is None and (root.guild_only or command.guild_only):
                continue
            defaults = root.default_permissions
            if (
                defaults is not None
                and defaults.value
                and not (coordinator or interaction.permissions >= defaults)
            ):
                continue
            if requires_coordinator(command) and not coordinator:
                continue
            usable.append(command)
        return sorted(usable, key=lambda command: command.qualified_name)

    @app_commands.command(name="help", description="The commands you can use here")
    @app_commands.describe(command="Show the details of one command, e.g. group")
    async def help(
        self,
        interaction: discord.Interaction,
        command: app_commands.Range[str, 1, MAX_COMMAND_PATH] | None = None,
    ) -> None:
        coordinator = interaction.guild is not None and await is_coordinator(interaction)
        tr = await texts(interaction)
        by_root: dict[str, list[app_commands.Command[Any, ..., Any]]] = {}
        for usable in self.usable_commands(interaction, coordinator):
            by_root.setdefault(_root(usable).name, []).append(usable)

        if command is not None:
            name = command.strip().lstrip("/").split(" ")[0].lower()
            # typed as the reader's client shows it ("acerca"): the command it stands for
            name = next((root for root in by_root if _typed_name(root, tr) == name), name)
            if name not in by_root:
                await interaction.response.send_message(
                    tr.gettext(
                        "There's no command `{command}` that you can use here. `/help` lists them."
                    ).format(command=f"/{name}"),
                    ephemeral=True,
                )
                return
            lines = [
                f"`/{_name(c.qualified_name, tr)}` — {_description(c, tr)}" for c in by_root[name]
            ]
            embed = discord.Embed(title=f"/{_name(name, tr)}", description="\n".join(lines))
            await interaction.response.send_message(embed=embed, ephemeral=True)
            return

        title = (
            tr.gettext("Commands you can use (including coordinator tools)")
            if coordinator
            else tr.gettext("Commands you can use")
        )
        embeds = [
            discord.Embed(
                title=title,
                description=tr.gettext("`/help command:<name>` shows what each one does."),
            )
        ]
        for root_name, members in by_root.items():
            if len(members) == 1 and members[0].parent is None:
                value = _description(members[0], tr)
            else:
                value = " · ".join(
                    _name(c.qualified_name.removeprefix(root_name + " "), tr) for c in members
                )
            if len(embeds[-1].fields) >= EMBED_FIELDS:
                embeds.append(discord.Embed())
            embeds[-1].add_field(name=f"/{_name(root_name, tr)}", value=value, inline=False)
        await interaction.response.send_message(embeds=embeds, ephemeral=True)

    @help.autocomplete("command")
    async def help_command_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        coordinator = interaction.guild is not None and await is_coordinator(interaction)
        tr = await texts(interaction)
        roots = sorted({_root(c).name for c in self.usable_commands(interaction, coordinator)})
        typed = current.lower().lstrip("/")
        tr = await texts(interaction)  # each shown as the reader's client names it
        return [
            app_commands.Choice(name=f"/{_name(n, tr)}", value=n)
            for n in roots
            if typed in n or typed in _typed_name(n, tr)
        ][:25]

    @commands.Cog.listener()
    async def on_app_command_completion(
        self, interaction: discord.Interaction, command: app_commands.Command[Any, ..., Any]
    ) -> None:
        await deliver_notices(interaction)


async def setup(bot: HearthBot) -> None:
    await bot.add_cog(Core(bot))
