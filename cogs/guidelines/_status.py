"""`/guidelines status` and `/guidelines history`: what coordinators read, counted and paged."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import discord
from discord.utils import format_dt

from bot.i18n_discord import texts
from bot.services.group_names import GroupRef
from bot.services.groups import GroupService
from bot.services.guidelines import HISTORY_PAGE, GuidelinesService
from cogs._pages import Page, pager
from cogs._ui import guild_of, hearth
from cogs.guidelines._publish import member_list_loaded
from cogs.guidelines._views import scope_label

if TYPE_CHECKING:
    from cogs.guidelines import Guidelines


async def status_text(
    cog: Guidelines, interaction: discord.Interaction, guild: discord.Guild, ref: GroupRef | None
) -> str:
    """How many accepted the current version, an older one, or none, over who can be counted."""
    tr = await texts(interaction)
    if ref is not None:
        members = await cog.service.group_member_ids(guild.id, ref.id)
        counts = await cog.service.status(guild.id, ref.id, member_ids=members)
        basis = tr.ngettext(
            "Of the {n} members of **{group}**",
            "Of the {n} members of **{group}**",
            counts.population,
        ).format(n=counts.population, group=ref.name)
    elif await member_list_loaded(guild):
        people = [member.id for member in guild.members if not member.bot]
        counts = await cog.service.status(guild.id, None, member_ids=people)
        basis = tr.ngettext(
            "Of the {n} people on this server (bots not counted)",
            "Of the {n} people on this server (bots not counted)",
            counts.population,
        ).format(n=counts.population)
    else:
        counts = await cog.service.status(guild.id, None, population=guild.member_count)
        basis = tr.ngettext(
            "Of about {n} members (Discord's count: I couldn't load the "
            "member list just now, so this includes bots and may include people who "
            "accepted and later left)",
            "Of about {n} members (Discord's count: I couldn't load the "
            "member list just now, so this includes bots and may include people who "
            "accepted and later left)",
            counts.population,
        ).format(n=counts.population)
    return (
        basis
        + ":\n"
        + tr.gettext("- **{n}** accepted the current version ({version})").format(
            n=counts.accepted_current, version=counts.version
        )
        + "\n"
        + tr.gettext("- **{n}** accepted only an older version").format(n=counts.accepted_older)
        + "\n"
        + tr.gettext("- **{n}** haven't accepted any version").format(n=counts.accepted_none)
    )


@pager("guide_history", coordinators_only=True)
async def _history_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    """Versions newest first, `HISTORY_PAGE` a page (paged in SQL: there may be hundreds)."""
    bot = hearth(interaction)
    guild_id = guild_of(interaction).id
    group_id = int(arg) or None
    name = (await bot.service(GroupService).get(guild_id, group_id)).name if group_id else None
    service = bot.service(GuidelinesService)
    versions, total = await service.history(
        guild_id, group_id, limit=HISTORY_PAGE, offset=page * HISTORY_PAGE
    )
    pages = max(1, math.ceil(total / HISTORY_PAGE))
    if not versions and page > 0:
        return await _history_page(interaction, arg, pages - 1)
    tr = await texts(interaction)
    scope = scope_label(name, tr)
    header = (
        tr.gettext("**Versions of {scope}** (newest first, page {page} of {pages}):").format(
            scope=scope, page=page + 1, pages=pages
        )
        if pages > 1
        else tr.gettext("**Versions of {scope}** (newest first):").format(scope=scope)
    )
    lines = [header]
    for entry in versions:
        line = (
            tr.gettext("- **Version {version}** — current: {when} by {editor}")
            if page == 0 and entry is versions[0]
            else tr.gettext("- **Version {version}**: {when} by {editor}")
        )
        lines.append(
            line.format(
                version=entry.version,
                when=format_dt(entry.created_at, "f"),
                editor=f"<@{entry.edited_by}>",
            )
        )
    return Page(content="\n".join(lines), page=page, pages=pages)
