"""Helpers shared by the end-to-end tests: acting as people in one feature and reading what
Hearth stored, so no test module imports another."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.db import RUNTIME_TABLES, Database, Tx, to_ts
from bot.services.sessions import SessionService
from tests.fakediscord import FakeChannel, FakeMember, Perm
from tests.fakediscord.options import GROUP, SUBCOMMAND
from tests.fakediscord.views import Reply
from tests.harness import Harness, bot_of

if TYPE_CHECKING:
    from bot.app import HearthBot

# -- The server as it starts ---------------------------------------------------------------------


async def greeted(hearth: Harness) -> None:
    """The owner's join greeting has arrived and its outbox row is recorded as sent, so a
    database snapshot taken now does not change later on its own."""
    await hearth.wait_for(lambda: hearth.dms(hearth.owner), what="the owner's greeting")
    await bot_of(hearth).outbox.drained()


# -- Groups ----------------------------------------------------------------------------------------


async def configure(hearth: Harness) -> None:
    """Coordinator/supporter roles and the log and alerts channels, as /setup would."""
    await bot_of(hearth).settings.update(
        hearth.guild.id,
        None,
        coordinator_role_id=hearth.coordinator_role.id,
        supporter_role_id=hearth.supporter_role.id,
        log_channel_id=hearth.log.id,
        alerts_channel_id=hearth.alerts.id,
    )


async def group_create(hearth: Harness, name: str, **options: Any) -> Reply:
    """A coordinator runs `/group create` (description "x" unless given), whatever it answers."""
    options.setdefault("description", "x")
    return await hearth.slash(
        hearth.coordinator, hearth.channel, "group create", name=name, **options
    )


async def create_group(hearth: Harness, name: str = "Carers circle", **options: Any) -> Any:
    options.setdefault("description", "A space for people caring for someone")
    reply = await group_create(hearth, name, **options)
    assert reply.ephemeral and f"Created “{name}”" in reply.content, reply.content
    return reply


async def rows(hearth: Harness, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in await bot_of(hearth).db.fetchall(sql, params)]


async def new_channel(hearth: Harness, name: str) -> FakeChannel:
    """A text channel someone added by hand, once the bot has heard of it."""
    channel = hearth.guild.add_text_channel(name)
    await hearth.fake.flush()
    return channel


def dms_saying(hearth: Harness, person: Any, text: str) -> list[str]:
    """The bot's DMs to someone containing `text` (other features may greet people too)."""
    return [m.content for m in hearth.dms(person) if text in m.content]


async def group_id(hearth: Harness, name: str) -> int:
    found = await rows(hearth, "SELECT id FROM groups WHERE name = ?", name)
    return int(found[0][0])


# -- Guidelines ------------------------------------------------------------------------------------


# Only the features these tests exercise, so another feature's start-up work (greeting DMs,
# set-up checks) can't interleave with what is asserted here.
AGREE = "I have read and agree"


FIELD = "hearth:gl:edit:text"


async def use_alerts_channel(hearth: Harness) -> None:
    await bot_of(hearth).settings.update(hearth.guild.id, None, alerts_channel_id=hearth.alerts.id)


async def save(hearth: Harness, text: str, group: str | None = None) -> Reply:
    """A coordinator opens `/guidelines edit`, replaces the text and submits."""
    options = {"group": group} if group else {}
    form = await hearth.slash(hearth.coordinator, hearth.channel, "guidelines edit", **options)
    assert form.kind == "modal"
    return await hearth.submit_modal(hearth.coordinator, form, {FIELD: text})


async def post(hearth: Harness, channel: FakeChannel, group: str | None = None) -> Reply:
    """A coordinator runs `/guidelines post` (the server's, or a group's) in `channel`."""
    options: dict[str, object] = {"channel": channel}
    if group:
        options["group"] = group
    return await hearth.slash(hearth.coordinator, hearth.channel, "guidelines post", **options)


async def dict_rows(hearth: Harness, sql: str, *params: object) -> list[dict[str, Any]]:
    return [dict(row) for row in await bot_of(hearth).db.fetchall(sql, params)]


# -- Rota ------------------------------------------------------------------------------------------


async def run_at(hearth: Harness, moment: datetime) -> None:
    hearth.clock.set(moment)
    await bot_of(hearth).dispatcher.run_due()
    await hearth.fake.flush()


async def set_up_rotas(hearth: Harness, timezone: str = "Europe/London") -> HearthBot:
    """The server as a coordinator would have it after /setup: roles, alerts channel, zone."""
    bot = bot_of(hearth)
    await bot.settings.update(
        hearth.guild.id,
        None,
        supporter_role_id=hearth.supporter_role.id,
        alerts_channel_id=hearth.alerts.id,
        timezone=timezone,
    )
    return bot


async def make_rota(hearth: Harness, name: str = "Evening duty", **options: Any) -> None:
    reply = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota create", name=name, **options
    )
    assert "Created the rota" in reply.content, reply.content


async def add_slots(
    hearth: Harness, rota: str, start: str, duration: str = "2h", **options: Any
) -> list[int]:
    reply = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota slots add", rota=rota, start=start,
        duration=duration, **options,
    )  # fmt: skip
    assert reply.ephemeral
    ids = [int(i) for i in re.findall(r"^#(\d+) ", reply.content, re.M)]
    assert ids, reply.content
    return ids


async def train(hearth: Harness, member: FakeMember, **options: Any) -> None:
    reply = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota training grant", member=member, **options
    )
    assert "Recorded" in reply.content, reply.content


async def claimed_shifts(
    hearth: Harness, start: str = "2026-03-03 19:00", repeat_weeks: int = 1
) -> list[int]:
    """On a server set up for rotas, the standard supporter (trained) holds Evening duty at
    `start`, weekly for `repeat_weeks` weeks: the slots' ids."""
    await set_up_rotas(hearth)
    await make_rota(hearth)
    ids = await add_slots(hearth, "Evening duty", start, repeat_weeks=repeat_weeks)
    await train(hearth, hearth.supporter)
    for slot_id in ids:
        reply = await hearth.slash(
            hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id)
        )
        assert "You're on" in reply.content, reply.content
    return ids


async def claims_of(hearth: Harness, slot_id: int) -> list[int]:
    rows = await bot_of(hearth).db.fetchall(
        "SELECT user_id FROM rota_claims WHERE slot_id = ? ORDER BY id", (slot_id,)
    )
    return [row["user_id"] for row in rows]


async def supporter(hearth: Harness, name: str, trained: bool = True) -> FakeMember:
    person = hearth.guild.add_member(name, roles=[hearth.supporter_role])
    await hearth.fake.flush()
    if trained:
        await train(hearth, person)
    return person


# -- Crisis ----------------------------------------------------------------------------------------


async def add_helpline(hearth: Harness, name: str, contact: str, **options: Any) -> Reply:
    """A coordinator adds a helpline to `/crisis` (in #general), whatever it answers."""
    return await hearth.slash(
        hearth.coordinator, hearth.general, "admin crisis add", name=name, contact=contact,
        **options,
    )  # fmt: skip


async def watch_general(hearth: Harness, phrase: str, *, enabled: bool = True) -> Reply:
    """The keyword watch on #general for one phrase, alerts to #alerts and one helpline to
    signpost; what the coordinator saw on switching the watch on (or off)."""
    await bot_of(hearth).settings.update(hearth.guild.id, None, alerts_channel_id=hearth.alerts.id)
    await add_helpline(hearth, "Samaritans", "116 123")
    await hearth.slash(
        hearth.coordinator, hearth.general, "admin crisis watch-channel", action="add",
        channel=hearth.general,
    )  # fmt: skip
    await hearth.slash(
        hearth.coordinator, hearth.general, "admin crisis watch-phrase", action="add",
        phrase=phrase,
    )  # fmt: skip
    state = "on" if enabled else "off"
    return await hearth.slash(hearth.coordinator, hearth.general, "admin crisis watch", state=state)


# -- Support ---------------------------------------------------------------------------------------


async def add_support_channel(hearth: Harness, *, threads: bool = True) -> FakeChannel:
    """A #support channel the bot sees (private threads allowed unless `threads=False`), set as
    the server's support channel, with #alerts for coordinators."""
    g = hearth.guild
    deny = {} if threads else {g.bot_member: (0, Perm.CREATE_PRIVATE_THREADS)}
    channel = g.add_text_channel("support", overwrites=deny)
    await hearth.fake.flush()
    guild = bot_of(hearth).get_guild(hearth.guild.id)
    assert guild is not None
    await hearth.wait_for(lambda: guild.get_channel(channel.id) is not None, what="#support")
    await bot_of(hearth).settings.update(
        hearth.guild.id, None, support_channel_id=channel.id, alerts_channel_id=hearth.alerts.id
    )
    return channel


async def put_on_duty(
    hearth: Harness, *people: FakeMember, starts_in: timedelta = timedelta(hours=-1)
) -> None:
    """A rota with one slot covering now (or starting later), claimed by these supporters."""
    db = bot_of(hearth).db
    now = hearth.clock.now()
    start = to_ts(now + starts_in)
    rota_id = await db.insert(
        "INSERT INTO rotas (guild_id, name, name_key, needed, requires_training, created_by, "
        "created_at) VALUES (?, 'Evenings', 'evenings', 2, 0, ?, ?)",
        (hearth.guild.id, hearth.coordinator.id, to_ts(now)),
    )
    slot_id = await db.insert(
        "INSERT INTO rota_slots (guild_id, rota_id, starts_at, ends_at, created_by, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (hearth.guild.id, rota_id, start, start + 4 * 3600, hearth.coordinator.id, to_ts(now)),
    )
    for person in people:
        await db.insert(
            "INSERT INTO rota_claims (guild_id, slot_id, user_id, claimed_at) VALUES (?, ?, ?, ?)",
            (hearth.guild.id, slot_id, person.id, to_ts(now)),
        )


# -- Commands as synced ----------------------------------------------------------------------------


def leaf_commands(
    commands: list[dict[str, Any]],
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """("group join", [options…]) for every slash command a person can run."""

    def walk(path: str, options: list[dict[str, Any]]) -> Iterator[tuple[str, list[Any]]]:
        subs = [o for o in options if o["type"] in (SUBCOMMAND, GROUP)]
        if not subs:
            yield path, options
        for sub in subs:
            yield from walk(f"{path} {sub['name']}", sub.get("options") or [])

    for command in commands:
        if command.get("type", 1) == 1:
            yield from walk(command["name"], command.get("options") or [])


def synced_leaves(hearth: Harness) -> dict[str, list[dict[str, Any]]]:
    synced = hearth.fake.global_commands + [
        c for cs in hearth.fake.guild_commands.values() for c in cs
    ]
    return dict(leaf_commands(synced))


# -- The database ----------------------------------------------------------------------------------


async def dump(db: Database) -> str:
    """Every row of every table, in a stable order (committed data; the bot keeps running).

    Read through the store, so it works on either engine and sees what the bot committed.
    The shared rate budget is left out: it moves with every request, not with data."""
    tables = [table for table in await db.tables() if table.name not in RUNTIME_TABLES]

    def read(tx: Tx) -> str:
        lines = []
        for table in tables:
            order = ", ".join(f'"{c}"' for c in table.columns)
            rows = tx.fetchall(f'SELECT {order} FROM "{table.name}" ORDER BY {order}')
            lines += [f"{table.name}: {tuple(row)!r}" for row in rows]
        return "\n".join(lines)

    return await db.read(read)


# -- Group sessions ------------------------------------------------------------------------------

# The harness clock starts Monday 2 March 2026, 12:00 UTC (= 12:00 in London, GMT).
TUE_19 = datetime(2026, 3, 3, 19, 0, tzinfo=UTC)


def session_service(hearth: Harness) -> SessionService:
    return SessionService(bot_of(hearth).db, hearth.clock)


async def set_up_sessions(hearth: Harness, **group: Any) -> int:
    await configure(hearth)
    await bot_of(hearth).settings.update(hearth.guild.id, None, timezone="Europe/London")
    await create_group(hearth, **group)
    return int((await rows(hearth, "SELECT id FROM groups"))[0][0])


async def join_group(hearth: Harness, member: FakeMember) -> None:
    reply = await hearth.slash(member, hearth.channel, "group join", name="Carers circle")
    assert "You're in “Carers circle”" in reply.content, reply.content


async def add_session(hearth: Harness, **options: Any) -> Any:
    options.setdefault("start", "2026-03-03 19:00")
    options.setdefault("duration", "90m")
    return await hearth.slash(
        hearth.coordinator, hearth.channel, "group sessions add", group="Carers circle", **options
    )


async def session_rows(hearth: Harness) -> list[tuple[Any, ...]]:
    return await rows(
        hearth,
        "SELECT id, starts_at, ends_at, cancelled_at, reason, series_id FROM group_sessions "
        "ORDER BY starts_at",
    )


async def session_ids(hearth: Harness) -> list[int]:
    """Every session's id, earliest first."""
    return [int(row[0]) for row in await session_rows(hearth)]


async def member_going(hearth: Harness) -> int:
    """Carers circle with one session on Tuesday 19:00 that the standard member is going to."""
    await set_up_sessions(hearth)
    await add_session(hearth)
    await join_group(hearth, hearth.member)
    [session_id] = await session_ids(hearth)
    await session_service(hearth).answer(hearth.guild.id, session_id, hearth.member.id, True)
    return session_id


async def sessions_list(hearth: Harness, member: FakeMember) -> Reply:
    return await hearth.slash(member, hearth.channel, "group sessions list", group="Carers circle")


async def move_session(hearth: Harness, session_id: int, start: str = "2026-03-04 18:00") -> Reply:
    """A coordinator moves a session (by default, Tuesday's to Wednesday 18:00)."""
    return await hearth.slash(
        hearth.coordinator, hearth.channel, "group sessions move", session=str(session_id),
        start=start,
    )  # fmt: skip


async def going_to(hearth: Harness, session_id: int) -> list[int]:
    found = await rows(
        hearth, "SELECT user_id FROM session_rsvps WHERE session_id = ? AND going = 1", session_id
    )
    return sorted(row[0] for row in found)
