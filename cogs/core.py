"""`/about` and `/help`, and delivery of notices held while a member's DMs were closed."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import __version__
from bot.app import HearthBot
from cogs._ui import deliver_notices, is_coordinator, requires_coordinator

NOT_A_CRISIS_SERVICE = (
    "Hearth is a peer-support tool, not a crisis service, and its volunteers are peers, not "
    "professionals. If you are in immediate danger, contact your local emergency services; "
    "`/crisis` lists helplines where this server has added them."
)


def _duration(seconds: float) -> str:
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}d"] if days else []
    if days or hours:
        parts.append(f"{hours}h")
    parts.append(f"{minutes}m")
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


class Core(commands.Cog):
    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

    @app_commands.command(name="about", description="What Hearth is, and what it is not")
    async def about(self, interaction: discord.Interaction) -> None:
        lines = [
            f"**Hearth {__version__}** — a peer-support companion for this server.",
            f"Running for {_duration(self.bot.uptime_seconds)}.",
        ]
        if interaction.guild_id is not None:
            counts = [
                f"{await counter(interaction.guild_id)} {label}"
                for label, counter in self.bot.about_stats.items()
            ]
            if counts:
                lines.append("This server has " + ", ".join(counts) + ".")
        lines.append("")
        lines.append(NOT_A_CRISIS_SERVICE)
        await interaction.response.send_message("\n".join(lines), ephemeral=True)

    @app_commands.command(name="help", description="The commands you can use here")
    async def help(self, interaction: discord.Interaction) -> None:
        coordinator = interaction.guild is not None and await is_coordinator(interaction)
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
        usable.sort(key=lambda command: command.qualified_name)
        lines = [f"`/{command.qualified_name}` — {command.description}" for command in usable]
        header = "**Commands you can use**" + (
            " (including coordinator tools)" if coordinator else ""
        )
        body = "\n".join(lines)
        await interaction.response.send_message(f"{header}\n{body}"[:2000], ephemeral=True)

    @commands.Cog.listener()
    async def on_app_command_completion(
        self, interaction: discord.Interaction, command: app_commands.Command[Any, ..., Any]
    ) -> None:
        await deliver_notices(interaction)


async def setup(bot: HearthBot) -> None:
    await bot.add_cog(Core(bot))
