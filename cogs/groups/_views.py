"""How groups look: the paged lists, the sign-up panel and its persistent components.

Panel components are `DynamicItem`s whose custom ids carry the group id, so they keep working
after a restart without any per-message registration. Their callbacks hand over to the cog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord.utils import format_dt

from bot.i18n import N_, Texts
from bot.i18n_discord import texts
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


def spaces_text(group: GroupSummary, tr: Texts) -> str:
    """Spaces and queue length: what a member needs to decide, never who is in the group."""
    if group.archived:
        return tr.gettext("Archived: not taking new members")
    if group.capacity is None:
        text = tr.gettext("Open, no size limit")
    elif group.spaces_left and not group.waitlist_count:
        text = tr.ngettext(
            "{n} place left (of {capacity})", "{n} places left (of {capacity})", group.spaces_left
        ).format(n=group.spaces_left, capacity=group.capacity)
    else:
        text = tr.ngettext("Full ({n} place)", "Full ({n} places)", group.capacity).format(
            n=group.capacity
        )
    if group.waitlist_count:
        text = tr.gettext("{places} · {count} on the waitlist").format(
            places=text, count=group.waitlist_count
        )
    return text


def archived_text(name: str, members: int, waiting: int, tr: Texts) -> str:
    """The coordinator's answer to `/group archive`."""
    text = tr.ngettext(
        "Archived “{name}”: no new joins. Its {n} "
        "members keep their role until they leave or you use `/group remove`.",
        "Archived “{name}”: no new joins. Its {n} "
        "members keep their role until they leave or you use `/group remove`.",
        members,
    ).format(name=name, n=members)
    if waiting:
        text += " " + tr.ngettext(
            "I told the {n} people on its waitlist.",
            "I told the {n} people on its waitlist.",
            waiting,
        ).format(n=waiting)
    return text


def group_details(group: GroupSummary, tr: Texts) -> str:
    lines = []
    if group.description:
        lines.append(group.description)
    if group.meets:
        lines.append(tr.gettext("**Meets:** {meets}").format(meets=group.meets))
    lines.append(tr.gettext("**Places:** {places}").format(places=spaces_text(group, tr)))
    return "\n".join(lines)


def info_embed(group: GroupSummary, tr: Texts) -> discord.Embed:
    return discord.Embed(
        title=group.name, description=group_details(group, tr), colour=PANEL_COLOUR
    )


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


PANEL_EMBED_BUDGET = 5500  # of Discord's 6,000 characters per message; the title and intro fit
PANEL_DESCRIPTION = 300  # shown per group on the panel; the menu and /group info show it all
PANEL_INTRO = N_(
    "Choose a group to join or leave. Only you see the answer: joining and leaving are never "
    "announced."
)


def _panel_field(group: GroupSummary, tr: Texts) -> tuple[str, str]:
    lines = [_short(group.description, PANEL_DESCRIPTION)] if group.description else []
    if group.meets:
        lines.append(tr.gettext("Meets: {meets}").format(meets=group.meets))
    lines.append(spaces_text(group, tr))
    return group.name, "\n".join(lines)


def _panel_chunks(groups: list[GroupSummary], tr: Texts) -> list[list[GroupSummary]]:
    """Consecutive groups per message, within Discord's embed size and 25 fields/options."""
    chunks: list[list[GroupSummary]] = [[]]
    size = 0
    for group in groups:
        name, value = _panel_field(group, tr)
        if chunks[-1] and (
            len(chunks[-1]) >= EMBED_FIELDS or size + len(name) + len(value) > PANEL_EMBED_BUDGET
        ):
            chunks.append([])
            size = 0
        chunks[-1].append(group)
        size += len(name) + len(value)
    return chunks


def panel_messages(
    groups: list[GroupSummary], tr: Texts
) -> list[tuple[discord.Embed, discord.ui.View | None]]:
    """The panel's messages in order: every open group appears in exactly one of them.

    Up to `BUTTON_ROWS` groups get Join/Leave buttons; more get a menu in each message listing
    that message's groups, which answers privately with the group's details and buttons.
    `tr`: the server's language (the panel is a post everyone sees).
    """
    if not groups:
        embed = discord.Embed(title=tr.gettext("Peer groups"), colour=PANEL_COLOUR)
        embed.description = tr.gettext(
            "There are no open groups right now. Please check back soon."
        )
        return [(embed, None)]
    chunks = _panel_chunks(groups, tr)
    messages: list[tuple[discord.Embed, discord.ui.View | None]] = []
    for number, chunk in enumerate(chunks, 1):
        title = (
            tr.gettext("Peer groups")
            if len(chunks) == 1
            else tr.gettext("Peer groups ({number} of {total})").format(
                number=number, total=len(chunks)
            )
        )
        embed = discord.Embed(title=title, colour=PANEL_COLOUR)
        if number == 1:
            embed.description = tr.gettext(PANEL_INTRO)
        for group in chunk:
            name, value = _panel_field(group, tr)
            embed.add_field(name=name, value=value, inline=False)
        if number < len(chunks):
            embed.set_footer(text=tr.gettext("More groups in the next message."))
        messages.append((embed, _panel_view(chunk, tr, buttons=len(groups) <= BUTTON_ROWS)))
    return messages


def _panel_view(groups: list[GroupSummary], tr: Texts, *, buttons: bool) -> discord.ui.View:
    view = DynamicView()
    if buttons:
        for row, group in enumerate(groups):
            join = tr.gettext("Join {name}").format(name=group.name)
            leave = tr.gettext("Leave {name}").format(name=group.name)
            view.add_item(JoinButton(group.id, _short(join, 80), row=row))
            view.add_item(LeaveButton(group.id, _short(leave, 80), row=row))
        return view
    options = [
        discord.SelectOption(
            label=_short(group.name, 100),
            value=str(group.id),
            description=_short(spaces_text(group, tr), 100),
        )
        for group in groups
    ]
    view.add_item(PickGroup(options, tr.gettext("Choose a group to join or leave…")))
    return view


def choice_view(group_id: int, tr: Texts) -> discord.ui.View:
    """Join/Leave for one group picked from a panel's menu (shown privately)."""
    view = DynamicView()
    view.add_item(JoinButton(group_id, tr.gettext("Join")))
    view.add_item(LeaveButton(group_id, tr.gettext("Leave")))
    return view


UNAVAILABLE = N_("Groups aren't available right now; please try again in a little while.")


def _cog(interaction: discord.Interaction) -> Groups:
    from cogs.groups import Groups  # the package imports this module

    return own_cog(interaction, Groups, UNAVAILABLE)


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
    def __init__(self, options: list[discord.SelectOption], placeholder: str | None) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=self.custom_id_for(),
                placeholder=placeholder,
                options=options,
            )
        )

    @classmethod
    def from_route(cls, item: discord.ui.Item[Any], *values: int | str) -> PickGroup:
        options = getattr(item, "options", None) or [discord.SelectOption(label="?", value="0")]
        return cls(list(options), getattr(item, "placeholder", None))

    async def callback(self, interaction: discord.Interaction) -> None:
        picked = int(self.item.values[0]) if self.item.values else 0
        await _cog(interaction).show_choice(interaction, picked)


@pager("groups")
async def _list_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    bot = hearth(interaction)
    tr = await texts(interaction)
    groups = await bot.service(GroupService).summaries(guild_of(interaction).id)
    if not groups:
        return Page(
            content=tr.gettext(
                "There are no open groups here yet. Coordinators can add one with `/group create`."
            )
        )
    lines = [
        (
            tr.gettext("• **{name}** · meets {meets} — {places}")
            if item.meets
            else tr.gettext("• **{name}** — {places}")
        ).format(name=item.name, meets=item.meets, places=spaces_text(item, tr))
        for item in groups
    ]
    shown, _ = line_page(
        tr.gettext("**Peer groups here** ({count})").format(count=len(groups)),
        lines,
        page,
        footer="\n"
        + tr.gettext("`/group info` tells you more; `/group join` signs you up privately."),
        tr=tr,
    )
    return shown


@pager("group_members", coordinators_only=True)
async def _members_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    bot = hearth(interaction)
    tr = await texts(interaction)
    guild_id = guild_of(interaction).id
    found = await bot.service(GroupService).get(guild_id, int(arg))
    roster = await bot.service(MembershipService).roster(guild_id, found.id)
    lines = ["", tr.gettext("**Members**")]
    lines += [
        tr.gettext("{n}. {member} (since {date})").format(
            n=n, member=f"<@{e.user_id}>", date=format_dt(e.since, "d")
        )
        for n, e in enumerate(roster.members, 1)
    ] or [tr.gettext("Nobody yet.")]
    lines += ["", tr.gettext("**Waitlist** (first in line at the top)")]
    lines += [
        tr.gettext("{n}. {member} (waiting since {when})").format(
            n=n, member=f"<@{e.user_id}>", when=format_dt(e.since, "R")
        )
        for n, e in enumerate(roster.waitlist, 1)
    ] or [tr.gettext("Nobody is waiting.")]
    header = tr.gettext("**{name}** — {places}").format(
        name=found.name, places=spaces_text(found, tr)
    )
    shown, _ = line_page(header, lines, page, tr=tr)
    return shown


PERSISTENT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    JoinButton,
    LeaveButton,
    PickGroup,
)
