"""The `/admin audit` pages, on the shared pager (`cogs/_pages.py`).

Entries are paged in SQL, ten at a time, newest first. The page lives in an embed so ten entries
with long details always fit (Discord allows 4,096 characters there, 2,000 in a message); a detail
is shortened for display only, and `/admin export` has every entry in full. Each entry is shown
in the reader's language: the action's name, and its detail rendered from its template and
values (a row written before templates shows its detail as stored).
"""

from __future__ import annotations

import math

import discord
from discord.utils import format_dt

from bot.i18n import N_
from bot.i18n_discord import texts
from cogs._pages import Page, pager
from cogs._ui import guild_of, hearth

PAGE_SIZE = 10
DETAIL_LIMIT = 140
VALUE_LIMIT = 60  # each value in a detail (a name, a phrase typed in): its template is never cut


def audit_arg(actor_id: int, days: int) -> str:
    return f"{actor_id}.{days}"


@pager("audit", labels=(N_("← Newer"), N_("Older →")), coordinators_only=True)
async def render_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    """One page of the trail; actor 0 means everyone."""
    actor_text, days_text = arg.split(".")
    actor_id, days = int(actor_text), int(days_text)
    bot = hearth(interaction)
    guild_id = guild_of(interaction).id
    entries, total = await bot.audit_log.list(
        guild_id,
        actor_id=actor_id or None,
        days=days,
        limit=PAGE_SIZE,
        offset=page * PAGE_SIZE,
    )
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page >= pages and page > 0:
        return await render_page(interaction, arg, pages - 1)
    tr = await texts(interaction)
    if actor_id:
        header = tr.ngettext(
            "**Audit trail** by {actor}, last {n} day",
            "**Audit trail** by {actor}, last {n} days",
            days,
        ).format(n=days, actor=f"<@{actor_id}>")
    else:
        header = tr.ngettext(
            "**Audit trail**, last {n} day", "**Audit trail**, last {n} days", days
        ).format(n=days)
    if total == 0:
        return Page(content=tr.gettext("{header}: nothing was recorded.").format(header=header))
    lines = []
    for entry in entries:
        if entry.detail_msgid is not None:  # in the reader's language, each value kept short
            detail = entry.detail_in(tr, clip=VALUE_LIMIT)
        else:  # written before templates: as stored
            detail = entry.detail
            if len(detail) > DETAIL_LIMIT:
                detail = detail[: DETAIL_LIMIT - 1] + "…"
        lines.append(
            f"{format_dt(entry.created_at, 'f')} <@{entry.actor_id}> **{entry.name_in(tr)}**"
            + (f" — {detail}" if detail else "")
        )
    summary = tr.ngettext(
        "{header}: {n} entry (page {page} of {pages})",
        "{header}: {n} entries (page {page} of {pages})",
        total,
    ).format(header=header, n=total, page=page + 1, pages=pages)
    embed = discord.Embed(description="\n".join(lines))
    embed.set_footer(text=tr.gettext("/admin export has every entry in full."))
    return Page(content=summary, embed=embed, page=page, pages=pages)
