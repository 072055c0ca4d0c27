"""The shared pager's splitting: every line lands on exactly one page, each within its limit."""

from __future__ import annotations

from bot.i18n import ENGLISH
from bot.services.text import split_text
from cogs._pages import line_page, split_lines


def test_split_lines_keeps_every_line_in_order_within_the_budget() -> None:
    lines = [f"line {n} " + "x" * (n % 90) for n in range(300)]
    chunks = split_lines(lines, 500, max_lines=20)
    assert [line for chunk in chunks for line in chunk] == lines
    assert all(len("\n".join(chunk)) <= 500 and len(chunk) <= 20 for chunk in chunks)


def test_line_page_clamps_the_page_and_says_where_you_are() -> None:
    lines = [f"item {n:03d} " + "y" * 80 for n in range(100)]
    last, shown = line_page("**Things**", lines, 999, footer="the end", tr=ENGLISH)
    assert last.page == last.pages - 1 and last.pages > 1
    assert last.content.startswith(f"**Things** (page {last.pages} of {last.pages})")
    assert last.content.endswith("the end") and len(last.content) <= 2000
    assert shown[-1] == 99
    pages = [line_page("**Things**", lines, n, tr=ENGLISH)[1] for n in range(last.pages)]
    assert [i for page in pages for i in page] == list(range(100))


def test_split_text_breaks_long_text_at_lines_and_a_huge_line_at_spaces() -> None:
    text = "\n".join(["short"] * 10 + ["word " * 900] + ["tail"])
    parts = split_text(text)
    assert all(len(part) <= 2000 for part in parts) and len(parts) >= 3
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())
    assert split_text("") == [""]
