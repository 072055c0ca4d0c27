"""Pages for every private list that grows with the server, with persistent Prev/Next buttons.

A list is never cut to fit Discord's limits (2,000 characters of content, 4,096 of an embed's
description, 25 components): it is split into pages, and the buttons carry everything needed to
show another page (which list, who asked, its argument, the page number) in their custom_id. So
paging needs no memory in the bot and keeps working after a restart.

A feature registers a renderer per list with `@pager("kind")`; the renderer is called with the
interaction, the argument and the wanted page, and returns a `Page`. Most renderers build every
line and hand them to `line_page`, which splits them the same way each time.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import UserFacingError
from bot.i18n import N_, Texts
from bot.i18n_discord import texts
from bot.services.text import split_text
from bot.tree import NO_MENTIONS
from cogs._routes import PersistentButton
from cogs._ui import DynamicView, require_coordinator

if TYPE_CHECKING:
    from bot.app import HearthBot

CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
MAX_ITEMS_PER_PAGE = 20  # four rows of a page's own buttons; the fifth row holds Prev/Next
_ARG = re.compile(r"[\w.\-]*")
PREV_NEXT = (N_("← Previous"), N_("Next →"))  # a list's own labels are marked N_ as well


@dataclass
class Page:
    """One page as the person sees it: text (or an embed) and any buttons of its own items."""

    content: str = ""
    embed: discord.Embed | None = None
    items: list[discord.ui.DynamicItem[Any]] = field(default_factory=list)
    page: int = 0
    pages: int = 1


Renderer = Callable[[discord.Interaction, str, int], Awaitable[Page]]
_RENDERERS: dict[str, Renderer] = {}
_LABELS: dict[str, tuple[str, str]] = {}
_COORDINATORS_ONLY: set[str] = set()


def pager(
    kind: str,
    *,
    labels: tuple[str, str] = PREV_NEXT,
    coordinators_only: bool = False,
) -> Callable[[Renderer], Renderer]:
    """Register the renderer of one paged list under `kind` (letters and underscores).

    `coordinators_only` re-checks the presser's role on every page, as the command did.
    """
    if not re.fullmatch(r"[a-z_]{1,16}", kind):
        raise ValueError(f"bad pager kind: {kind!r}")

    def register(renderer: Renderer) -> Renderer:
        _RENDERERS[kind] = renderer
        _LABELS[kind] = labels
        if coordinators_only:
            _COORDINATORS_ONLY.add(kind)
        return renderer

    return register


def install_pages(bot: HearthBot) -> None:
    """Route page presses; every cog with a paged list calls this in `cog_load` (idempotent)."""
    bot.add_dynamic_items(PageButton)


def split_lines(lines: Sequence[str], budget: int, max_lines: int | None = None) -> list[list[str]]:
    """Consecutive runs of lines, each joined with newlines within `budget` characters.

    A single line longer than the budget (never expected: callers bound their lines) is
    shortened with an ellipsis rather than breaking the page.
    """
    chunks: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if len(line) > budget:
            line = line[: budget - 1] + "…"
        full = max_lines is not None and len(chunks[-1]) >= max_lines
        if chunks[-1] and (full or size + 1 + len(line) > budget):
            chunks.append([])
            size = 0
        size += len(line) + (1 if len(chunks[-1]) else 0)
        chunks[-1].append(line)
    return chunks


def line_page(
    header: str,
    lines: Sequence[str],
    page: int,
    *,
    footer: str = "",
    budget: int = CONTENT_LIMIT,
    max_lines: int | None = None,
    tr: Texts,
) -> tuple[Page, list[int]]:
    """Page `page` (clamped) of `lines` under `header`; also returns the indexes it shows.

    The header gets "(page x of y)" in `tr`'s language (the reader's: required, so no list can
    forget it) when there is more than one page, so the budget keeps room for that and for the
    footer.
    """
    room = budget - len(header) - len(footer) - len(" (page 999 of 999)") - 2
    chunks = split_lines(lines, room, max_lines)
    page = min(max(page, 0), len(chunks) - 1)
    first = sum(len(chunk) for chunk in chunks[:page])
    shown = chunks[page]
    title = (
        header
        if len(chunks) == 1
        else tr.gettext("{header} (page {page} of {pages})").format(
            header=header, page=page + 1, pages=len(chunks)
        )
    )
    text = "\n".join([title, *shown] + ([footer] if footer else []))
    return Page(content=text, page=page, pages=len(chunks)), list(range(first, first + len(shown)))


def page_view(kind: str, viewer_id: int, arg: str, page: Page, tr: Texts) -> DynamicView | None:
    """The page's own items, then Prev/Next (labelled in `tr`'s language) when there is more
    than one page."""
    if not page.items and page.pages <= 1:
        return None
    view = DynamicView()
    for item in page.items:
        view.add_item(item)
    if page.pages > 1:
        back, forward = (tr.gettext(label) for label in _LABELS.get(kind, PREV_NEXT))
        earlier, later = max(page.page - 1, 0), page.page + 1
        view.add_item(PageButton(kind, viewer_id, arg, earlier, "p", back, page.page == 0))
        view.add_item(PageButton(kind, viewer_id, arg, later, "n", forward, later >= page.pages))
    return view


async def send_paged(
    interaction: discord.Interaction,
    kind: str,
    arg: str = "",
    *,
    file: discord.File | None = None,
) -> None:
    """Answer a command privately with the first page of a registered list.

    A `file` goes with the first page and stays on the message while it is paged.
    """
    if not _ARG.fullmatch(arg):
        raise ValueError(f"bad page argument: {arg!r}")
    page = await _RENDERERS[kind](interaction, arg, 0)
    view = page_view(kind, interaction.user.id, arg, page, await texts(interaction))
    kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS, "ephemeral": True}
    if page.embed is not None:
        kwargs["embed"] = page.embed
    if view is not None:
        kwargs["view"] = view
    if file is not None:
        kwargs["file"] = file
    if interaction.response.is_done():
        await interaction.followup.send(page.content or discord.utils.MISSING, **kwargs)
    else:
        await interaction.response.send_message(page.content or None, **kwargs)


async def send_all(interaction: discord.Interaction, text: str) -> None:
    """Answer privately with all of `text`, in as many messages as it takes."""
    for part in split_text(text):
        if interaction.response.is_done():
            await interaction.followup.send(part, ephemeral=True, allowed_mentions=NO_MENTIONS)
        else:
            await interaction.response.send_message(
                part, ephemeral=True, allowed_mentions=NO_MENTIONS
            )


class PageButton(
    PersistentButton,
    route=r"hearth:page:{kind:[a-z_]+}:{viewer}:{arg:[\w.\-]*}:{page}:{way:[pn]}",
):
    """Previous/Next: the custom_id carries what list, whose, its argument and which page."""

    def __init__(
        self, kind: str, viewer: int, arg: str, page: int, way: str, text: str = "Page",
        disabled: bool = False,
    ) -> None:  # fmt: skip
        super().__init__(
            self.button(
                kind, viewer, arg, page, way,
                label=text, style=discord.ButtonStyle.secondary, disabled=disabled,
            )
        )  # fmt: skip
        self.kind, self.viewer, self.arg, self.page = kind, viewer, arg, page

    @classmethod
    def from_route(cls, item: discord.ui.Item[Any], *values: int | str) -> PageButton:
        kind, viewer, arg, page, way = values
        label = getattr(item, "label", None) or "Page"
        return cls(str(kind), int(viewer), str(arg), int(page), str(way), label)

    async def callback(self, interaction: discord.Interaction) -> None:
        if self.viewer != interaction.user.id:
            raise UserFacingError(
                N_("These buttons belong to whoever ran the command; run it yourself to browse.")
            )
        kind, arg = self.kind, self.arg
        if kind in _COORDINATORS_ONLY:
            await require_coordinator(interaction)
        renderer = _RENDERERS.get(kind)
        if renderer is None:
            raise UserFacingError(N_("That list isn't available any more; run the command again."))
        page = await renderer(interaction, arg, self.page)
        await interaction.response.edit_message(
            content=page.content or None,
            embed=page.embed,
            view=page_view(kind, interaction.user.id, arg, page, await texts(interaction)),
        )


__all__ = [
    "Page",
    "PageButton",
    "install_pages",
    "line_page",
    "page_view",
    "pager",
    "send_all",
    "send_paged",
    "split_lines",
]
