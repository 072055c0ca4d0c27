"""The guidelines as members see them: the embed, the persistent Agree buttons, the edit form and
the join gate's step.

Agree buttons are DynamicItems, so copies posted months ago keep working after restarts. A
DynamicItem's failures bypass `View.on_error`, so each callback routes its own errors to the one
error handler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord

from bot.errors import UserFacingError
from bot.features import CONTINUE_JOIN, GateStep
from bot.i18n import ENGLISH, N_, Texts
from bot.i18n_discord import texts, texts_for_member
from bot.services.audit import Phrase
from bot.services.guidelines import MAX_LENGTH, GuidelineVersion, group_of
from bot.tree import send_ephemeral
from cogs._routes import PersistentButton
from cogs._ui import (
    DynamicView,
    HearthModal,
    guild_of,
    hearth,
    own_cog,
    require_coordinator,
)

if TYPE_CHECKING:
    from cogs.guidelines import Guidelines

AGREE_LABEL = N_("I have read and agree")
COLOUR = discord.Colour.from_rgb(214, 126, 64)


# Which guidelines an audit entry is about: the group's name (data), or this phrase.
SERVER = Phrase(N_("server"))


def scope_label(group_name: str | None, tr: Texts = ENGLISH) -> str:
    """Which guidelines, as a phrase in `tr`'s language (passed whole into a sentence)."""
    if group_name is None:
        return tr.gettext("the server guidelines")
    return tr.gettext("the guidelines for **{group}**").format(group=group_name)


def guideline_embed(
    version: GuidelineVersion, group_name: str | None, tr: Texts = ENGLISH
) -> discord.Embed:
    """The guidelines as written (never translated), framed in `tr`'s language."""
    title = (
        tr.gettext("Server guidelines")
        if group_name is None
        else tr.gettext("Guidelines for {group}").format(group=group_name)
    )
    embed = discord.Embed(title=title[:256], description=version.body, colour=COLOUR)
    embed.set_footer(
        text=tr.gettext("Version {version} · last updated").format(version=version.version)
    )
    embed.timestamp = version.created_at
    return embed


def cog_of(interaction: discord.Interaction) -> Guidelines:
    from cogs.guidelines import Guidelines  # the package imports this module

    unavailable = N_("Guidelines aren't available right now. Please try again later.")
    return own_cog(interaction, Guidelines, unavailable)


async def group_name_for(interaction: discord.Interaction, group_id: int | None) -> str | None:
    """The group's name, or a kind refusal when the group was deleted since the button was sent."""
    if group_id is None:
        return None
    name = await cog_of(interaction).service.group_name(guild_of(interaction).id, group_id)
    if name is None:
        raise UserFacingError(N_("That group no longer exists, so there is nothing to accept."))
    return name


class AgreeButton(PersistentButton, route="hearth:gl:agree:{scope}"):
    """On posted and shown copies: always accepts the scope's CURRENT version, and says which."""

    def __init__(self, scope_id: int, label: str | None = None) -> None:
        super().__init__(
            self.button(scope_id, label=label or AGREE_LABEL, style=discord.ButtonStyle.success)
        )
        self.scope_id = scope_id

    @classmethod
    def from_route(cls, item: discord.ui.Item[Any], *values: int | str) -> AgreeButton:
        return cls(int(values[0]), getattr(item, "label", None))

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = cog_of(interaction)
        guild = guild_of(interaction)
        group_id = group_of(self.scope_id)
        tr = await texts(interaction)
        label = scope_label(await group_name_for(interaction, group_id), tr)
        result = await cog.service.accept_current(guild.id, group_id, interaction.user.id)
        if result.newly:
            text = tr.gettext("Thank you — you've accepted version {version} of {scope}.")
        else:
            text = tr.gettext("You've already accepted version {version} of {scope}. Thank you!")
        text = text.format(version=result.version, scope=label)
        await send_ephemeral(interaction, text)
        member = interaction.user
        if (
            group_id is None
            and isinstance(member, discord.Member)
            and not await cog.publisher.grant_role(member)
        ):
            await interaction.followup.send(
                tr.gettext(
                    "Your acceptance is saved, but I couldn't give you the guidelines role just "
                    "now. The coordinators have been told."
                ),
                ephemeral=True,
            )


class GateAgreeButton(PersistentButton, route="hearth:gl:gate:{scope}:{version}:{group}"):
    """A join step: accepts the exact version shown, then hands back to the groups' join flow."""

    def __init__(
        self, scope_id: int, version: int, joining_group_id: int, label: str | None = None
    ) -> None:
        super().__init__(
            self.button(
                scope_id,
                version,
                joining_group_id,
                label=label or AGREE_LABEL,
                style=discord.ButtonStyle.success,
            )
        )
        self.scope_id = scope_id
        self.version = version
        self.joining_group_id = joining_group_id

    @classmethod
    def from_route(cls, item: discord.ui.Item[Any], *values: int | str) -> GateAgreeButton:
        return cls(int(values[0]), int(values[1]), int(values[2]), getattr(item, "label", None))

    async def callback(self, interaction: discord.Interaction) -> None:
        cog = cog_of(interaction)
        guild = guild_of(interaction)
        group_id = group_of(self.scope_id)
        await group_name_for(interaction, group_id)
        await cog.service.accept(guild.id, group_id, self.version, interaction.user.id)
        continue_join = hearth(interaction).features.api(CONTINUE_JOIN)
        if continue_join is None:
            raise UserFacingError(
                N_(
                    "Your acceptance is saved, but joining groups isn't available right now. "
                    "Please try joining again in a little while."
                )
            )
        await continue_join(interaction, self.joining_group_id)
        if group_id is None and isinstance(interaction.user, discord.Member):
            current = await cog.service.current(guild.id, None)
            if current is not None and current.version == self.version:
                await cog.publisher.grant_role(interaction.user)


class GuidelinesGate:
    """The join gate: the server's current text first, then the group's, until both are accepted."""

    def __init__(self, cog: Guidelines) -> None:
        self.cog = cog

    async def next_step(self, guild_id: int, user_id: int, group_id: int) -> GateStep | None:
        service = self.cog.service
        pending = await service.pending(guild_id, user_id, group_id)
        if not pending:
            return None
        first = pending[0]
        # The step has no interaction to read: the member's language as Hearth last saw it.
        tr = await texts_for_member(self.cog.bot, guild_id, user_id)
        found = await service.group_name(guild_id, group_id)
        joining = found or tr.gettext("this group")
        shown_name = None if first.group_id is None else joining
        agree = tr.gettext(AGREE_LABEL)
        view = DynamicView()
        view.add_item(GateAgreeButton(first.group_id or 0, first.version, group_id, agree))
        content = tr.gettext(
            "Before you join **{group}**, please read {scope} and press **{agree}**."
        ).format(group=joining, scope=scope_label(shown_name, tr), agree=agree)
        if len(pending) > 1:
            content += " " + tr.gettext("Then there is one more set to read.")
        return GateStep(embed=guideline_embed(first, shown_name, tr), view=view, content=content)


class EditModal(HearthModal):
    """The whole text in one field; saving it publishes a new version."""

    def __init__(
        self, group_id: int | None, group_name: str | None, text: str, tr: Texts = ENGLISH
    ) -> None:
        title = (
            tr.gettext("Server guidelines")
            if group_name is None
            else tr.gettext("Guidelines: {group}").format(group=group_name)
        )
        super().__init__(title=title[:45])
        self.group_id = group_id
        self.group_name = group_name
        self.text: discord.ui.TextInput[EditModal] = discord.ui.TextInput(
            label=tr.gettext("Guidelines (Markdown works)"),
            style=discord.TextStyle.paragraph,
            default=text[:MAX_LENGTH],
            max_length=MAX_LENGTH,
            required=True,
            custom_id="hearth:gl:edit:text",
        )
        self.add_item(self.text)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await require_coordinator(interaction)
        await cog_of(interaction).save_and_publish(
            interaction, self.group_id, self.group_name, self.text.value
        )
