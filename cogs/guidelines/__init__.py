"""`/guidelines`: boundary guidelines for the server and each group — edited in a form, versioned,
posted and pinned where people meet, accepted with a button, and required before joining a group.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import format_dt

from bot.app import HearthBot
from bot.errors import UserFacingError
from bot.features import Feature
from bot.i18n import N_, Nn_
from bot.i18n_discord import texts, texts_for_guild
from bot.services.audit import Phrase
from bot.services.group_names import GroupRef
from bot.services.guideline_posts import MAX_REPOST_DAYS, REPOST_KIND, GuidelinePostsService
from bot.services.guidelines import (
    AUDIT_GUIDELINES_EDITED,
    AUDIT_GUIDELINES_GATE_OFF,
    AUDIT_GUIDELINES_GATE_ON,
    AUDIT_GUIDELINES_POSTED,
    AUDIT_GUIDELINES_REPOST_SCHEDULED,
    AUDIT_GUIDELINES_REPOST_STOPPED,
    GuidelinesService,
    GuidelineVersion,
    starter_template,
)
from bot.tree import send_ephemeral
from cogs._pages import install_pages, send_all, send_paged
from cogs._ui import GroupName, audited, coordinator_only, guild_of, name_choices, record_audit
from cogs.guidelines._publish import (
    Publisher,
    Repost,
    RepostSource,
    agree_view,
)
from cogs.guidelines._status import status_text
from cogs.guidelines._views import (
    AGREE_LABEL,
    SERVER,
    AgreeButton,
    EditModal,
    GateAgreeButton,
    GuidelinesGate,
    guideline_embed,
    scope_label,
)

GROUP_OPTION = "A group's own guidelines (leave empty for the server's)"


class Guidelines(commands.Cog):
    guidelines = app_commands.Group(
        name="guidelines",
        description="Boundary guidelines for this server and its groups",
        guild_only=True,
    )
    repost = app_commands.Group(
        name="repost", description="Post the guidelines again on a schedule", parent=guidelines
    )

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.service = bot.service(GuidelinesService)
        self.posts = bot.service(GuidelinePostsService)
        self.publisher = Publisher(bot, self.service, self.posts)
        self.gate = GuidelinesGate(self)
        self.source = RepostSource(self.publisher)

    async def cog_load(self) -> None:
        install_pages(self.bot)
        self.bot.add_dynamic_items(AgreeButton, GateAgreeButton)
        self.bot.features.add(Feature(name="guidelines", join_gates=[self.gate]))
        self.bot.outbox.register(REPOST_KIND, Repost(self.publisher))
        self.bot.dispatcher.add_source(self.source)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(AgreeButton, GateAgreeButton)
        self.bot.features.remove("guidelines")
        self.bot.dispatcher.remove_source(self.source)
        self.bot.outbox.unregister(REPOST_KIND)
        self.publisher.close()

    # --- helpers -------------------------------------------------------------------------------
    async def _group(self, guild_id: int, name: str | None) -> GroupRef | None:
        return None if name is None else await self.service.find_group(guild_id, name)

    async def group_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        # Group names are stored at most 80 characters, within Discord's 100 for a choice.
        return await name_choices(
            interaction, lambda guild_id: self.service.search_groups(guild_id, current)
        )

    async def save_and_publish(
        self,
        interaction: discord.Interaction,
        group_id: int | None,
        group_name: str | None,
        text: str,
    ) -> None:
        """Save a new version, then bring every posted copy (and the role) up to date."""
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        tr = await texts(interaction)
        label = scope_label(group_name, tr)
        if group_id is not None and await self.service.group_name(guild.id, group_id) is None:
            raise UserFacingError(
                N_("That group was deleted while you were editing. Nothing was saved.")
            )
        version = await self.service.save(guild.id, group_id, text, interaction.user.id)
        if version is None:
            current = await self.service.current(guild.id, group_id)
            number = current.version if current else 0
            await send_ephemeral(
                interaction,
                tr.gettext(
                    "That's exactly the text of version {version} of {scope}, so no new version "
                    "was saved."
                ).format(version=number, scope=label),
            )
            return
        await record_audit(interaction, AUDIT_GUIDELINES_EDITED, N_("{scope}: version {version}"),
            scope=group_name or SERVER, version=version.version)  # fmt: skip
        report = await self.publisher.refresh_copies(guild, group_id, group_name, version)
        lines = [
            tr.gettext("Saved version {version} of {scope}.").format(
                version=version.version, scope=label
            )
        ]
        if report.updated:
            lines.append(
                tr.ngettext(
                    "Updated {n} posted copy.", "Updated {n} posted copies.", report.updated
                ).format(n=report.updated)
            )
        if report.problems:
            count = len(report.problems)
            lines.append(
                tr.ngettext(
                    "{n} posted copy couldn't be updated:",
                    "{n} posted copies couldn't be updated:",
                    count,
                ).format(n=count)
            )
            lines += [f"- {problem}" for problem in report.problems]
        settings = await self.bot.settings.get(guild.id)
        if group_id is None and settings.guidelines_role_id and version.version > 1:
            self.publisher.start_role_sweep(guild, version)
            lines.append(
                tr.gettext(
                    "The {role} role is being taken from members until they accept the new version."
                ).format(role=f"<@&{settings.guidelines_role_id}>")
            )
        await send_all(interaction, "\n".join(lines))

    # --- coordinators --------------------------------------------------------------------------
    @guidelines.command(
        name="edit", description="Write or change the guidelines (saves a new version)"
    )
    @app_commands.describe(group=GROUP_OPTION)
    @coordinator_only()
    async def edit(self, interaction: discord.Interaction, group: GroupName | None = None) -> None:
        guild = guild_of(interaction)
        ref = await self._group(guild.id, group)
        current = await self.service.current(guild.id, ref.id if ref else None)
        if current is not None:
            text = current.body
        else:
            text = starter_template(await texts_for_guild(self.bot, guild.id))
        await interaction.response.send_modal(
            EditModal(
                ref.id if ref else None, ref.name if ref else None, text, await texts(interaction)
            )
        )

    edit.autocomplete("group")(group_autocomplete)

    @guidelines.command(name="template", description="Show the starter template for guidelines")
    @coordinator_only()
    async def template(self, interaction: discord.Interaction) -> None:
        tr = await texts(interaction)
        guild = guild_of(interaction)
        embed = discord.Embed(
            title=tr.gettext("Starter template"),
            description=starter_template(await texts_for_guild(self.bot, guild.id)),
            colour=discord.Colour.light_grey(),
        )
        await interaction.response.send_message(
            tr.gettext(
                "This is the starting text `/guidelines edit` offers when there are no guidelines "
                "yet. Change anything you like before saving."
            ),
            embed=embed,
            ephemeral=True,
        )

    @guidelines.command(name="post", description="Post the guidelines in a channel and pin them")
    @app_commands.describe(channel="Where to post them", group=GROUP_OPTION)
    @coordinator_only()
    async def post(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        group: GroupName | None = None,
    ) -> None:
        guild = guild_of(interaction)
        ref = await self._group(guild.id, group)
        group_id, group_name = (ref.id, ref.name) if ref else (None, None)
        version = await self._require_current(guild.id, group_id, group_name)
        await interaction.response.defer(ephemeral=True, thinking=True)
        outcome = await self.publisher.post_copy(
            guild, channel, group_id, group_name, version, interaction.user.id
        )
        await record_audit(interaction, AUDIT_GUIDELINES_POSTED,
            N_("{scope} version {version} in #{channel}"), scope=group_name or SERVER,
            version=version.version, channel=channel.name)  # fmt: skip
        tr = await texts(interaction)
        posted = (
            tr.gettext("Posted version {version} of {scope} in {channel} and pinned it.")
            if outcome.pinned
            else tr.gettext("Posted version {version} of {scope} in {channel}.")
        )
        lines = [
            posted.format(
                version=version.version,
                scope=scope_label(group_name, tr),
                channel=channel.mention,
            )
        ]
        if outcome.replaced:
            lines.append(
                tr.gettext("The earlier copy there was unpinned and will no longer be updated.")
            )
        if outcome.pin_problem:
            lines.append(outcome.pin_problem)
        lines.append(tr.gettext("It will be updated in place whenever you save a new version."))
        await send_ephemeral(interaction, "\n".join(lines))

    post.autocomplete("group")(group_autocomplete)

    @repost.command(name="start", description="Post a fresh copy every few days (old one unpinned)")
    @app_commands.describe(
        channel="Where to post them", every_days="How many days between copies", group=GROUP_OPTION
    )
    @coordinator_only()
    async def repost_start(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        every_days: app_commands.Range[int, 1, MAX_REPOST_DAYS],
        group: GroupName | None = None,
    ) -> None:
        guild = guild_of(interaction)
        ref = await self._group(guild.id, group)
        group_id, group_name = (ref.id, ref.name) if ref else (None, None)
        await self._require_current(guild.id, group_id, group_name)
        zone = ZoneInfo((await self.bot.settings.get(guild.id)).timezone)
        schedule = await self.posts.set_repost(
            guild.id, group_id, channel.id, every_days, zone, interaction.user.id
        )
        self.bot.dispatcher.poke(schedule.next_due_at)
        due = schedule.next_due_at
        tr = await texts(interaction)
        repost = Nn_("{scope} every {n} day in #{channel}", "{scope} every {n} days in #{channel}")
        logged = Phrase(repost, scope=group_name or SERVER, n=every_days, channel=channel.name)
        await audited(
            interaction,
            AUDIT_GUIDELINES_REPOST_SCHEDULED,
            logged,
            (
                tr.gettext(
                    "I'll post a fresh copy of {scope} in {channel} every "
                    "day, unpinning the previous one. The next is {when} ({relative}). "
                    "Use `/guidelines post` if you'd like one there right now."
                )
                if every_days == 1
                # Two or more days (the plural form; the singular is the sentence above).
                else tr.ngettext(
                    "I'll post a fresh copy of {scope} in {channel} every "
                    "{n} day, unpinning the previous one. The next is {when} ({relative}). "
                    "Use `/guidelines post` if you'd like one there right now.",
                    "I'll post a fresh copy of {scope} in {channel} every "
                    "{n} days, unpinning the previous one. The next is {when} ({relative}). "
                    "Use `/guidelines post` if you'd like one there right now.",
                    every_days,
                )
            ).format(
                n=every_days,
                scope=scope_label(group_name, tr),
                channel=channel.mention,
                when=format_dt(due, "F"),
                relative=format_dt(due, "R"),
            ),
        )

    repost_start.autocomplete("group")(group_autocomplete)

    @repost.command(name="stop", description="Stop re-posting the guidelines in a channel")
    @app_commands.describe(channel="The channel to stop re-posting in")
    @coordinator_only()
    async def repost_stop(
        self, interaction: discord.Interaction, channel: discord.TextChannel
    ) -> None:
        guild = guild_of(interaction)
        stopped = await self.posts.stop_reposts(guild.id, channel.id)
        if not stopped:
            raise UserFacingError(
                N_("Nothing is being re-posted in {channel}."), channel=channel.mention
            )
        tr = await texts(interaction)
        await audited(
            interaction,
            AUDIT_GUIDELINES_REPOST_STOPPED,
            Phrase(N_("#{channel}"), channel=channel.name),
            tr.gettext(
                "Stopped re-posting in {channel}. The copy already there stays pinned and "
                "is still updated when you save a new version."
            ).format(channel=channel.mention),
        )

    @guidelines.command(name="status", description="How many members accepted the guidelines")
    @app_commands.describe(group=GROUP_OPTION)
    @coordinator_only()
    async def status(
        self, interaction: discord.Interaction, group: GroupName | None = None
    ) -> None:
        guild = guild_of(interaction)
        ref = await self._group(guild.id, group)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await send_ephemeral(interaction, await status_text(self, interaction, guild, ref))

    status.autocomplete("group")(group_autocomplete)

    @guidelines.command(name="history", description="Every version, with when and who edited it")
    @app_commands.describe(group=GROUP_OPTION)
    @coordinator_only()
    async def history(
        self, interaction: discord.Interaction, group: GroupName | None = None
    ) -> None:
        guild = guild_of(interaction)
        ref = await self._group(guild.id, group)
        versions, _ = await self.service.history(guild.id, ref.id if ref else None, limit=1)
        if not versions:
            if ref is None:
                raise UserFacingError(N_("There are no versions of the server guidelines yet."))
            raise UserFacingError(
                N_("There are no versions of the guidelines for **{group}** yet."), group=ref.name
            )
        await send_paged(interaction, "guide_history", str(ref.id if ref else 0))

    history.autocomplete("group")(group_autocomplete)

    @guidelines.command(
        name="gate", description="Require accepting guidelines before joining a group"
    )
    @app_commands.describe(
        group="The group", enabled="On: joining needs accepting; off: it doesn't"
    )
    @coordinator_only()
    async def gate_command(
        self, interaction: discord.Interaction, group: GroupName, enabled: bool
    ) -> None:
        guild = guild_of(interaction)
        ref = await self.service.find_group(guild.id, group)
        changed = await self.service.set_gate(guild.id, ref.id, enabled, interaction.user.id)
        tr = await texts(interaction)
        if enabled:
            text = tr.gettext("Members joining **{group}** need to accept the guidelines first.")
            already = tr.gettext(
                "That was already so: members joining **{group}** need to accept the "
                "guidelines first."
            )
        else:
            text = tr.gettext("Members can join **{group}** without accepting the guidelines.")
            already = tr.gettext(
                "That was already so: members can join **{group}** without accepting the "
                "guidelines."
            )
        text = text.format(group=ref.name)
        if not changed:
            await send_ephemeral(interaction, already.format(group=ref.name))
            return
        action = AUDIT_GUIDELINES_GATE_ON if enabled else AUDIT_GUIDELINES_GATE_OFF
        await audited(interaction, action, Phrase(N_("{name}"), name=ref.name), text)

    gate_command.autocomplete("group")(group_autocomplete)

    # --- everyone ------------------------------------------------------------------------------
    @guidelines.command(name="show", description="Read the guidelines (only you see them)")
    @app_commands.describe(group=GROUP_OPTION)
    async def show(self, interaction: discord.Interaction, group: GroupName | None = None) -> None:
        guild = guild_of(interaction)
        ref = await self._group(guild.id, group)
        group_id, group_name = (ref.id, ref.name) if ref else (None, None)
        version = await self._require_current(guild.id, group_id, group_name)
        accepted = await self.service.has_accepted(
            guild.id, group_id, version.version, interaction.user.id
        )
        tr = await texts(interaction)
        note = (
            tr.gettext("You've accepted this version. Thank you!")
            if accepted
            else tr.gettext("Press **{agree}** once you've read them.").format(
                agree=tr.gettext(AGREE_LABEL)
            )
        )
        await interaction.response.send_message(
            note,
            embed=guideline_embed(version, group_name, tr),
            view=agree_view(group_id, tr),
            ephemeral=True,
        )

    show.autocomplete("group")(group_autocomplete)

    async def _require_current(
        self, guild_id: int, group_id: int | None, group_name: str | None
    ) -> GuidelineVersion:
        version = await self.service.current(guild_id, group_id)
        if version is None:
            if group_name is None:
                raise UserFacingError(
                    N_(
                        "There are no server guidelines yet. A coordinator can write them with "
                        "`/guidelines edit`."
                    )
                )
            raise UserFacingError(
                N_(
                    "There are no guidelines for **{group}** yet. A coordinator can write them "
                    "with `/guidelines edit`."
                ),
                group=group_name,
            )
        return version


async def setup(bot: HearthBot) -> None:
    await bot.add_cog(Guidelines(bot))
