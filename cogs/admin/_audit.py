"""The `/admin audit` pages and their Prev/Next buttons.

The page state (who asked, the filter, the page) lives in the buttons' custom_ids, so paging
needs no memory in the bot and keeps working after a restart.
"""

from __future__ import annotations

import math
import re
from typing import Any

import discord

from bot.app import HearthBot
from bot.errors import UserFacingError
from cogs._ui import DynamicView, guild_of, hearth, require_coordinator, routed_errors

PAGE_SIZE = 10
DETAIL_LIMIT = 140


async def render_page(
    bot: HearthBot, guild_id: int, viewer_id: int, actor_id: int, days: int, page: int
) -> tuple[str, DynamicView | None]:
    """One page of the trail, newest first; `actor_id` 0 means everyone."""
    entries, total = await bot.audit_log.list(
        guild_id,
        actor_id=actor_id or None,
        days=days,
        limit=PAGE_SIZE,
        offset=page * PAGE_SIZE,
    )
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page >= pages and page > 0:
        return await render_page(bot, guild_id, viewer_id, actor_id, days, pages - 1)
    who = f" by <@{actor_id}>" if actor_id else ""
    header = f"**Audit trail**{who}, last {days} day{'s' if days != 1 else ''}"
    if total == 0:
        return f"{header}: nothing was recorded.", None
    lines = [f"{header}: {total} entr{'ies' if total != 1 else 'y'} (page {page + 1} of {pages})"]
    for entry in entries:
        stamp = int(entry.created_at.timestamp())
        detail = entry.detail if len(entry.detail) <= DETAIL_LIMIT else entry.detail[:139] + "…"
        lines.append(
            f"<t:{stamp}:f> <@{entry.actor_id}> **{entry.action}**"
            + (f" — {detail}" if detail else "")
        )
    if pages == 1:
        return "\n".join(lines)[:2000], None
    view = DynamicView()
    base = f"hearth:admin:audit:{viewer_id}:{actor_id}:{days}"
    view.add_item(AuditPageButton(f"{base}:{max(page - 1, 0)}:p", "← Newer", page == 0))
    view.add_item(AuditPageButton(f"{base}:{page + 1}:n", "Older →", page + 1 >= pages))
    return "\n".join(lines)[:2000], view


class AuditPageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"hearth:admin:audit:(?P<viewer>\d+):(?P<actor>\d+):(?P<days>\d+):(?P<page>\d+):[pn]",
):
    def __init__(self, custom_id: str, text: str = "Page", disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=text,
                style=discord.ButtonStyle.secondary,
                custom_id=custom_id,
                disabled=disabled,
            )
        )
        match = self.template.fullmatch(custom_id)
        if match is None:
            raise ValueError(f"not an audit page id: {custom_id}")
        self.match = match

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AuditPageButton:
        return cls(match.string)

    @routed_errors
    async def callback(self, interaction: discord.Interaction) -> None:
        if int(self.match["viewer"]) != interaction.user.id:
            raise UserFacingError(
                "These buttons belong to whoever ran `/admin audit`; run it yourself to browse."
            )
        await require_coordinator(interaction)
        guild = guild_of(interaction)
        content, view = await render_page(
            hearth(interaction),
            guild.id,
            interaction.user.id,
            int(self.match["actor"]),
            int(self.match["days"]),
            int(self.match["page"]),
        )
        await interaction.response.edit_message(content=content, view=view)
