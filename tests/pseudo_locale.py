"""The pseudo-locale run: every visible text Hearth sends must have gone through a catalogue.

    HEARTH_PSEUDO_LOCALE=1 .venv/bin/python -m pytest -p tests.pseudo_locale tests/e2e -n 2

With HEARTH_PSEUDO_LOCALE set, every fake person's client and every fake server run in the
pseudo-locale (`xx-PSEUDO`, `bot/i18n.py`), so each message that went through a catalogue
reads ⟦áççéñtéd⟧. After each test this plugin reads what every fake received from the bot
(message contents, embeds, buttons, selects, modals) and reports the text that holds words
outside ⟦…⟧: strings not wrapped yet. What people typed (option values, modal answers, their
messages) and names (servers, channels, roles, people) are data, shown as written, so they are
not counted.

`HEARTH_PSEUDO_LOCALE=wrap` wraps without accenting, so the suite's English assertions mostly
still hold and each test runs to its end (a fuller count); `=1` accents too, as a person would
see it. `HEARTH_PSEUDO_STRICT=1` fails each test that showed an unwrapped text (the goal once
every string is wrapped); otherwise the run ends with a summary, and
`HEARTH_PSEUDO_REPORT=path` writes every unwrapped text, one JSON object a line.

Not part of the default test command: until every string is wrapped it would fail.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from bot import i18n
from tests.fakediscord import FakeDiscord
from tests.fakediscord.actions import flatten_components

_fakes: list[FakeDiscord] = []
_found: dict[str, set[str]] = {}  # unwrapped rest -> test ids


def _enabled() -> bool:
    return os.environ.get(i18n.PSEUDO_ENV, "") not in ("", "0")


def pytest_configure(config: pytest.Config) -> None:
    if not _enabled():
        return
    original = FakeDiscord.__init__

    def tracked(self: FakeDiscord, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _fakes.append(self)

    FakeDiscord.__init__ = tracked  # type: ignore[method-assign]  # the run's own hook


def _component_texts(components: list[dict[str, Any]]) -> Iterator[str]:
    for comp in flatten_components(components):
        for key in ("label", "placeholder", "content"):
            if comp.get(key):
                yield str(comp[key])
        for option in comp.get("options") or []:
            yield str(option.get("label", ""))
            if option.get("description"):
                yield str(option["description"])


def shown(fake: FakeDiscord) -> Iterator[str]:
    """Every text the bot made visible in this fake."""
    bot_id = fake.bot_user.id
    for message in fake.messages.values():
        if message.author.id != bot_id:
            continue
        if message.content:
            yield message.content
        for embed in message.embeds:
            for key in ("title", "description"):
                if embed.get(key):
                    yield str(embed[key])
            for field in embed.get("fields") or []:
                yield str(field.get("name", ""))
                yield str(field.get("value", ""))
            if (embed.get("footer") or {}).get("text"):
                yield str(embed["footer"]["text"])
        yield from _component_texts(message.components)
    for interaction in fake.interactions.values():
        if interaction.modal:
            yield str(interaction.modal.get("title", ""))
            yield from _component_texts(interaction.modal.get("components") or [])


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def data(fake: FakeDiscord) -> set[str]:
    """What people wrote or named: shown as written, in any language."""
    found: set[str] = set()
    for interaction in fake.interactions.values():
        found.update(s for s in _strings(interaction.data) if not s.isdigit())
    for message in fake.messages.values():
        if message.author.id != fake.bot_user.id and message.content:
            found.add(message.content)
    for user in fake.users.values():
        found.update(n for n in (user.username, user.global_name) if n)
    for guild in fake.guilds.values():
        found.add(guild.name)
        found.update(c.name for c in guild.channels.values() if c.name)
        found.update(r.name for r in guild.roles.values())
        found.update(m.nick for m in guild.members.values() if m.nick)
        found.update(e.name for e in guild.scheduled_events.values())
    return {value for value in found if len(value) > 1}


@pytest.fixture(autouse=True)
def pseudo_locale_check(request: pytest.FixtureRequest) -> Iterator[None]:
    if not _enabled():
        yield
        return
    i18n.enable_pseudo(True)
    _fakes.clear()
    yield
    problems = []
    for fake in _fakes:
        problems += i18n.untranslated(shown(fake), data(fake))
    _fakes.clear()
    for problem in problems:
        _found.setdefault(problem.rest, set()).add(request.node.nodeid)
    report = os.environ.get("HEARTH_PSEUDO_REPORT")
    if report and problems:
        with open(report, "a", encoding="utf-8") as handle:
            for problem in problems:
                line = {"test": request.node.nodeid, "text": problem.text, "rest": problem.rest}
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    if os.environ.get("HEARTH_PSEUDO_STRICT", "") not in ("", "0") and problems:
        listed = "\n".join(f"  {p.rest!r} in {p.text[:120]!r}" for p in problems[:20])
        pytest.fail(f"{len(problems)} visible texts did not go through a catalogue:\n{listed}")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _enabled() or not _found:
        return
    terminalreporter.write_line(
        f"pseudo-locale: {len(_found)} distinct visible texts not wrapped "
        f"(in {len({t for tests in _found.values() for t in tests})} tests)"
    )
