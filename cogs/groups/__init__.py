"""`/group`: peer groups members sign up for, with capacity, waitlists and a sign-up panel.

Members: list, info, join, leave. Coordinators (runtime-checked): create, edit, archive, remove,
members, panel. The join flow itself (gates, places, roles, promotion) is in `_flow.py`.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.app import HearthBot
from bot.errors import UserFacingError
from bot.features import CONTINUE_JOIN, FILL_PLACES, Feature
from bot.i18n import N_, Nn_, Texts
from bot.i18n_discord import server_reason, texts, texts_for_guild, texts_for_member
from bot.services.group_membership import MembershipService
from bot.services.group_names import GroupState
from bot.services.groups import (
    AUDIT_GROUP_ARCHIVED,
    AUDIT_GROUP_CREATED,
    AUDIT_GROUP_EDITED,
    AUDIT_GROUP_MEMBER_REMOVED,
    AUDIT_GROUP_PANEL_POSTED,
    AUDIT_GROUP_REOPENED,
    CAPACITY_MAX,
    DESCRIPTION_MAX,
    MEETS_MAX,
    UNCHANGED,
    GroupService,
    Unchanged,
)
from bot.tree import send_ephemeral
from cogs._pages import install_pages, send_paged
from cogs._ui import GroupName, coordinator_only, guild_of, name_choices, record_audit
from cogs.groups._discord import (
    change_role,
    check_assignable,
    create_group_role,
    create_private_channel,
)
from cogs.groups._flow import PROMOTION_KIND, GroupFlow, PromotionDM
from cogs.groups._views import (
    PERSISTENT_ITEMS,
    archived_text,
    group_details,
    info_embed,
    panel_messages,
    spaces_text,
)

log = logging.getLogger(__name__)

Capacity = app_commands.Range[int, 0, CAPACITY_MAX]
Description = app_commands.Range[str, 1, DESCRIPTION_MAX]
Meets = app_commands.Range[str, 1, MEETS_MAX]


class Groups(GroupFlow):
    group = app_commands.Group(
        name="group", description="Peer groups: find one, join or leave", guild_only=True
    )

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.groups = bot.service(GroupService)
        self.members = bot.service(MembershipService)
        self._init_flow()

    async def cog_load(self) -> None:
        install_pages(self.bot)
        self.bot.add_dynamic_items(*PERSISTENT_ITEMS)
        self.bot.outbox.register(PROMOTION_KIND, PromotionDM(self.bot, self.members))
        self.bot.features.add(
            Feature(name="groups", about={Nn_("{n} group", "{n} groups"): self.groups.count_open})
            .offering(FILL_PLACES, self.fill_places)
            .offering(CONTINUE_JOIN, self.continue_join)
        )

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*PERSISTENT_ITEMS)
        self.bot.outbox.unregister(PROMOTION_KIND)
        self.bot.features.remove("groups")

    # --- autocomplete --------------------------------------------------------------------------
    async def _names(
        self, interaction: discord.Interaction, current: str, which: GroupState
    ) -> list[app_commands.Choice[str]]:
        return await name_choices(
            interaction, lambda guild_id: self.groups.names(guild_id, current, which=which)
        )

    async def _open_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._names(interaction, current, "open")

    async def _all_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._names(interaction, current, "all")

    async def _archived_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._names(interaction, current, "archived")

    async def _my_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        user_id = interaction.user.id
        return await name_choices(
            interaction, lambda guild_id: self.groups.names_for_member(guild_id, user_id, current)
        )

    # --- everyone ------------------------------------------------------------------------------
    @group.command(name="list", description="The open groups, with places left")
    async def list_groups(self, interaction: discord.Interaction) -> None:
        await send_paged(interaction, "groups")

    @group.command(name="info", description="About one group: what it is, when it meets, places")
    @app_commands.describe(name="The group's name")
    async def info(self, interaction: discord.Interaction, name: GroupName) -> None:
        found = await self.groups.find(guild_of(interaction).id, name)
        tr = await texts(interaction)
        await interaction.response.send_message(embed=info_embed(found, tr), ephemeral=True)

    @group.command(name="join", description="Join a group (or its waitlist if it is full)")
    @app_commands.describe(name="The group's name")
    async def join(self, interaction: discord.Interaction, name: GroupName) -> None:
        found = await self.groups.find(guild_of(interaction).id, name)
        await self.continue_join(interaction, found.id, found)

    @group.command(name="leave", description="Leave a group, or its waitlist")
    @app_commands.describe(name="The group's name")
    async def leave(self, interaction: discord.Interaction, name: GroupName) -> None:
        guild = guild_of(interaction)
        found = await self.groups.find(guild.id, name)
        await self._defer(interaction)
        tr = await texts(interaction)
        await self._show(interaction, await self.leave_group(guild, found, interaction.user.id, tr))

    info.autocomplete("name")(_all_names)
    join.autocomplete("name")(_open_names)
    leave.autocomplete("name")(_my_names)

    # --- coordinators --------------------------------------------------------------------------
    @group.command(name="create", description="Coordinators: create a peer group")
    @app_commands.describe(
        name="Shown to members; unique in this server",
        description="What the group is for",
        capacity="Most members at once (leave out or 0 for no limit)",
        meets="When it meets, shown to members, e.g. Tuesdays 19:00 UK time",
        channel="An existing channel for the group",
        role="An existing role for members (otherwise I create one)",
        create_channel="Create a private channel for the group",
    )
    @coordinator_only()
    async def create(
        self,
        interaction: discord.Interaction,
        name: GroupName,
        description: Description,
        capacity: Capacity | None = None,
        meets: Meets | None = None,
        channel: discord.TextChannel | None = None,
        role: discord.Role | None = None,
        create_channel: bool = False,
    ) -> None:
        guild = guild_of(interaction)
        if channel is not None and create_channel:
            raise UserFacingError(
                N_(
                    "Choose either an existing `channel` or `create_channel`, not both. "
                    "Nothing was changed."
                )
            )
        cleaned = await self.groups.check_name_free(guild.id, name)
        tr = await texts(interaction)
        if role is not None:
            check_assignable(guild, role, tr)
            await self.groups.check_role_free(guild.id, role.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        made: list[discord.abc.Snowflake] = []
        why = await server_reason(
            self.bot, guild.id, N_("Hearth: the new group “{name}”"), name=cleaned
        )
        try:
            group_role = role or await create_group_role(guild, cleaned, why)
            if role is None:
                made.append(group_role)
            if create_channel:
                settings = await self.bot.settings.get(guild.id)
                staff = [r for r in (settings.supporter_role_id, settings.coordinator_role_id) if r]
                channel = await create_private_channel(guild, cleaned, group_role, staff, why)
                made.append(channel)
            created = await self.groups.create(
                guild.id,
                interaction.user.id,
                name=cleaned,
                description=description,
                capacity=capacity,
                meets=meets,
                role_id=group_role.id,
                channel_id=channel.id if channel else None,
            )
        except Exception:
            await self._undo_created(made, guild.id)
            raise
        made_channel = N_("{name} (role {role}, channel {channel})")
        await record_audit(interaction, AUDIT_GROUP_CREATED,
            made_channel if channel else N_("{name} (role {role})"), name=created.name,
            role=group_role.id, channel=channel.id if channel else 0)  # fmt: skip
        summary = await self.groups.get(guild.id, created.id)
        text = tr.gettext("Created “{name}” with role {role}.").format(
            name=created.name, role=group_role.mention
        )
        if channel:
            text += "\n" + tr.gettext("Channel: {channel}").format(channel=channel.mention)
        await self._finish(interaction, text + "\n" + group_details(summary, tr))

    async def _finish(self, interaction: discord.Interaction, text: str) -> None:
        """After a coordinator changed groups: bring every sign-up panel up to date, then answer
        the deferred command."""
        await self.refresh_panels(guild_of(interaction).id)
        await send_ephemeral(interaction, text)

    async def _undo_created(self, made: list[Any], guild_id: int) -> None:
        """A create that failed part-way leaves no stray role or channel behind."""
        why = await server_reason(self.bot, guild_id, N_("Hearth: group creation did not complete"))
        for thing in reversed(made):
            try:
                await thing.delete(reason=why)
            except discord.HTTPException as exc:
                log.warning("could not clean up after a failed group create: %s", exc.code)

    @group.command(name="edit", description="Coordinators: change a group's details or capacity")
    @app_commands.describe(
        name="The group to change",
        new_name="A new name",
        description="A new description",
        capacity="New most members at once (0 for no limit); members already in stay",
        meets="New meeting time text",
    )
    @coordinator_only()
    async def edit(
        self,
        interaction: discord.Interaction,
        name: GroupName,
        new_name: GroupName | None = None,
        description: Description | None = None,
        capacity: Capacity | None = None,
        meets: Meets | None = None,
    ) -> None:
        guild = guild_of(interaction)
        found = await self.groups.find(guild.id, name)
        tr = await texts(interaction)
        limit: int | Unchanged | None = UNCHANGED if capacity is None else capacity
        updated, changes = await self.groups.edit(
            guild.id,
            found.id,
            new_name=new_name,
            description=description,
            capacity=limit,
            meets=meets,
        )
        await interaction.response.defer(ephemeral=True, thinking=True)
        role_note = ""
        if updated.name != found.name:
            role_note = await self._rename_role(guild, found.role_id, found.name, updated.name, tr)
        await record_audit(interaction, AUDIT_GROUP_EDITED, N_("{name}: {changes}"),
            name=updated.name, changes=[change.phrase for change in changes])  # fmt: skip
        await self.fill_places(guild, updated.id)
        summary = await self.groups.get(guild.id, updated.id)
        text = tr.gettext("Updated “{name}” ({changes}).").format(
            name=updated.name, changes=", ".join(change.text(tr) for change in changes)
        )
        text += role_note
        if summary.capacity is not None and summary.member_count > summary.capacity:
            text += "\n" + tr.ngettext(
                "It has {n} member, more than the new capacity: "
                "everyone stays, and new joins wait until there is room.",
                "It has {n} members, more than the new capacity: "
                "everyone stays, and new joins wait until there is room.",
                summary.member_count,
            ).format(n=summary.member_count)
        await self._finish(interaction, text + "\n" + group_details(summary, tr))

    async def _rename_role(
        self, guild: discord.Guild, role_id: int, old_name: str, new_name: str, tr: Texts
    ) -> str:
        """Rename the group's role along with the group when it carries the group's name (as
        the role Hearth creates does); a role the coordinators named themselves is theirs."""
        role = guild.get_role(role_id)
        if role is None or role.name != old_name:
            return ""
        try:
            why = await server_reason(self.bot, guild.id, N_("Hearth: the group was renamed"))
            await role.edit(name=new_name[:100], reason=why)
        except discord.HTTPException:
            return " " + tr.gettext(
                "I couldn't rename its role {role} (it must be below my own role); "
                "you can rename it in Server Settings → Roles."
            ).format(role=role.mention)
        return " " + tr.gettext("Its role is now called “{name}” too.").format(name=new_name[:100])

    @group.command(name="archive", description="Coordinators: stop new joins to a group")
    @app_commands.describe(name="The group to archive")
    @coordinator_only()
    async def archive(self, interaction: discord.Interaction, name: GroupName) -> None:
        guild = guild_of(interaction)
        found = await self.groups.find(guild.id, name)
        archived, waiting = await self.groups.archive(guild.id, found.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await record_audit(interaction, AUDIT_GROUP_ARCHIVED,
            Nn_("{name} ({n} waitlist entry closed)", "{name} ({n} waitlist entries closed)"),
            name=archived.name, n=len(waiting))  # fmt: skip
        for user_id in waiting:
            member_tr = await texts_for_member(self.bot, guild.id, user_id)
            await self.bot.dm(
                guild.id,
                user_id,
                member_tr.gettext(
                    "The group “{name}” on **{server}** has been closed to new "
                    "members, so its waitlist has ended. `/group list` shows the groups that are "
                    "open; a coordinator can tell you more."
                ).format(name=archived.name, server=guild.name),
            )
        text = archived_text(
            archived.name, found.member_count, len(waiting), await texts(interaction)
        )
        await self._finish(interaction, text)

    @group.command(name="reopen", description="Coordinators: let an archived group take joins")
    @app_commands.describe(name="The archived group")
    @coordinator_only()
    async def reopen(self, interaction: discord.Interaction, name: GroupName) -> None:
        guild = guild_of(interaction)
        found = await self.groups.find(guild.id, name)
        reopened = await self.groups.reopen(guild.id, found.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await record_audit(interaction, AUDIT_GROUP_REOPENED, N_("{name}"), name=reopened.name)
        now_open = await self.groups.get(guild.id, reopened.id)
        tr = await texts(interaction)
        await self._finish(
            interaction,
            tr.gettext(
                "Reopened “{name}”: members can join again, and it is back in "
                "`/group list` and the panels ({places}). Its old waitlist was "
                "closed when it was archived, so nobody is added automatically."
            ).format(name=reopened.name, places=spaces_text(now_open, tr)),
        )

    @group.command(name="remove", description="Coordinators: take a member out of a group")
    @app_commands.describe(name="The group", member="Who to remove (their group role goes too)")
    @coordinator_only()
    async def remove(
        self, interaction: discord.Interaction, name: GroupName, member: discord.Member
    ) -> None:
        guild = guild_of(interaction)
        found = await self.groups.find(guild.id, name)
        result = await self.members.leave(guild.id, found.id, member.id, by_coordinator=True)
        await interaction.response.defer(ephemeral=True, thinking=True)
        queued = result.status == "unqueued"
        await record_audit(interaction, AUDIT_GROUP_MEMBER_REMOVED,
            N_("{member} from the waitlist of {group}") if queued else N_("{member} from {group}"),
            member=f"<@{member.id}>", group=found.name)  # fmt: skip
        tr = await texts(interaction)
        if result.status == "unqueued":
            text = tr.gettext("Removed {member} from the waitlist of “{name}”.")
        else:
            text = tr.gettext("Removed {member} from “{name}”.")
        text = text.format(member=member.mention, name=found.name)
        if result.status == "left":
            failure = await change_role(
                self.bot, guild, member.id, found.role_id, add=False,
                why=N_("removed from group {group}"), group_id=found.id,
            )  # fmt: skip
            if failure is not None:
                text += " " + tr.gettext("I couldn't take their group role away: {fix}").format(
                    fix=failure.fix.text(tr)
                )
            await self.fill_places(guild, found.id)
        text += " " + tr.gettext(
            "I haven't messaged them; you may want to let them know personally."
        )
        await self._finish(interaction, text)

    @group.command(name="members", description="Coordinators: who is in a group, and who waits")
    @app_commands.describe(name="The group")
    @coordinator_only()
    async def members_of(self, interaction: discord.Interaction, name: GroupName) -> None:
        found = await self.groups.find(guild_of(interaction).id, name)
        await send_paged(interaction, "group_members", str(found.id))

    @group.command(name="panel", description="Coordinators: post a sign-up panel in a channel")
    @app_commands.describe(channel="Where to post the panel")
    @coordinator_only()
    async def panel(self, interaction: discord.Interaction, channel: discord.TextChannel) -> None:
        guild = guild_of(interaction)
        groups = await self.groups.summaries(guild.id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        tr = await texts(interaction)
        server_tr = await texts_for_guild(self.bot, guild.id)  # a post everyone sees
        posted: list[discord.Message] = []
        try:
            for embed, view in panel_messages(groups, server_tr):
                posted.append(await channel.send(embed=embed, view=view or discord.utils.MISSING))
        except discord.Forbidden:
            await self.delete_panel_messages(posted)
            raise UserFacingError(
                N_(
                    "I couldn't post in {channel}: I need View Channel, Send Messages and "
                    "Embed Links there. Nothing was changed."
                ),
                channel=channel.mention,
            ) from None
        await self.groups.add_panel(
            guild.id, channel.id, [message.id for message in posted], interaction.user.id
        )
        await record_audit(
            interaction, AUDIT_GROUP_PANEL_POSTED, N_("{channel}"), channel=channel.mention
        )
        if len(posted) > 1:
            text = tr.gettext(
                "Posted the sign-up panel in {channel} ({count} messages, as the groups don't "
                "fit in one): {link}"
            )
        else:
            text = tr.gettext("Posted the sign-up panel in {channel}: {link}")
        text = text.format(channel=channel.mention, count=len(posted), link=posted[0].jump_url)
        await interaction.edit_original_response(
            content=text + "\n" + tr.gettext("I'll keep it up to date as groups and places change.")
        )

    edit.autocomplete("name")(_open_names)
    archive.autocomplete("name")(_open_names)
    reopen.autocomplete("name")(_archived_names)
    remove.autocomplete("name")(_all_names)
    members_of.autocomplete("name")(_all_names)


async def setup(bot: HearthBot) -> None:
    await bot.add_cog(Groups(bot))
