"""Every value a Discord client can send gets a clear, kind answer.

The leaf commands and their options are read from what the bot synced (so a command added later is
run too), and each option's values are drawn by hypothesis from its declared schema: empty, padded
and whitespace-only text within the declared lengths, the declared extremes of every number, ids
and mentions from another server, `@everyone`/`@here`/role mentions, markdown, right-to-left and
zero-width characters, 1,500-character texts, people who are not in the server, channels Hearth
cannot see, roles it cannot give. Each run, as a member, as a coordinator, and as a member in DMs
(the commands Discord offers there), must:

- get an answer that exists, is private, and shows no error code and no traceback;
- log no ERROR;
- change nothing when a member tries a coordinator command, or when the answer says nothing was
  changed (the database is compared);
- never ping `@everyone`, `@here` or a role in anything posted publicly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from bot.app import HearthBot
from bot.db import Database
from bot.services.settings import SETTING_KEYS
from cogs._ui import requires_coordinator
from tests import pseudo_locale
from tests.fakediscord import FakeChannel, FakeMember, FakeRole, FakeUser, Perm
from tests.fakediscord.models import STAGE, VOICE
from tests.fakediscord.options import (
    BOOLEAN,
    CHANNEL,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    USER,
    ignore_declared_limits,
)
from tests.fakediscord.permissions import DEFAULT_BOT
from tests.harness import Harness, bot_of
from tests.helpers import dump, greeted, synced_leaves

ERROR_CODE = re.compile(r"\bE-[0-9A-F]{6}\b")
# A refusal that says so: what it claims must hold in the database.
CLAIMS_NOTHING = re.compile(
    r"nothing (was )?(changed|created|added|removed|saved|posted|deleted)|nothing changed", re.I
)
TRACEBACK = re.compile(r"Traceback|File \"|Error:|Exception")

# Odd but client-valid text, each also tried decorated (padded, zero-width, RTL, markdown).
ODD_TEXTS = [
    "",
    " ",
    "   \t  ",
    "\u200b",
    "\u200f\u202e",
    "@everyone",
    "@here",
    "@everyone look @here",
    "**bold** _it_ ~~x~~ ||spoiler|| `code` > quote",
    "```py\nprint('hi')\n```",
    "[link](https://example.com)",
    "\u202eevil\u202c",
    "مرحبا بالعالم",
    "🙂👩‍👩‍👧‍👦",
    "0",
    "-1",
    "#0",
    "²",
    "٣",
    "99999999999999999999999",
    "-9223372036854775809",
    "9999-12-31",
    "9999-12-31 23:59",
    "0000-00-00 00:00",
    "sun 23:59",
    "24:00",
    "1000h",
    "0h0m",
    "Europe",
    "Europe/London/..",
    "../../etc/passwd",
    "a" * 300,
    "none",
    "off",
    "%",
    "_",
    "'; DROP TABLE groups; --",
    "\\",
    "\n\n\n",
    "Hello, I'm struggling today. " * 52,  # about 1,500 characters
]
DECORATIONS = [
    lambda s: s,
    lambda s: f"   {s}   ",
    lambda s: f"\u200b{s}\u200b",
    lambda s: f"\u200f{s}",
    lambda s: s.upper(),
    lambda s: f"**{s}**",
    lambda s: f"{s}\n",
]


@dataclass
class World:
    """A lived-in server to aim at, and a second server whose ids Hearth must not confuse."""

    known_texts: list[str] = field(default_factory=list)
    hints: dict[str, list[str]] = field(default_factory=dict)  # option name -> likely values
    known_ids: list[int] = field(default_factory=list)
    people: list[FakeMember | FakeUser] = field(default_factory=list)
    roles: list[FakeRole] = field(default_factory=list)
    channels: list[FakeChannel] = field(default_factory=list)


async def _ok(hearth: Harness, person: Any, path: str, expect: str, **options: Any) -> str:
    reply = await hearth.slash(person, hearth.general, path, **options)
    assert expect in reply.text, f"/{path}: {reply.text}"
    return reply.text


async def build_world(hearth: Harness) -> World:
    bot = bot_of(hearth)
    guild = hearth.guild
    await greeted(hearth)
    await bot.settings.update(
        guild.id,
        None,
        coordinator_role_id=hearth.coordinator_role.id,
        supporter_role_id=hearth.supporter_role.id,
        alerts_channel_id=hearth.alerts.id,
        log_channel_id=hearth.log.id,
        support_channel_id=hearth.general.id,
        timezone="Europe/London",
    )
    # Many servers give bots Administrator: Hearth could ping everyone, so it must choose not to.
    guild.set_role_permissions(guild.bot_role, DEFAULT_BOT | Perm.MENTION_EVERYONE)
    pingable = guild.add_role("Carers", mentionable=True)
    top = guild.add_role("Above Hearth", position=guild.bot_role.position + 1)
    secret = guild.add_text_channel("secret", {guild.bot_member: (0, Perm.VIEW_CHANNEL)})
    other = hearth.fake.add_guild("Elsewhere", with_bot=True)
    other_role = other.add_role("other-role", mentionable=True)
    other_channel = other.add_text_channel("other-chan")
    outsider = other.add_member("outsider")
    await hearth.wait_for(lambda: bot_of(hearth).get_guild(other.id) is not None)

    coord, sup = hearth.coordinator, hearth.supporter
    await _ok(hearth, coord, "group create", "Created", name="Carers circle", description="d")
    await _ok(hearth, coord, "group create", "Created", name="Full", description="d", capacity=1)
    await _ok(hearth, hearth.member, "group join", "", name="Full")
    await _ok(hearth, coord, "rota create", "Created", name="Evening duty")
    added = await _ok(
        hearth, coord, "rota slots add", "Added", rota="Evening duty", start="2026-03-03 19:00",
        duration="2h", repeat_weeks=3,
    )  # fmt: skip
    slot_ids = [int(i) for i in re.findall(r"^#(\d+) ", added, re.M)]
    await _ok(hearth, coord, "rota training grant", "Recorded", member=sup)
    await _ok(hearth, sup, "rota claim", "You're on", slot=str(slot_ids[0]))
    await _ok(hearth, sup, "rota swap offer", "offered", slot=str(slot_ids[0]))
    await _ok(
        hearth, coord, "checkin schedule add", "is set", channel=hearth.general,
        prompt="How are you?", days="mon,wed", time="19:00",
    )  # fmt: skip
    await _ok(
        hearth, coord, "group sessions add", "Planned", group="Carers circle",
        start="2026-03-10 19:00", duration="90m",
    )  # fmt: skip
    await _ok(hearth, coord, "admin crisis add", "Added", name="Samaritans", contact="116 123")
    await _ok(hearth, coord, "admin crisis watch-phrase", "Watching", action="add", phrase="hurt")

    world = World()
    world.known_ids = [*slot_ids, 1, 2, 10**6]
    world.known_texts = [
        "Carers circle", "carers  CIRCLE", "Full", "Evening duty", "Samaritans", "hurt",
        *(str(i) for i in slot_ids), f"#{slot_ids[0]}", f"#{slot_ids[1]} Evening duty",
        "mon 19:00", "2026-03-10 19:00", "2h", "90m", "1h30m", "19:00", "7.30", "mon,wed",
        "weekdays", "daily", "Europe/London", "UTC", "24,1", "2026-12-31", "group", "rota",
        *SETTING_KEYS, "on", "off",
        f"<@&{pingable.id}>", f"<@&{other_role.id}>", f"<@&{guild.id}>", f"<#{other_channel.id}>",
        str(other_channel.id), str(other_role.id), f"<#{secret.id}>", f"<@{outsider.id}>",
        str(outsider.id), f"<@!{hearth.member.id}>", "#general", "@Carers", "@everyone",
    ]  # fmt: skip
    names = ["Carers circle", "carers  CIRCLE", "Full", "Evening duty", "Samaritans"]
    slots = [str(slot_ids[0]), f"#{slot_ids[1]}", f"#{slot_ids[2]} Evening duty", "0", "#-1"]
    world.hints = {
        "name": names,
        "group": names,
        "rota": names,
        "slot": slots,
        "session": ["1", "#1", "#1 Carers circle", "0", "#-1"],
        "key": list(SETTING_KEYS),
        "value": ["on", "none", "24,1", "Europe/London", "#general", "@Carers", "0", "9" * 30],
        "days": ["mon,wed", "weekdays", "daily", "Monday and Friday", "mon,fry"],
        "time": ["19:00", "7.30", "23:59", "24:00", "00:00", "1:5"],
        "timezone": ["Europe/London", "UTC", "america/new_york", "Europe", "Mars/Olympus"],
        "start": ["mon 19:00", "2026-03-10 19:00", "2026-02-30 10:00", "9999-12-31 23:59"],
        "duration": ["2h", "90m", "1h30m", "0m", "25h", "99999999999h"],
        "expires": ["2026-12-31", "2020-01-01", "9999-12-31", "2026-13-01", "20261231"],
        "reminder_hours": ["24,1", "1", "168,168", "0", "1,2,3,4,5,6", "²"],
        "command": ["group", "/rota", "rota swap offer", "admin", "setup"],
        "phrase": ["hurt", "HURT", "end it all"],
    }
    world.people = [
        hearth.member,
        coord,
        sup,
        hearth.owner,
        guild.bot_member,
        outsider.user,
    ]
    world.roles = [guild.everyone_role, guild.bot_role, pingable, top, hearth.supporter_role]
    world.channels = [
        hearth.general, hearth.alerts, secret, guild.add_category("Lounge"),
        guild.add_channel("Meeting room", VOICE), guild.add_channel("Stage", STAGE),
    ]  # fmt: skip
    return world


def fit(text: str, low: int, high: int) -> str:
    """Cut or pad to the declared lengths, as the client enforces them."""
    text = text[:high]
    return text + " " * (low - len(text)) if len(text) < low else text


def text_values(world: World, name: str, low: int, high: int) -> st.SearchStrategy[str]:
    hinted = st.sampled_from(world.hints.get(name) or world.known_texts)
    base = st.one_of(
        hinted,
        hinted,
        st.sampled_from(world.known_texts),
        st.sampled_from(ODD_TEXTS),
        st.text(max_size=40),
    )
    return st.tuples(base, st.sampled_from(DECORATIONS)).map(
        lambda pair: fit(pair[1](pair[0]), low, high)
    )


def number_values(world: World, option: dict[str, Any]) -> st.SearchStrategy[int]:
    low, high = option["min_value"], option["max_value"]
    edges = [low, high, *world.known_ids, 0, 1, -1, 2**31, 2**53]
    return st.one_of(
        st.sampled_from([n for n in edges if low <= n <= high]),
        st.integers(min_value=low, max_value=high),
    )


def option_values(world: World, option: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values the Discord client lets a person give this option, per its synced schema."""
    kind = option["type"]
    if option.get("choices"):
        return st.sampled_from([choice["value"] for choice in option["choices"]])
    if kind == STRING:
        return text_values(world, option["name"], option["min_length"], option["max_length"])
    if kind in (INTEGER, NUMBER):
        return number_values(world, option)
    if kind == BOOLEAN:
        return st.booleans()
    if kind == USER:
        return st.sampled_from(world.people)
    if kind == MENTIONABLE:
        return st.sampled_from([*world.people, *world.roles])
    if kind == ROLE:
        return st.sampled_from(world.roles)
    if kind == CHANNEL:
        types = option.get("channel_types")
        fits = [c for c in world.channels if not types or c.type in types]
        return st.sampled_from(fits)
    raise AssertionError(
        f"option {option['name']!r} has type {kind}, which this test cannot fill yet: add a "
        "strategy for it so the new command is covered"
    )


def command_values(
    world: World, options: list[dict[str, Any]]
) -> st.SearchStrategy[dict[str, Any]]:
    required = {o["name"]: option_values(world, o) for o in options if o.get("required")}
    optional = {o["name"]: option_values(world, o) for o in options if not o.get("required")}
    return st.fixed_dictionaries(required, optional=optional)


def public_pings(hearth: Harness, seen: dict[int, tuple[str, Any]]) -> list[str]:
    """Non-ephemeral server messages, new or edited since `seen`, that would notify a crowd."""
    found = []
    for message in hearth.fake.messages.values():
        if message.guild_id is None or message.ephemeral:
            continue
        if seen.get(message.id) == (message.content, message.edited_timestamp):
            continue
        if message.mention_everyone or message.mention_role_ids:
            found.append(f"message {message.content[:120]!r} pings a crowd")
    return found


def answer_problems(reply: Any) -> list[str]:
    if reply.kind == "modal":
        return []
    if not reply.has_message:
        return [f"answered with a {reply.kind}, not a message the person can read"]
    problems = []
    shown = [reply, *reply.followups]
    if not reply.text.strip() and not reply.files:
        problems.append("the answer is empty")
    for view in shown:
        if not view.ephemeral:
            problems.append(f"the answer is public: {view.text[:120]!r}")
        if ERROR_CODE.search(view.text):
            problems.append(f"the answer shows an error code: {view.text[:300]!r}")
        if TRACEBACK.search(view.text):
            problems.append(f"the answer looks like a traceback: {view.text[:300]!r}")
    return problems


@pytest.fixture
async def world(hearth: Harness) -> World:
    built = await build_world(hearth)
    for registered in hearth.fake.global_commands:  # play an old client: nothing is hidden
        registered["default_member_permissions"] = None
    return built


class Snapshots:
    """Every row of the bot's database, through the store (either engine)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def now(self) -> str:
        return await dump(self.db)


def coordinator_only_paths(bot: HearthBot) -> set[str]:
    found: set[str] = set()

    def walk(item: Any) -> None:
        if isinstance(item, discord.app_commands.Group):
            for child in item.commands:
                walk(child)
        elif requires_coordinator(item):
            found.add(item.qualified_name)

    for command in bot.tree.get_commands(type=discord.AppCommandType.chat_input):
        walk(command)
    return found


def usable_in_dms(hearth: Harness, path: str) -> bool:
    root = next(c for c in hearth.fake.global_commands if c["name"] == path.split()[0])
    contexts: Any = root.get("contexts")
    return 1 in contexts if contexts is not None else root.get("dm_permission") is not False


@pytest.mark.parametrize("who", ["member", "coordinator", "member in DMs"])
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # every draw is printed; shrinking takes minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_every_command_answers_odd_values_kindly(
    hearth: Harness, world: World, who: str, data: st.DataObject
) -> None:
    person = hearth.coordinator if who == "coordinator" else hearth.member
    channel = None if who.endswith("DMs") else hearth.general
    bot = bot_of(hearth)
    leaves = synced_leaves(hearth)
    guarded = coordinator_only_paths(bot)
    assert guarded and guarded <= set(leaves), guarded - set(leaves)
    if channel is None:
        leaves = {path: options for path, options in leaves.items() if usable_in_dms(hearth, path)}
        assert {"about", "help", "crisis", "mydata show"} <= set(leaves), sorted(leaves)
    snapshots = Snapshots(bot.db)
    failures: list[str] = []
    for path, options in sorted(leaves.items()):
        values = data.draw(command_values(world, options), label=f"/{path}")
        refused_member = who != "coordinator" and path in guarded
        before = await snapshots.now()
        seen = {m.id: (m.content, m.edited_timestamp) for m in hearth.fake.messages.values()}
        errors_before = len(hearth.errors.unexpected())
        try:
            reply = await hearth.slash(person, channel, path, **values)
            await hearth.fake.flush()
        except AssertionError as exc:
            failures.append(f"/{path} {values!r}: {exc}")
            continue
        problems = answer_problems(reply)
        problems += public_pings(hearth, seen)
        problems += hearth.errors.unexpected()[errors_before:]
        if refused_member and await snapshots.now() != before:
            problems.append("a member's refused attempt changed the database")
        elif CLAIMS_NOTHING.search(reply.text) and await snapshots.now() != before:
            problems.append(f"it says {reply.text[:150]!r} but the database changed")
        failures += [f"/{path} {values!r}: {problem}" for problem in problems]
        failures += await autocomplete_problems(
            hearth, person, channel, path, options, values, data, world
        )
    assert not failures, "\n".join(failures)


async def autocomplete_problems(
    hearth: Harness,
    person: FakeMember,
    channel: FakeChannel | None,
    path: str,
    options: list[dict[str, Any]],
    values: dict[str, Any],
    data: st.DataObject,
    world: World,
) -> list[str]:
    """What a person sees while typing odd text into each option that suggests values."""
    problems = []
    for option in options:
        if not option.get("autocomplete"):
            continue
        name = option["name"]
        if option["type"] == STRING:
            typing = text_values(world, name, 0, option["max_length"])
        else:
            typing = number_values(world, option).map(str) | st.sampled_from(["", "-", "#1"])
        typed = data.draw(typing, label=f"/{path} {name} (typing)")
        others = {key: value for key, value in values.items() if key != name}
        errors_before = len(hearth.errors.unexpected())
        where = f"/{path} {name} typing {typed!r} with {others!r}"
        try:
            choices = await hearth.autocomplete(person, channel, path, name, typed, **others)
        except AssertionError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if len(choices) > 25 or any(not 1 <= len(c["name"]) <= 100 for c in choices):
            problems.append(f"{where}: suggestions Discord would refuse: {choices!r}")
        problems += [f"{where}: {e}" for e in hearth.errors.unexpected()[errors_before:]]
    return problems


HUGE = "9999999999999999999999"  # more than SQLite's INTEGER holds (2**63-1)


async def test_a_huge_slot_number_is_no_such_slot_not_an_error_code(
    hearth: Harness, world: World
) -> None:
    """The bug as reported: `/rota swap offer slot:9999999999999999999999` answered with an
    error code (OverflowError: Python int too large to convert to SQLite INTEGER)."""
    calls = [
        (hearth.supporter, "rota swap offer", {"slot": HUGE}),
        (hearth.supporter, "rota swap take", {"slot": HUGE}),
        (hearth.supporter, "rota claim", {"slot": HUGE}),
        (hearth.supporter, "rota release", {"slot": f"#{HUGE}"}),
        (hearth.coordinator, "rota slots remove", {"rota": "Evening duty", "slot": HUGE}),
    ]
    for person, path, options in calls:
        reply = await hearth.slash(person, hearth.general, path, **options)
        assert f"There's no slot #{HUGE} on this server" in reply.text, (path, reply.text)
        assert reply.ephemeral and not ERROR_CODE.search(reply.text)


async def test_numbers_beyond_the_declared_bounds_are_refused_kindly(
    hearth: Harness, world: World
) -> None:
    """A client that ignores `max_value` (or the raw API) still gets a clear answer."""
    ignore_declared_limits(hearth.fake, "checkin schedule pause", "id")
    ignore_declared_limits(hearth.fake, "admin audit", "days")
    paused = await hearth.slash(
        hearth.coordinator, hearth.general, "checkin schedule pause", id=2**53
    )
    assert f"There is no check-in schedule #{2**53}" in paused.text, paused.text
    audit = await hearth.slash(hearth.coordinator, hearth.general, "admin audit", days=2**53)
    assert "looks back 1 to 3650 days" in audit.text, audit.text
    ignore_declared_limits(hearth.fake, "rota view", "week")
    view = await hearth.slash(
        hearth.supporter, hearth.general, "rota view", rota="Evening duty", week=-(2**53)
    )
    assert "`week` can be -52 to 52 weeks away" in view.text, view.text


async def test_a_person_from_another_server_is_named_not_a_member(
    hearth: Harness, world: World
) -> None:
    outsider = next(p for p in world.people if isinstance(p, FakeUser))
    reply = await hearth.slash(
        hearth.coordinator, hearth.general, "rota training grant", member=outsider
    )
    assert "“outsider” isn't a member of this server" in reply.text, reply.text
    rows = await bot_of(hearth).db.fetchall("SELECT user_id FROM rota_training")
    assert outsider.id not in [row["user_id"] for row in rows]


async def test_the_checks_see_what_they_look_for(hearth: Harness) -> None:
    """`public_pings` and `Snapshots` keep the hostile runs honest: prove they notice."""
    snapshots = Snapshots(bot_of(hearth).db)
    # The daily retention timer fires once at start-up and moves itself a day on, and the
    # owner's greeting goes out through the outbox: let both finish first (run_due waits for a
    # run in flight), or the two snapshots race them.
    await bot_of(hearth).dispatcher.run_due()
    await greeted(hearth)
    before = await snapshots.now()
    assert await snapshots.now() == before
    await bot_of(hearth).settings.update(hearth.guild.id, None, min_rest_hours=9)
    assert await snapshots.now() != before

    hearth.guild.set_role_permissions(hearth.guild.bot_role, DEFAULT_BOT | Perm.MENTION_EVERYONE)
    await hearth.fake.flush()
    seen = {m.id: (m.content, m.edited_timestamp) for m in hearth.fake.messages.values()}
    channel = bot_of(hearth).get_channel(hearth.general.id)
    assert isinstance(channel, discord.TextChannel)
    await channel.send(
        pseudo_locale.given("@everyone hello"),
        allowed_mentions=discord.AllowedMentions(everyone=True),
    )
    await channel.send(
        pseudo_locale.given("@everyone quiet")
    )  # Hearth's default: no mentions at all
    assert len(public_pings(hearth, seen)) == 1
