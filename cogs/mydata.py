"""`/mydata show | export | delete`: a member's own data, theirs to see, take and remove.

In a server these cover that server; from a DM with Hearth they cover every server. Deleting
asks first, with a button only the person who asked can press.
"""

from __future__ import annotations

import io
import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HearthBot
from bot.errors import UserFacingError
from bot.features import FILL_PLACES
from bot.services.mydata import (
    AUDIT_MYDATA_DELETED,
    DeleteReport,
    KindCount,
    MyDataService,
    last_export_name,
)
from cogs._pages import send_all
from cogs._routes import PersistentButton
from cogs._ui import DynamicView, hearth

log = logging.getLogger(__name__)


def _service(bot: HearthBot) -> MyDataService:
    return bot.service(MyDataService)


def _scope(guild_id: int | None) -> str:
    return "on this server" if guild_id is not None else "across every server we share"


def _lines(items: list[KindCount]) -> list[str]:
    return [f"• {item.kind}: {item.count}" for item in items]


def describe_report(report: DeleteReport, guild_id: int | None) -> str:
    if not report.removed and not report.anonymised:
        return f"There was nothing about you to remove {_scope(guild_id)}. Nothing was changed."
    lines = [f"Done. Here is what I removed {_scope(guild_id)}:"]
    lines += _lines(report.removed) or ["• nothing deleted outright"]
    if report.anonymised:
        lines += ["", "Kept without your name (shown as “a former member”), so counts stay right:"]
        lines += _lines(report.anonymised)
    if report.kept:
        lines += ["", "Kept as they are (the server's record of admin actions):"]
        lines += _lines(report.kept)
    return "\n".join(lines)


async def take_roles(bot: HearthBot, user_id: int, roles: list[tuple[int, int]]) -> None:
    """Take group roles away after a delete; tell coordinators about any that could not be."""
    for guild_id, role_id in roles:
        guild = bot.get_guild(guild_id)
        if guild is None:
            continue
        member = guild.get_member(user_id)
        if member is None:
            try:
                member = await guild.fetch_member(user_id)
            except discord.HTTPException:
                continue  # no longer in the server: no role to take away
        role = guild.get_role(role_id)
        if role is None or role not in member.roles:
            continue
        try:
            await member.remove_roles(role, reason="Member deleted their Hearth data (/mydata)")
        except discord.HTTPException as exc:
            log.warning("could not remove a group role in guild %s: %s", guild_id, exc.code)
            await bot.alert(
                guild,
                f"<@{user_id}> deleted their Hearth data, but I couldn't take away the role "
                f"<@&{role_id}> (missing permission?). Please remove it by hand.",
            )


async def promote_waitlists(bot: HearthBot, freed: list[tuple[int, int]]) -> None:
    """A deleted membership frees a place: move the next person waiting up, as a leave would."""
    fill_places = bot.features.api(FILL_PLACES)
    if fill_places is None:  # the groups feature is not loaded: nobody to move up
        return
    for guild_id, group_id in freed:
        guild = bot.get_guild(guild_id)
        if guild is not None:
            await fill_places(guild, group_id)


class ConfirmDelete(PersistentButton, route="hearth:mydata:delete:{user}:{guild}"):
    """Only the member who asked can press it; guild 0 means every server (from a DM)."""

    def __init__(self, user_id: int, guild_id: int) -> None:
        super().__init__(
            self.button(
                user_id, guild_id, label="Yes, delete my data", style=discord.ButtonStyle.danger
            )
        )
        self.user_id = user_id
        self.guild_id = guild_id

    async def callback(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            raise UserFacingError("Only the person who asked can confirm deleting their data.")
        bot = hearth(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = self.guild_id or None
        report = await _service(bot).delete(guild_id, self.user_id)
        await take_roles(bot, self.user_id, report.roles)
        await promote_waitlists(bot, report.freed_groups)
        for guild in bot.guilds if guild_id is None else [bot.get_guild(guild_id)]:
            if guild is not None and report.total:
                await bot.audit(guild, 0, AUDIT_MYDATA_DELETED, f"{report.total} records")
        await send_all(interaction, describe_report(report, guild_id))


class MyData(commands.Cog):
    mydata = app_commands.Group(name="mydata", description="See, export or delete your data")

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ConfirmDelete)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ConfirmDelete)

    @mydata.command(name="show", description="What Hearth stores about you, with counts")
    async def show(self, interaction: discord.Interaction) -> None:
        guild_id = interaction.guild_id
        counts = await _service(self.bot).summary(guild_id, interaction.user.id)
        if not counts:
            text = f"Hearth stores nothing that names you {_scope(guild_id)}."
        else:
            text = "\n".join(
                [
                    f"What Hearth stores about you {_scope(guild_id)}:",
                    *_lines(counts),
                    "",
                    "`/mydata export` gives you all of it as a file; `/mydata delete` removes it. "
                    "Coordinators see counts, never your check-in answers or notes.",
                ]
            )
        await send_all(interaction, text)

    @mydata.command(name="export", description="Everything Hearth stores about you, as a file")
    async def export(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await _service(self.bot).export_json(interaction.guild_id, interaction.user.id)
        name = last_export_name(self.bot.clock.now())
        await interaction.followup.send(
            f"Here is everything Hearth stores about you {_scope(interaction.guild_id)}. "
            "Only you can see this message.",
            file=discord.File(io.BytesIO(data), filename=name),
            ephemeral=True,
        )

    @mydata.command(name="delete", description="Delete your data (asks you first)")
    async def delete(self, interaction: discord.Interaction) -> None:
        guild_id = interaction.guild_id
        view = DynamicView()
        view.add_item(ConfirmDelete(interaction.user.id, guild_id or 0))
        await interaction.response.send_message(
            f"This deletes what Hearth stores about you {_scope(guild_id)}: your check-in answers "
            "and notes, personal check-in schedules, guideline acceptances, group memberships "
            "and waitlist places (the group roles are taken away), training records and held "
            "messages. Rota shifts you did and support requests are kept without your name, so "
            "the server's counts stay right. **This can't be undone.**",
            view=view,
            ephemeral=True,
        )


async def setup(bot: HearthBot) -> None:
    await bot.add_cog(MyData(bot))
