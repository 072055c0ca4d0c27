"""Joining, leaving, waitlist promotion and keeping the panels current.

Order of a join: refuse early (archived, already in), then the join gates (guidelines), then the
guarded insert, then the role. If Discord refuses the role the row is undone, so the store never
says someone is in a group whose role they don't have.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import discord
from discord.ext import commands

from bot.app import HearthBot
from bot.delivery import Outgoing
from bot.features import GateStep
from bot.i18n import N_, Texts
from bot.i18n_discord import texts, texts_for_guild, texts_for_member
from bot.outbox_kinds import DirectMessage
from bot.services.group_membership import MembershipService, Promotion, RoleOutcome
from bot.services.groups import Group, GroupService, GroupSummary, Panel
from bot.services.outbox import OutboxItem
from bot.services.panel_refresh import PanelRefreshes
from bot.tree import NO_MENTIONS
from cogs._ui import guild_of
from cogs.groups._discord import Fix, change_role, tell_coordinators
from cogs.groups._views import choice_view, info_embed, panel_messages

log = logging.getLogger(__name__)

ALERT_QUIET = timedelta(minutes=15)  # one "role failed" alert per group per quarter hour
PROMOTION_KIND = "group.promoted"


def _on_ephemeral(interaction: discord.Interaction) -> bool:
    """Pressed on a private message, which we can then edit instead of adding another."""
    message = interaction.message
    return (
        interaction.type is discord.InteractionType.component
        and message is not None
        and message.flags.ephemeral
    )


# Why a role change was needed, for the coordinators' alert: one whole sentence each.
ROLE_ALERTS = {
    "joining": N_(
        "⚠️ Group **{name}**: {member} was joining but I couldn't change their group role: "
        "{fix} Nobody was added without the role; they can try again once it's fixed."
    ),
    "leaving": N_(
        "⚠️ Group **{name}**: {member} was leaving but I couldn't change their group role: "
        "{fix} Nobody was added without the role; they can try again once it's fixed."
    ),
    "promoting": N_(
        "⚠️ Group **{name}**: {member} was moving up from the waitlist but I couldn't change "
        "their group role: {fix} Nobody was added without the role; they can try again once "
        "it's fixed."
    ),
}


def _joined_text(group: Group, tr: Texts) -> str:
    """The member's "you're in" after joining directly."""
    if group.channel_id:
        text = tr.gettext(
            "You're in “{name}”. You now have the group's role and access to {channel}."
        ).format(name=group.name, channel=f"<#{group.channel_id}>")
    else:
        text = tr.gettext("You're in “{name}”. You now have the group's role.").format(
            name=group.name
        )
    if group.meets:
        text += "\n" + tr.gettext("It meets: {meets}.").format(meets=group.meets)
    return (
        text
        + "\n"
        + tr.gettext("You can leave any time with `/group leave`; nobody is told either way.")
    )


def _promoted_text(group: Group, server: str, tr: Texts) -> str:
    """The DM to a member moved up from the waitlist."""
    if group.channel_id:
        text = tr.gettext(
            "Good news: a place opened in “{name}” on **{server}**, and you've been added from "
            "the waitlist. You now have the group's role and access to {channel}."
        ).format(name=group.name, server=server, channel=f"<#{group.channel_id}>")
    else:
        text = tr.gettext(
            "Good news: a place opened in “{name}” on **{server}**, and you've been added from "
            "the waitlist. You now have the group's role."
        ).format(name=group.name, server=server)
    if group.meets:
        text += " " + tr.gettext("It meets: {meets}.").format(meets=group.meets)
    return (
        text + " " + tr.gettext("If it's no longer right for you, `/group leave` frees the place.")
    )


class PromotionDM(DirectMessage):
    """ "You're in" after the waitlist: dropped if, by its turn, the member is no longer in the
    group (they left it, or left the server and so every group)."""

    def __init__(self, bot: HearthBot, members: MembershipService) -> None:
        super().__init__(bot)
        self.members = members

    async def render(self, item: OutboxItem) -> Outgoing | None:
        assert item.user_id is not None
        if not await self.members.is_member(item.payload["group_id"], item.user_id):
            return None
        return await super().render(item)


class GroupFlow(commands.Cog):
    bot: HearthBot
    groups: GroupService
    members: MembershipService

    def _init_flow(self) -> None:
        self._panel_refreshes = self.bot.service(PanelRefreshes)
        self._alerted: dict[tuple[int, int], float] = {}

    # --- answering ---------------------------------------------------------------------------
    async def _show(
        self,
        interaction: discord.Interaction,
        content: str | None,
        *,
        embed: discord.Embed | None = None,
        view: discord.ui.View | None = None,
    ) -> None:
        """Answer privately: edit the private message pressed on, or reply/replace 'thinking'."""
        if not interaction.response.is_done():
            if _on_ephemeral(interaction):
                await interaction.response.edit_message(content=content, embed=embed, view=view)
            else:
                await interaction.response.send_message(
                    content,
                    embed=embed if embed is not None else discord.utils.MISSING,
                    view=view or discord.utils.MISSING,
                    ephemeral=True,
                    allowed_mentions=NO_MENTIONS,
                )
            return
        await interaction.edit_original_response(
            content=content, embed=embed, view=view, allowed_mentions=NO_MENTIONS
        )

    async def _defer(self, interaction: discord.Interaction) -> None:
        if interaction.response.is_done():
            return
        if _on_ephemeral(interaction):
            await interaction.response.defer()
        else:
            await interaction.response.defer(ephemeral=True, thinking=True)

    # --- joining -----------------------------------------------------------------------------
    async def continue_join(
        self, interaction: discord.Interaction, group_id: int, found: GroupSummary | None = None
    ) -> None:
        """Show the next gate step if any is pending, otherwise join (or queue) the member.

        `found`: the group just read by the caller, to save reading it again.
        """
        guild = guild_of(interaction)
        user_id = interaction.user.id
        group = found if found is not None else await self.groups.get(guild.id, group_id)
        # The checks only read, so they go to the database together (one wait, not one each);
        # a refusal from `check_can_join` still wins over any gate's step.
        _, *steps = await asyncio.gather(
            self.members.check_can_join(group, user_id),
            *(
                gate.next_step(guild.id, user_id, group_id)
                for gate in self.bot.features.join_gates()
            ),
        )
        step: GateStep | None = next((s for s in steps if s is not None), None)
        if step is not None:
            await self._show(interaction, step.content, embed=step.embed, view=step.view)
            return
        result = await self.members.join(guild.id, group_id, user_id)  # one fast write
        tr = await texts(interaction)
        if result.status == "waitlisted":
            await self._show(
                interaction,
                tr.gettext(
                    "“{name}” is full right now, so I've put you on the waitlist: you're "
                    "number **{position}** in line. I'll DM you as soon as a place opens; "
                    "you don't need to do anything. (`/group leave` takes you off the list.)"
                ).format(name=group.name, position=result.position),
            )
            await self.refresh_panels(guild.id)
            return
        # Only the role grant calls Discord before the answer: acknowledge first, so a slow
        # response there never costs the member their interaction.
        await self._defer(interaction)
        failure = await change_role(
            self.bot, guild, user_id, group.role_id, add=True,
            why=N_("joined group {group}"), group_id=group.id,
        )  # fmt: skip
        if failure is not None:
            await self.members.undo_join(guild.id, group_id, user_id)
            await self._show(
                interaction,
                tr.gettext(
                    "I'm sorry: I couldn't give you the role for “{name}”, so you haven't been "
                    "added yet. The coordinators have been told how to fix it; please try again "
                    "a little later."
                ).format(name=group.name),
            )
            await self._role_alert(guild, group, user_id, failure.fix, "joining")
            return
        await self._show(interaction, _joined_text(group, tr))
        await self.refresh_panels(guild.id)

    async def show_choice(self, interaction: discord.Interaction, group_id: int) -> None:
        """A group picked from a panel's menu: its details with Join/Leave, privately."""
        group = await self.groups.get(guild_of(interaction).id, group_id)
        tr = await texts(interaction)
        await interaction.response.send_message(
            embed=info_embed(group, tr), view=choice_view(group.id, tr), ephemeral=True
        )

    # --- leaving -----------------------------------------------------------------------------
    async def leave_from_button(self, interaction: discord.Interaction, group_id: int) -> None:
        guild = guild_of(interaction)
        group = await self.groups.get(guild.id, group_id)
        await self._defer(interaction)
        tr = await texts(interaction)
        await self._show(interaction, await self.leave_group(guild, group, interaction.user.id, tr))

    async def leave_group(self, guild: discord.Guild, group: Group, user_id: int, tr: Texts) -> str:
        """A member's own leave; returns what to tell them (in `tr`, the member's language)."""
        result = await self.members.leave(guild.id, group.id, user_id)
        if result.status == "unqueued":
            await self.refresh_panels(guild.id)
            return tr.gettext("I've taken you off the waitlist for “{name}”. Take care.").format(
                name=group.name
            )
        failure = await change_role(
            self.bot, guild, user_id, group.role_id, add=False,
            why=N_("left group {group}"), group_id=group.id,
        )  # fmt: skip
        await self.fill_places(guild, group.id)
        await self.refresh_panels(guild.id)
        if failure is not None and not failure.member_gone:
            await self._role_alert(guild, group, user_id, failure.fix, "leaving")
            return tr.gettext(
                "You've left “{name}”. I couldn't take the group role off you myself; "
                "the coordinators have been told and will remove it."
            ).format(name=group.name)
        return tr.gettext("You've left “{name}”. You're welcome back any time.").format(
            name=group.name
        )

    # --- the waitlist ------------------------------------------------------------------------
    async def fill_places(self, guild: discord.Guild, group_id: int) -> None:
        """Give every free place to the next in line (the service's rules), with a DM each."""
        fixes: dict[int, Fix] = {}

        async def give_role(promotion: Promotion) -> RoleOutcome:
            failure = await change_role(
                self.bot,
                guild,
                promotion.user_id,
                promotion.group.role_id,
                add=True,
                why=N_("promoted from the waitlist of group {group}"),
                group_id=promotion.group.id,
            )
            if failure is None:
                return "given"
            if failure.member_gone:
                return "member_gone"
            fixes[promotion.user_id] = failure.fix
            return "refused"

        filled = await self.members.fill_places(guild.id, group_id, give_role)
        for promotion in filled.promoted:
            group = promotion.group
            tr = await texts_for_member(self.bot, guild.id, promotion.user_id)
            await self.bot.dm(
                guild.id,
                promotion.user_id,
                _promoted_text(group, guild.name, tr),
                kind=PROMOTION_KIND,
                group_id=group.id,
            )
            log.info("promoted a member from the waitlist of group %s", group.id)
        if filled.refused is not None:
            refused = filled.refused
            await self._role_alert(
                guild,
                refused.group,
                refused.user_id,
                fixes[refused.user_id],
                "promoting",
            )

    async def _role_alert(
        self, guild: discord.Guild, group: Group, user_id: int, fix: Fix, doing: str
    ) -> None:
        """Tell the coordinators (in the server's language) how to fix a refused role;
        `doing` is a key of `ROLE_ALERTS`."""
        now = self.bot.clock.now().timestamp()
        key = (guild.id, group.id)
        if now - self._alerted.get(key, -1e12) < ALERT_QUIET.total_seconds():
            return
        self._alerted[key] = now
        tr = await texts_for_guild(self.bot, guild.id)
        text = tr.gettext(ROLE_ALERTS[doing]).format(
            name=group.name, member=f"<@{user_id}>", fix=fix.text(tr)
        )
        await tell_coordinators(self.bot, guild, text)

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        """Someone left the server: their places go to the next in line."""
        freed = await self.members.forget_member(payload.guild_id, payload.user.id)
        guild = self.bot.get_guild(payload.guild_id)
        if guild is None:
            return
        for group_id in freed:
            await self.fill_places(guild, group_id)
        await self.refresh_panels(guild.id)

    # --- panels ------------------------------------------------------------------------------
    async def refresh_panels(self, guild_id: int) -> None:
        """Edit every panel in place; calls during a refresh (from any process) fold into one
        more pass after it, by the one process holding the server's claim in the database."""
        refreshes, holder = self._panel_refreshes, self.bot.outbox.owner
        seen = await refreshes.ask(guild_id, holder)
        while seen is not None:
            try:
                await self._refresh_once(guild_id)
            except BaseException:
                await refreshes.abandon(guild_id, holder)
                raise
            seen = await refreshes.finish(guild_id, holder, seen)

    async def _refresh_once(self, guild_id: int) -> None:
        panels = await self.groups.panels(guild_id)
        if not panels:
            return
        tr = await texts_for_guild(self.bot, guild_id)  # a post everyone in the server sees
        messages = panel_messages(await self.groups.summaries(guild_id), tr)
        for panel in panels:
            await self._refresh_panel(panel, messages)

    async def _refresh_panel(
        self, panel: Panel, messages: list[tuple[discord.Embed, discord.ui.View | None]]
    ) -> None:
        """Edit a panel's messages in place, posting more when the groups outgrew them and
        deleting the ones no longer needed. A missing first message means the coordinators
        deleted the panel: it is forgotten, with the rest of its messages."""
        guild_id = panel.guild_id
        channel = self.bot.get_partial_messageable(panel.channel_id, guild_id=guild_id)
        kept: list[int] = []
        for index, (embed, view) in enumerate(messages):
            if index < len(panel.parts):
                try:
                    await channel.get_partial_message(panel.parts[index]).edit(
                        embed=embed, view=view
                    )
                    kept.append(panel.parts[index])
                    continue
                except discord.NotFound:
                    if index == 0:
                        log.info("a group panel in guild %s was deleted; forgetting it", guild_id)
                        await self.groups.forget_panel(guild_id, panel.message_id)
                        await self.delete_panel_messages(
                            [channel.get_partial_message(i) for i in panel.parts[1:]]
                        )
                        return
                except discord.HTTPException as exc:
                    log.warning(
                        "could not update a group panel in guild %s: %s", guild_id, exc.code
                    )
                    kept.append(panel.parts[index])
                    continue
            try:
                posted = await channel.send(embed=embed, view=view or discord.utils.MISSING)
            except discord.HTTPException as exc:
                log.warning("could not extend a group panel in guild %s: %s", guild_id, exc.code)
                break
            kept.append(posted.id)
        extra = [i for i in panel.parts[len(messages) :] if i not in kept]
        await self.delete_panel_messages([channel.get_partial_message(i) for i in extra])
        if kept != panel.parts:
            await self.groups.set_panel_parts(panel, kept)

    async def delete_panel_messages(
        self, messages: list[discord.Message] | list[discord.PartialMessage]
    ) -> None:
        """Messages a panel no longer needs; one already deleted by hand is fine."""
        for message in messages:
            try:
                await message.delete()
            except discord.NotFound:
                continue
            except discord.HTTPException as exc:
                log.warning("could not delete a group panel message: %s", exc.code)
