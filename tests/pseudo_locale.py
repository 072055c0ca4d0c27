"""The pseudo-locale run: every visible text Hearth sends must have gone through a catalogue.

    HEARTH_PSEUDO_LOCALE=wrap HEARTH_PSEUDO_STRICT=1 .venv/bin/python -m pytest -q

With HEARTH_PSEUDO_LOCALE set, every fake person's client and every fake server run in the
pseudo-locale (`xx-PSEUDO`, `bot/i18n.py`), so each message that went through a catalogue
reads ⟦…⟧. The fake Discord hands this plugin every body the bot sends (`bot_body_hook`),
before the spec check and the route see it; the plugin takes the visible text out of it
(contents, embeds, buttons, selects, modals, thread, channel and event names, the
human-readable parts of files: a member's export, a calendar) and records any that holds words
outside ⟦…⟧: text that did not go through a catalogue. What people typed (option values, modal
answers, their messages) and names (servers, channels, roles, people) are data, shown as
written, so they are not counted.

Then it takes the ⟦ ⟧ out, so the route, and the test's own assertions, see what an English
reader would: with `=wrap` (wrapped, not accented) the whole suite runs unchanged under the
pseudo-locale, and CI runs it so on PostgreSQL (`.ci/run`). `=1` accents too, for a person to
look at (the suite's English assertions then fail, as they should).

`HEARTH_PSEUDO_STRICT=1` fails each test that sent an unwrapped text; otherwise the run ends
with a summary, and `HEARTH_PSEUDO_REPORT=path` writes every unwrapped text, one JSON object a
line. Registered for every run (tests/conftest.py), and idle unless the variable is set.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import discord
import pytest

from bot import i18n
from tests.fakediscord import FakeDiscord
from tests.fakediscord.messages import Upload

_found: dict[str, set[str]] = {}  # unwrapped rest -> test ids
_problems: list[Untranslated] = []  # this test's
_given: set[str] = set()  # this test's own texts, handed to the bot as data (`given`)

# Keys whose text a person reads; `value` only as an embed field's (elsewhere it is a select
# option's or a choice's id, or a text input's prefilled data), and an emoji's name is markup.
_VISIBLE = frozenset(
    {"content", "title", "description", "name", "text", "label", "placeholder", "topic", "reason"}
)  # `reason`: what moderators read in the server's audit log (the fake hands it over so)
_NOT_TEXT = frozenset({"custom_id", "url", "emoji", "allowed_mentions", "message_reference"})
_MARKERS = str.maketrans("", "", i18n.OPEN + i18n.CLOSE)
# What a person reads in the files Hearth sends: a member's export explains itself ("about", and
# each table's "what"); a calendar has a name, and a summary and description per event. The
# server export (a zip) is a machine-readable archive: its keys and codes are the format.
_EXPORT_KEYS = frozenset({"about", "what"})
_CALENDAR_FIELDS = ("X-WR-CALNAME:", "SUMMARY:", "DESCRIPTION:")


def _enabled() -> bool:
    return os.environ.get(i18n.PSEUDO_ENV, "") not in ("", "0")


def pytest_configure(config: pytest.Config) -> None:
    if not _enabled():
        return
    original = FakeDiscord.__init__

    def tracked(self: FakeDiscord, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.bot_body_hook = Checker(self, _problems)

    FakeDiscord.__init__ = tracked  # type: ignore[method-assign]  # the run's own hook


def given(text: str) -> str:
    """`text`, which a test hands the bot as data (an alert's wording, a seeded group's name):
    shown as written, so the run does not count it. Idle outside the run."""
    _given.add(text)
    return text


def visible(
    value: Any, key: str = "", parent: str = "", *, only: frozenset[str] = _VISIBLE
) -> Iterator[str]:
    """The texts of a request body a person reads (those under the keys `only`)."""
    if isinstance(value, str):
        if key in only or (key == "value" and parent == "fields" and only is _VISIBLE):
            yield value
    elif isinstance(value, dict):
        for name, item in value.items():
            if name not in _NOT_TEXT:
                yield from visible(item, name, key, only=only)
    elif isinstance(value, list):
        for item in value:
            yield from visible(item, key, parent, only=only)


def _export_texts(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for name, item in value.items():
            if name in _EXPORT_KEYS and isinstance(item, str):
                yield item
            else:
                yield from _export_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _export_texts(item)


def file_texts(upload: Upload) -> Iterator[str]:
    """The human-readable parts of a file the bot sends."""
    name = upload.filename.lower()
    if name.endswith(".json"):
        yield from _export_texts(json.loads(upload.data))
    elif name.endswith(".ics"):
        unfolded = upload.data.decode("utf-8").replace("\r\n ", "")
        for line in unfolded.splitlines():
            if line.startswith(_CALENDAR_FIELDS):
                yield line.partition(":")[2].replace("\\,", ",").replace("\\;", ";")


def shown(text: str) -> str:
    """`text` as a person sees it: without the run's marks, for a test that compares a text
    Hearth returns (not one the fake received) in either run."""
    return text.translate(_MARKERS)


def _unwrapped(value: Any) -> Any:
    if isinstance(value, str):
        return value.translate(_MARKERS)
    if isinstance(value, dict):
        return {key: _unwrapped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrapped(item) for item in value]
    return value


def _unwrap_file(upload: Upload) -> None:
    name = upload.filename.lower()
    if name.endswith((".json", ".ics")):
        upload.data = upload.data.decode("utf-8").translate(_MARKERS).encode("utf-8")


class Data:
    """What people wrote or named in one fake, shown as written in any language: kept up to
    date as the fake grows (a 10,000-message burst must not be re-read at every message)."""

    def __init__(self, fake: FakeDiscord) -> None:
        self._fake = fake
        self._typed: set[str] = set()  # messages and interactions, read once each
        self._messages = self._interactions = 0
        self._named: set[str] = set()
        self._named_size = -1
        self._values: list[str] = []
        self._version: tuple[int, ...] = ()

    def values(self) -> list[str]:
        """Every data text (and as Hearth shows it), longest first."""
        fake = self._fake
        for message in itertools.islice(fake.messages.values(), self._messages, None):
            if message.author.id != fake.bot_user.id and message.content:
                self._typed.update(_as_shown(message.content))
        self._messages = len(fake.messages)
        for interaction in itertools.islice(fake.interactions.values(), self._interactions, None):
            for text in _strings(interaction.data):
                if not text.isdigit():
                    self._typed.update(_as_shown(text))
        self._interactions = len(fake.interactions)
        size = len(fake.users) + sum(
            len(g.channels) + len(g.roles) + len(g.members) + len(g.scheduled_events) + 1
            for g in fake.guilds.values()
        )
        if size != self._named_size:
            self._named = {v for name in _names(fake) for v in _as_shown(name)}
            self._named_size = size
        version = (len(self._typed), len(self._named), len(_given))
        if version != self._version:
            given = {v for text in _given for v in _as_shown(text)}
            self._values = _longest_first(self._typed | self._named | given | _LANGUAGE_NAMES)
            self._version = version
        return self._values


def _names(fake: FakeDiscord) -> Iterator[str]:
    for user in fake.users.values():
        yield from (n for n in (user.username, user.global_name) if n)
    for guild in fake.guilds.values():
        yield guild.name
        yield from (c.name for c in guild.channels.values() if c.name)
        yield from (r.name for r in guild.roles.values())
        yield from (m.nick for m in guild.members.values() if m.nick)
        yield from (e.name for e in guild.scheduled_events.values())


# Languages named in their own words ("español"): Babel's locale data, the same for everyone.
_LANGUAGE_NAMES = frozenset(i18n.language_name(code) for code in i18n.available_languages())


_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def _as_shown(value: str) -> Iterator[str]:
    """`value` as typed, and as Hearth stores and shows it: trimmed, invisible characters taken
    out, Markdown escaped."""
    yield value
    cleaned = " ".join(_INVISIBLE.sub("", value).split())
    yield cleaned
    yield discord.utils.escape_markdown(cleaned)


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class Checker:
    """One fake's `bot_body_hook`: records in `found` what was not wrapped, and returns the
    body unwrapped."""

    def __init__(self, fake: FakeDiscord, found: list[Untranslated]) -> None:
        self._data = Data(fake)
        self._found = found
        # Button labels that went through a catalogue, as the fake keeps them (unmarked): a label
        # Hearth reads back from its own message and sends again (a Close button kept in the
        # language it was sent in) went through one, once. Labels only: a text shown once
        # wrapped must not excuse the same words elsewhere unwrapped.
        self._echoes: set[str] = set()

    def __call__(self, route: str, body: dict[str, Any], uploads: list[Upload]) -> dict[str, Any]:
        texts = list(visible(body))
        for upload in uploads:
            texts += file_texts(upload)
            _unwrap_file(upload)
        for label in visible(body, only=frozenset({"label"})):
            if _WRAPPED.fullmatch(label):
                self._echoes.add(label.translate(_MARKERS))
        # Data is gathered only when something is left: most bodies are wholly wrapped.
        if untranslated(texts):
            known = self._data.values() + _longest_first(self._echoes)  # (echoes: a few labels)
            self._found.extend(untranslated(texts, sorted_data=known))
        return dict(_unwrapped(body))


_WRAPPED = re.compile(re.escape(i18n.OPEN) + r"[^⟦⟧]*" + re.escape(i18n.CLOSE))
# What is never prose: Discord markup (<t:…>, <@…>, <#…>, </cmd:…>), links, code spans, :emoji:,
# snake_case keys (`max_shifts_per_week`), IANA time-zone names (Europe/London), UTC offsets.
_MARKUP = re.compile(
    r"<[^<>\s]+>|https?://\S+|`[^`]*`|:[a-z0-9_]+:"
    r"|\b[a-z0-9]+(?:_[a-z0-9]+)+\b"
    r"|\b[A-Z][A-Za-z_+-]*(?:/[A-Za-z0-9_+-]+)+\b|\bUTC\b"
)
# A catalogue text the bot cut short to fit a limit (a label of 80) loses its closing mark.
_CUT_WRAPPED = re.compile(re.escape(i18n.OPEN) + r"[^⟦⟧]*$")
_LETTER = re.compile(r"[^\W\d_]")
_PREFIX_MIN = 12  # a data text cut short (a 100-character label) is still data, from here on


@dataclass(frozen=True)
class Untranslated:
    text: str  # the visible text as shown
    rest: str  # what was left outside ⟦…⟧ once markup and known data were removed


def _without_data(rest: str, value: str) -> str:
    """`rest` without `value`, also where it was shown cut short (a label of 100, a select
    option, a page's last line): from its first `_PREFIX_MIN` characters for as long as it
    agrees. A shorter value goes only as whole words: a role named "coordinator" must not hide
    "Only coordinators can…"."""
    if len(value) < _PREFIX_MIN:
        return re.sub(r"(?<!\w)" + re.escape(value) + r"(?!\w)", " ", rest)
    head = value[:_PREFIX_MIN]
    start = rest.find(head)
    while start != -1:
        end = start + _PREFIX_MIN
        while end < len(rest) and end - start < len(value) and rest[end] == value[end - start]:
            end += 1
        # All of it, or as much as was shown before a cut ("…", a line's or the text's end).
        if end - start == len(value) or rest[end : end + 1] in ("", "…", "\n"):
            rest = rest[:start] + " " + rest[end:]
            start = rest.find(head)
        else:
            start = rest.find(head, start + 1)
    return rest


def _longest_first(data: Iterable[str]) -> list[str]:
    return sorted({d for d in data if d.strip()}, key=len, reverse=True)


def untranslated(
    shown: Iterable[str], data: Iterable[str] = (), *, sorted_data: list[str] | None = None
) -> list[Untranslated]:
    """Visible texts seen under the pseudo-locale that hold words outside ⟦…⟧: text that did not
    go through a catalogue. `data` is what people wrote (group names, helplines), shown as
    written, whole or cut short (`sorted_data`: the same, already longest first)."""
    values = sorted_data if sorted_data is not None else _longest_first(data)
    found: list[Untranslated] = []
    for text in shown:
        rest = text
        while True:  # innermost first: a message formatted into another
            stripped = _WRAPPED.sub(" ", rest)
            if stripped == rest:
                break
            rest = stripped
        rest = _CUT_WRAPPED.sub(" ", rest)
        for value in values:  # before markup: a member may type a link or a `code span`
            if value[:_PREFIX_MIN] in rest:  # (most are not there: a substring test first)
                rest = _without_data(rest, value)
        rest = _MARKUP.sub(" ", rest)
        if _LETTER.search(rest):
            found.append(Untranslated(text, " ".join(rest.split())))
    return found


@pytest.fixture(autouse=True)
def pseudo_locale_check(request: pytest.FixtureRequest) -> Iterator[None]:
    if not _enabled():
        yield
        return
    # The end-to-end suite is Hearth's as people see it; the fake's own tests send whatever
    # they like, and unit tests compare texts unmarked.
    in_e2e = "e2e" in request.node.path.parts
    i18n.enable_pseudo(in_e2e)
    _problems.clear()
    _given.clear()
    yield
    problems = list(_problems) if in_e2e else []
    _problems.clear()
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
