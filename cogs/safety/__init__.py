"""Safety: `/support` to reach the on-duty supporters, `/crisis`, and the optional keyword watch.

Also installs the support router, so a member's "yes, please reach out" from a check-in opens a
request exactly like `/support`. (A supporter's debrief "yes" is the rota's own follow-up, taken
by one coordinator: cogs.rota._wellbeing.)
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import HearthBot
from bot.errors import UserFacingError
from bot.features import SUPPORT_ROUTING, Feature, support_source
from bot.i18n_discord import texts, texts_for_guild, texts_for_member
from bot.services.crisis import CrisisService, crisis_text
from bot.services.support import MAX_NOTE, UNCLAIMED_TIMER, unclaimed_outbox
from bot.services.text import split_text
from bot.tree import NO_MENTIONS
from cogs._pages import install_pages, send_all
from cogs._ui import CoordinatorGroup, DynamicView, guild_of
from cogs.safety._admin import CrisisAdmin
from cogs.safety._support import (
    CLOSE_LABEL,
    ClaimButton,
    CloseButton,
    UnclaimedAlert,
    open_request,
)
from cogs.safety._watch import watch_message

log = logging.getLogger(__name__)


class Safety(commands.Cog):
    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.crisis_admin = CrisisAdmin()
        self.own_admin: CoordinatorGroup | None = None

    async def cog_load(self) -> None:
        install_pages(self.bot)
        self.bot.add_dynamic_items(ClaimButton, CloseButton)
        self.bot.outbox.register(UNCLAIMED_TIMER, UnclaimedAlert(self.bot))
        self.bot.dispatcher.register_timer_outbox(UNCLAIMED_TIMER, unclaimed_outbox)
        self.bot.features.add(Feature(name="safety").offering(SUPPORT_ROUTING, self.route))
        admin = self.bot.tree.get_command("admin")
        if isinstance(admin, app_commands.Group):
            admin.add_command(self.crisis_admin)
        else:  # the admin feature is absent: keep `/admin crisis` reachable anyway
            self.own_admin = CoordinatorGroup(name="admin", description="Coordinator tools")
            self.own_admin.add_command(self.crisis_admin)
            self.bot.tree.add_command(self.own_admin)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(ClaimButton, CloseButton)
        self.bot.dispatcher.unregister_timer(UNCLAIMED_TIMER)
        self.bot.outbox.unregister(UNCLAIMED_TIMER)
        self.bot.features.remove("safety")
        if self.own_admin is not None:
            self.bot.tree.remove_command("admin")
            self.own_admin = None
        else:
            admin = self.bot.tree.get_command("admin")
            if isinstance(admin, app_commands.Group):
                admin.remove_command("crisis")

    async def route(self, guild_id: int, user_id: int, source: str) -> str:
        """A member's explicit yes from elsewhere in Hearth; returns what to tell them."""
        guild = self.bot.get_guild(guild_id)
        tr = await texts_for_member(self.bot, guild_id, user_id)
        if guild is None and await self.bot.in_server(guild_id):
            # Another process runs the server's shard (the yes came from a DM): a request needs
            # the server at hand, so its coordinators are alerted instead, through that process.
            server = await texts_for_guild(self.bot, guild_id)
            await self.bot.alert(
                discord.Object(guild_id),
                server.gettext(
                    "{member} asked for someone to reach out to them (from {source})."
                ).format(member=f"<@{user_id}>", source=support_source(server, source)),
            )
            return tr.gettext(
                "Thank you for telling me. I've asked the coordinators to reach out to you; "
                "someone will. If you need help urgently, `/crisis` lists helplines."
            )
        if guild is None:
            return tr.gettext(
                "I couldn't reach this server just now. Please use `/crisis` if you need help."
            )
        try:
            text, _ = await open_request(
                self.bot, guild, user_id, "checkin" if source == "checkin" else "support", None, tr
            )
        except UserFacingError as exc:
            return exc.text(tr)
        return text

    # --- commands ------------------------------------------------------------------------------
    @app_commands.command(name="support", description="I'd like to talk to a peer supporter")
    @app_commands.describe(note="Anything you'd like them to know first (only they will see it)")
    @app_commands.guild_only()
    async def support(
        self, interaction: discord.Interaction, note: app_commands.Range[str, 0, MAX_NOTE] = ""
    ) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        tr = await texts(interaction)
        text, request = await open_request(
            self.bot, guild, interaction.user.id, "support", note.strip() or None, tr
        )
        view = None
        if request.thread_id is None:
            view = DynamicView()
            view.add_item(CloseButton(request.guild_id, request.id, tr.gettext(CLOSE_LABEL)))
        *first, last = split_text(text)
        for part in first:
            await interaction.followup.send(part, ephemeral=True, allowed_mentions=NO_MENTIONS)
        await interaction.followup.send(
            last, ephemeral=True, allowed_mentions=NO_MENTIONS, view=view or discord.utils.MISSING
        )

    @app_commands.command(name="crisis", description="Helplines and what to do in an emergency")
    async def crisis(self, interaction: discord.Interaction) -> None:
        resources = []
        if interaction.guild_id is not None:
            resources = await self.bot.service(CrisisService).resources(interaction.guild_id)
        tr = await texts(interaction)
        await send_all(
            interaction, crisis_text(resources, in_server=interaction.guild_id is not None, tr=tr)
        )

    # --- the keyword watch -----------------------------------------------------------------------
    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        await watch_message(self.bot, message)


async def setup(bot: HearthBot) -> None:
    await bot.add_cog(Safety(bot))
