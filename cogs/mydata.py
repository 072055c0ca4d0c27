"""`/mydata show | export | delete`: a member's own data, theirs to see, take and remove.

In a server these cover that server; from a DM with Hearth they cover every server. Deleting
asks first, with a button only the person who asked can press.
"""

from __future__ import annotations

import io
import logging
from datetime import datetime

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HearthBot
from bot.errors import UserFacingError
from bot.features import FILL_PLACES
from bot.i18n import ENGLISH, N_, Nn_, Texts
from bot.i18n_discord import server_reason, texts, texts_for_guild
from bot.services.mydata import (
    AUDIT_MYDATA_DELETED,
    DeleteReport,
    KindCount,
    MyDataService,
    last_export_name,
)
from bot.services.timers import Timer
from cogs._pages import send_all
from cogs._routes import PersistentButton
from cogs._ui import DynamicView, hearth

log = logging.getLogger(__name__)


def _service(bot: HearthBot) -> MyDataService:
    return bot.service(MyDataService)


def _lines(items: list[KindCount], tr: Texts) -> list[str]:
    """One line per kind; the kinds are declared with their tables (`PersonColumn`, N_)."""
    return [
        tr.gettext("• {kind}: {count}").format(kind=tr.gettext(item.kind), count=item.count)
        for item in items
    ]


def describe_report(report: DeleteReport, guild_id: int | None, tr: Texts = ENGLISH) -> str:
    here = guild_id is not None
    if not report.removed and not report.anonymised:
        if here:
            return tr.gettext(
                "There was nothing about you to remove on this server. Nothing was changed."
            )
        return tr.gettext(
            "There was nothing about you to remove across every server we share. "
            "Nothing was changed."
        )
    if here:
        lines = [tr.gettext("Done. Here is what I removed on this server:")]
    else:
        lines = [tr.gettext("Done. Here is what I removed across every server we share:")]
    lines += _lines(report.removed, tr) or [tr.gettext("• nothing deleted outright")]
    if report.anonymised:
        lines += [
            "",
            tr.gettext(
                "Kept without your name (shown as “a former member”), so counts stay right:"
            ),
        ]
        lines += _lines(report.anonymised, tr)
    if report.kept:
        lines += ["", tr.gettext("Kept as they are (the server's record of admin actions):")]
        lines += _lines(report.kept, tr)
    return "\n".join(lines)


# A delete's follow-up in a server on another process's shard (a delete from a DM reaches shard
# 0's process, and covers every server): that process has the server at hand, so it is left to it
# as a timer, due now, and that process is woken (bot/services/outbox.WAKE_TOPIC).
AFTER_DELETE = "mydata.after_delete"


async def follow_up(bot: HearthBot, user_id: int, report: DeleteReport) -> None:
    """Take group roles away and move waitlists up, in each server the delete touched: here for
    the servers this process runs, through their own process for the others."""
    by_guild: dict[int, dict[str, list[int]]] = {}
    for guild_id, role_id in report.roles:
        by_guild.setdefault(guild_id, {"roles": [], "groups": []})["roles"].append(role_id)
    for guild_id, group_id in report.freed_groups:
        by_guild.setdefault(guild_id, {"roles": [], "groups": []})["groups"].append(group_id)
    now = bot.clock.now()
    for guild_id, work in by_guild.items():
        guild = bot.get_guild(guild_id)
        if guild is not None:
            await after_delete(bot, guild, user_id, work["roles"], work["groups"])
        elif await bot.in_server(guild_id):
            ref = f"{user_id}:{guild_id}:{int(now.timestamp())}"
            payload = {"user_id": user_id, **work}
            await bot.timers.schedule(guild_id, AFTER_DELETE, ref, now, payload, wake_owner=True)


async def after_delete(
    bot: HearthBot, guild: discord.Guild, user_id: int, roles: list[int], groups: list[int]
) -> None:
    await take_roles(bot, guild, user_id, roles)
    fill_places = bot.features.api(FILL_PLACES)
    if fill_places is not None:  # else the groups feature is not loaded: nobody to move up
        for group_id in groups:  # a deleted membership frees a place, as a leave would
            await fill_places(guild, group_id)


async def take_roles(bot: HearthBot, guild: discord.Guild, user_id: int, roles: list[int]) -> None:
    """Take group roles away after a delete; tell coordinators about any that could not be."""
    member = guild.get_member(user_id)
    if member is None:
        try:
            member = await guild.fetch_member(user_id)
        except discord.HTTPException:
            return  # no longer in the server: no role to take away
    why = await server_reason(bot, guild.id, N_("Member deleted their Hearth data (/mydata)"))
    for role_id in roles:
        role = guild.get_role(role_id)
        if role is None or role not in member.roles:
            continue
        try:
            await member.remove_roles(role, reason=why)
        except discord.HTTPException as exc:
            log.warning("could not remove a group role in guild %s: %s", guild.id, exc.code)
            tr = await texts_for_guild(bot, guild.id)
            await bot.alert(
                guild,
                tr.gettext(
                    "{member} deleted their Hearth data, but I couldn't take away the role "
                    "{role} (missing permission?). Please remove it by hand."
                ).format(member=f"<@{user_id}>", role=f"<@&{role_id}>"),
            )


class ConfirmDelete(PersistentButton, route="hearth:mydata:delete:{user}:{guild}"):
    """Only the member who asked can press it; guild 0 means every server (from a DM)."""

    def __init__(self, user_id: int, guild_id: int, tr: Texts = ENGLISH) -> None:
        super().__init__(
            self.button(
                user_id,
                guild_id,
                label=tr.gettext("Yes, delete my data"),
                style=discord.ButtonStyle.danger,
            )
        )
        self.user_id = user_id
        self.guild_id = guild_id

    async def callback(self, interaction: discord.Interaction) -> None:
        if interaction.user.id != self.user_id:
            raise UserFacingError(N_("Only the person who asked can confirm deleting their data."))
        bot = hearth(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        guild_id = self.guild_id or None
        report = await _service(bot).delete(guild_id, self.user_id)
        await follow_up(bot, self.user_id, report)
        for guild in bot.guilds if guild_id is None else [bot.get_guild(guild_id)]:
            if guild is not None and report.total:
                await bot.audit(
                    guild, 0, AUDIT_MYDATA_DELETED,
                    Nn_("{n} record", "{n} records"), n=report.total,
                )  # fmt: skip
        await send_all(interaction, describe_report(report, guild_id, await texts(interaction)))


class MyData(commands.Cog):
    mydata = app_commands.Group(name="mydata", description="See, export or delete your data")

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.add_dynamic_items(ConfirmDelete)
        self.bot.dispatcher.register_timer(AFTER_DELETE, self._after_delete)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ConfirmDelete)
        self.bot.dispatcher.unregister_timer(AFTER_DELETE)

    async def _after_delete(self, timer: Timer, now: datetime) -> None:
        """Another process's delete touched a server of ours (see `follow_up`)."""
        guild = self.bot.get_guild(timer.guild_id)
        if guild is None:  # Hearth left the server meanwhile: nothing to take or give
            return
        payload = timer.payload
        await after_delete(
            self.bot,
            guild,
            int(payload["user_id"]),
            [int(role) for role in payload["roles"]],
            [int(group) for group in payload["groups"]],
        )

    @mydata.command(name="show", description="What Hearth stores about you, with counts")
    async def show(self, interaction: discord.Interaction) -> None:
        guild_id = interaction.guild_id
        tr = await texts(interaction)
        counts = await _service(self.bot).summary(guild_id, interaction.user.id)
        if not counts:
            if guild_id is not None:
                text = tr.gettext("Hearth stores nothing that names you on this server.")
            else:
                text = tr.gettext(
                    "Hearth stores nothing that names you across every server we share."
                )
        else:
            if guild_id is not None:
                title = tr.gettext("What Hearth stores about you on this server:")
            else:
                title = tr.gettext("What Hearth stores about you across every server we share:")
            text = "\n".join(
                [
                    title,
                    *_lines(counts, tr),
                    "",
                    tr.gettext(
                        "`/mydata export` gives you all of it as a file; `/mydata delete` removes "
                        "it. Coordinators see counts, never your check-in answers or notes."
                    ),
                ]
            )
        await send_all(interaction, text)

    @mydata.command(name="export", description="Everything Hearth stores about you, as a file")
    async def export(self, interaction: discord.Interaction) -> None:
        tr = await texts(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await _service(self.bot).export_json(interaction.guild_id, interaction.user.id, tr)
        name = last_export_name(self.bot.clock.now())
        if interaction.guild_id is not None:
            text = tr.gettext(
                "Here is everything Hearth stores about you on this server. "
                "Only you can see this message."
            )
        else:
            text = tr.gettext(
                "Here is everything Hearth stores about you across every server we share. "
                "Only you can see this message."
            )
        await interaction.followup.send(
            text,
            file=discord.File(io.BytesIO(data), filename=name),
            ephemeral=True,
        )

    @mydata.command(name="delete", description="Delete your data (asks you first)")
    async def delete(self, interaction: discord.Interaction) -> None:
        guild_id = interaction.guild_id
        tr = await texts(interaction)
        view = DynamicView()
        view.add_item(ConfirmDelete(interaction.user.id, guild_id or 0, tr))
        if guild_id is not None:
            warning = tr.gettext(
                "This deletes what Hearth stores about you on this server: your check-in answers "
                "and notes, personal check-in schedules, guideline acceptances, group memberships "
                "and waitlist places (the group roles are taken away), training records and held "
                "messages. Rota shifts you did and support requests are kept without your name, "
                "so the server's counts stay right. **This can't be undone.**"
            )
        else:
            warning = tr.gettext(
                "This deletes what Hearth stores about you across every server we share: your "
                "check-in answers and notes, personal check-in schedules, guideline acceptances, "
                "group memberships and waitlist places (the group roles are taken away), training "
                "records and held messages. Rota shifts you did and support requests are kept "
                "without your name, so the server's counts stay right. **This can't be undone.**"
            )
        await interaction.response.send_message(
            warning,
            view=view,
            ephemeral=True,
        )


async def setup(bot: HearthBot) -> None:
    await bot.add_cog(MyData(bot))
