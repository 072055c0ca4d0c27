"""How groups look: the paged lists, the sign-up panel and its persistent components.

Panel components are `DynamicItem`s whose custom ids carry the group id, so they keep working
after a restart without any per-message registration. Their callbacks hand over to the cog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord.utils import format_dt

from bot.services.group_membership import MembershipService
from bot.services.groups import GroupService, GroupSummary
from cogs._pages import Page, line_page, pager
from cogs._routes import Persistent, RecordButton
from cogs._ui import DynamicView, guild_of, hearth, own_cog

if TYPE_CHECKING:
    from cogs.groups import Groups

BUTTON_ROWS = 5  # up to this many groups get their own Join/Leave row; more use a select menu
EMBED_FIELDS = 25
PANEL_COLOUR = discord.Colour(0xE07A5F)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def spaces_text(group: GroupSummary) -> str:
    """Spaces and queue length: what a member needs to decide, never who is in the group."""
    if group.archived:
        return "Archived: not taking new members"
    if group.capacity is None:
        text = "Open, no size limit"
    elif group.spaces_left and not group.waitlist_count:
        text = f"{plural(group.spaces_left, 'place')} left (of {group.capacity})"
    else:
        text = f"Full ({plural(group.capacity, 'place')})"
    if group.waitlist_count:
        text += f" · {group.waitlist_count} on the waitlist"
    return text


def group_details(group: GroupSummary) -> str:
    lines = []
    if group.description:
        lines.append(group.description)
    if group.meets:
        lines.append(f"**Meets:** {group.meets}")
    lines.append(f"**Places:** {spaces_text(group)}")
    return "\n".join(lines)


def info_embed(group: GroupSummary) -> discord.Embed:
    return discord.Embed(title=group.name, description=group_details(group), colour=PANEL_COLOUR)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


PANEL_EMBED_BUDGET = 5500  # of Discord's 6,000 characters per message; the title and intro fit
PANEL_DESCRIPTION = 300  # shown per group on the panel; the menu and /group info show it all
PANEL_INTRO = (
    "Choose a group to join or leave. Only you see the answer: joining and leaving are never "
    "announced."
)


def _panel_field(group: GroupSummary) -> tuple[str, str]:
    lines = [_short(group.description, PANEL_DESCRIPTION)] if group.description else []
    if group.meets:
        lines.append(f"Meets: {group.meets}")
    lines.append(spaces_text(group))
    return group.name, "\n".join(lines)


def _panel_chunks(groups: list[GroupSummary]) -> list[list[GroupSummary]]:
    """Consecutive groups per message, within Discord's embed size and 25 fields/options."""
    chunks: list[list[GroupSummary]] = [[]]
    size = 0
    for group in groups:
        name, value = _panel_field(group)
        if chunks[-1] and (
            len(chunks[-1]) >= EMBED_FIELDS or size + len(name) + len(value) > PANEL_EMBED_BUDGET
        ):
            chunks.append([])
            size = 0
        chunks[-1].append(group)
        size += len(name) + len(value)
    return chunks


def panel_messages(
    groups: list[GroupSummary],
) -> list[tuple[discord.Embed, discord.ui.View | None]]:
    """The panel's messages in order: every open group appears in exactly one of them.

    Up to `BUTTON_ROWS` groups get Join/Leave buttons; more get a menu in each message listing
    that message's groups, which answers privately with the group's details and buttons.
    """
    if not groups:
        embed = discord.Embed(title="Peer groups", colour=PANEL_COLOUR)
        embed.description = "There are no open groups right now. Please check back soon."
        return [(embed, None)]
    chunks = _panel_chunks(groups)
    messages: list[tuple[discord.Embed, discord.ui.View | None]] = []
    for number, chunk in enumerate(chunks, 1):
        title = "Peer groups" if len(chunks) == 1 else f"Peer groups ({number} of {len(chunks)})"
        embed = discord.Embed(title=title, colour=PANEL_COLOUR)
        if number == 1:
            embed.description = PANEL_INTRO
        for group in chunk:
            name, value = _panel_field(group)
            embed.add_field(name=name, value=value, inline=False)
        if number < len(chunks):
            embed.set_footer(text="More groups in the next message.")
        messages.append((embed, _panel_view(chunk, buttons=len(groups) <= BUTTON_ROWS)))
    return messages


def _panel_view(groups: list[GroupSummary], *, buttons: bool) -> discord.ui.View:
    view = DynamicView()
    if buttons:
        for row, group in enumerate(groups):
            view.add_item(JoinButton(group.id, _short(f"Join {group.name}", 80), row=row))
            view.add_item(LeaveButton(group.id, _short(f"Leave {group.name}", 80), row=row))
        return view
    options = [
        discord.SelectOption(
            label=_short(group.name, 100),
            value=str(group.id),
            description=_short(spaces_text(group), 100),
        )
        for group in groups
    ]
    view.add_item(PickGroup(options))
    return view


def choice_view(group_id: int) -> discord.ui.View:
    """Join/Leave for one group picked from a panel's menu (shown privately)."""
    view = DynamicView()
    view.add_item(JoinButton(group_id, "Join"))
    view.add_item(LeaveButton(group_id, "Leave"))
    return view


def _cog(interaction: discord.Interaction) -> Groups:
    from cogs.groups import Groups  # the package imports this module

    unavailable = "Groups aren't available right now; please try again in a little while."
    return own_cog(interaction, Groups, unavailable)


class JoinButton(RecordButton, route="hearth:groups:join:{id}"):
    default_label = "Join"
    button_style = discord.ButtonStyle.success

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).continue_join(interaction, self.record_id)


class LeaveButton(RecordButton, route="hearth:groups:leave:{id}"):
    default_label = "Leave"

    async def callback(self, interaction: discord.Interaction) -> None:
        await _cog(interaction).leave_from_button(interaction, self.record_id)


class PickGroup(Persistent[discord.ui.Select[Any]], route="hearth:groups:pick"):
    def __init__(self, options: list[discord.SelectOption]) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=self.custom_id_for(),
                placeholder="Choose a group to join or leave…",
                options=options,
            )
        )

    @classmethod
    def from_route(cls, item: discord.ui.Item[Any], *values: int | str) -> PickGroup:
        options = getattr(item, "options", None) or [discord.SelectOption(label="?", value="0")]
        return cls(list(options))

    async def callback(self, interaction: discord.Interaction) -> None:
        picked = int(self.item.values[0]) if self.item.values else 0
        await _cog(interaction).show_choice(interaction, picked)


@pager("groups")
async def _list_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    bot = hearth(interaction)
    groups = await bot.service(GroupService).summaries(guild_of(interaction).id)
    if not groups:
        return Page(
            content="There are no open groups here yet. Coordinators can add one with "
            "`/group create`."
        )
    lines = [
        f"• **{item.name}**"
        + (f" · meets {item.meets}" if item.meets else "")
        + f" — {spaces_text(item)}"
        for item in groups
    ]
    shown, _ = line_page(
        f"**Peer groups here** ({len(groups)})",
        lines,
        page,
        footer="\n`/group info` tells you more; `/group join` signs you up privately.",
    )
    return shown


@pager("group_members", coordinators_only=True)
async def _members_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    bot = hearth(interaction)
    guild_id = guild_of(interaction).id
    found = await bot.service(GroupService).get(guild_id, int(arg))
    roster = await bot.service(MembershipService).roster(guild_id, found.id)
    lines = ["", "**Members**"]
    lines += [
        f"{n}. <@{e.user_id}> (since {format_dt(e.since, 'd')})"
        for n, e in enumerate(roster.members, 1)
    ] or ["Nobody yet."]
    lines += ["", "**Waitlist** (first in line at the top)"]
    lines += [
        f"{n}. <@{e.user_id}> (waiting since {format_dt(e.since, 'R')})"
        for n, e in enumerate(roster.waitlist, 1)
    ] or ["Nobody is waiting."]
    shown, _ = line_page(f"**{found.name}** — {spaces_text(found)}", lines, page)
    return shown


PERSISTENT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    JoinButton,
    LeaveButton,
    PickGroup,
)
