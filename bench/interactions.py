"""Sections 1 and 2: per-interaction overhead against a bare discord.py bot, and contention.

Both bots run, one after the other, on the same fake server, each in its own process as in
production (`bench.botproc`); the fake and the traffic stay in this one. Each stream is
open-loop at a steady rate (an interaction is dispatched every 1/rate s whether or not earlier
ones were answered), so a bot slower than the offered load shows up as queueing in p99 rather
than as a politely reduced rate.

The contention races run twice: on SQLite (the figures the README quotes), then with the bot on
a fresh PostgreSQL database (`bench.engines`), each with its own check of exactly one winner and
its latency beside SQLite's. Every other bot here is on SQLite, whatever the environment says.
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import engines
from bench.botproc import BotProcess, bot_process
from bench.common import Table, median, percentile, verdict
from bench.world import (
    BareBotDriver,
    add_people,
    latencies_ms,
    paced,
    started_fake,
    throughput,
)
from bot.clock import FakeClock
from tests.fakediscord import FakeMember
from tests.fakediscord.models import FakeInteraction
from tests.harness import ErrorWatch, Harness

RATE = 200.0
PEOPLE = 200  # distinct members per stream, so nobody's interactions overlap
CLAIM_SLOTS = 10  # far-future weekly slots, 20 places each: 200 claims per round
CONTENDERS = 100
CHECKIN_TIME = datetime(2026, 3, 2, 19, 0, 2, tzinfo=UTC)


@dataclass
class Stream:
    name: str
    rounds: list[list[FakeInteraction]]

    @property
    def sent(self) -> list[FakeInteraction]:
        return [inter for batch in self.rounds for inter in batch]

    @property
    def throughput(self) -> float:
        """Answered per second while traffic was offered (resets and restarts excluded)."""
        spans = [len(batch) / throughput(batch) for batch in self.rounds]
        return len(self.sent) / sum(spans)

    @property
    def median(self) -> float:
        return median(latencies_ms(self.sent))

    @property
    def p99(self) -> float:
        return percentile(latencies_ms(self.sent), 99)


async def _expect(harness: Harness, person: Any, path: str, text: str, **options: Any) -> Any:
    reply = await harness.slash(person, harness.general, path, **options)
    if text not in reply.content:
        raise RuntimeError(f"/{path}: expected {text!r}, the bot said {reply.content!r}")
    return reply


async def _rounds(
    harness: Harness,
    count: int,
    people: list[FakeMember],
    act: Any,
    reset: Any | None = None,
) -> Stream:
    """`count` interactions of `act(person, index)` in rounds over `people`; `reset` (also paced,
    not measured) undoes each round so the next one does the same work."""
    fake = harness.fake
    rounds: list[list[FakeInteraction]] = []
    done = 0
    while done < count:
        batch = people[: min(len(people), count - done)]
        rounds.append(
            await paced(fake, [functools.partial(act, p, i) for i, p in enumerate(batch)], RATE)
        )
        done += len(batch)
        if reset is not None:
            await paced(fake, [functools.partial(reset, p, i) for i, p in enumerate(batch)], RATE)
    return Stream("", rounds)


async def _prepare_hearth(
    harness: Harness, bot: BotProcess, people: list[FakeMember]
) -> tuple[list[int], Any]:
    """Roles, one big group, a rota (far-future slots to claim, a full week to view), and a
    posted check-in prompt to answer — set up through the settings and slash commands."""
    await _configure(harness, bot)
    coordinator = harness.coordinator
    await _expect(harness, coordinator, "group create", "Created", name="Bench circle",
                  description="Benchmark group", capacity=1000)  # fmt: skip
    await _expect(harness, coordinator, "rota create", "Created the rota", name="Bench duty",
                  needed=20, training_required=False)  # fmt: skip
    await _expect(harness, coordinator, "rota slots add", "Added", rota="Bench duty",
                  start="2026-04-06 19:00", duration="2h", repeat_weeks=CLAIM_SLOTS)  # fmt: skip
    april = int(datetime(2026, 4, 1, tzinfo=UTC).timestamp())
    claim_ids = await bot.query(
        "SELECT id FROM rota_slots WHERE starts_at >= ? ORDER BY starts_at", april
    )
    for day in range(3, 9):  # the week being viewed: three shifts a day, 1–3 people on each
        for hour in ("08:00", "14:00", "20:00"):
            await _expect(harness, coordinator, "rota slots add", "Added", rota="Bench duty",
                          start=f"2026-03-0{day} {hour}", duration="4h")  # fmt: skip
    week = await bot.query(
        "SELECT id FROM rota_slots WHERE starts_at < ? ORDER BY starts_at", april
    )
    for index, (slot_id,) in enumerate(week):
        for person in people[index * 3 : index * 3 + 1 + index % 3]:  # rest rules: 1 each
            await _expect(harness, person, "rota claim", "You're on", slot=str(slot_id))
    await _expect(harness, coordinator, "checkin schedule add", "is set", channel=harness.general,
                  prompt="How has your week been?", days="mon", time="19:00",
                  timezone="UTC")  # fmt: skip
    await bot.call("run_due", at=CHECKIN_TIME.isoformat())
    prompts = [m for m in harness.fake.channel_messages(harness.general) if "Check-in" in m.content]
    if len(prompts) != 1:
        raise RuntimeError(f"expected one check-in prompt, found {len(prompts)}")
    return [slot_id for (slot_id,) in claim_ids], prompts[0]


STREAM_NAMES = ("/group join", "/rota claim", "check-in mood button", "/rota view")


async def _hearth_block(
    harness: Harness, bot: BotProcess, people: list[FakeMember], count: int,
    slot_ids: list[int], prompt: Any,
) -> list[list[list[FakeInteraction]]]:  # fmt: skip
    """`count` of each measured interaction, as rounds, in the order of `STREAM_NAMES`."""
    actions, general = harness.fake.actions, harness.general
    per_slot = len(people) // len(slot_ids)

    def slot_of(index: int) -> dict[str, Any]:
        return {"slot": str(slot_ids[index // per_slot])}

    streams = [
        await _rounds(
            harness, count, people,
            lambda p, i: actions.slash(p, general, "group join", {"name": "Bench circle"}),
            lambda p, i: actions.slash(p, general, "group leave", {"name": "Bench circle"}),
        ),
        await _rounds(
            harness, count, people,
            lambda p, i: actions.slash(p, general, "rota claim", slot_of(i)),
            lambda p, i: actions.slash(p, general, "rota release", slot_of(i)),
        ),
        await _rounds(
            harness, count, people,
            lambda p, i: actions.click(p, prompt, label=str(3 + i % 2)),
        ),
        await _rounds(
            harness, count, people,
            lambda p, i: actions.slash(p, general, "rota view", {"rota": "Bench duty"}),
        ),
    ]  # fmt: skip
    return [stream.rounds for stream in streams]


async def _check_answers(harness: Harness, streams: list[Stream]) -> None:
    """Every measured interaction got a real answer, not an error code."""
    for stream in streams:
        for inter in stream.sent:
            original = harness.fake.message(inter.original_id or 0)
            text = original.content if original is not None else ""
            if "went wrong" in text or "error code" in text.lower():
                raise RuntimeError(f"{stream.name} answered with an error: {text!r}")


async def _burst(
    harness: Harness, people: list[FakeMember], path: str, **options: Any
) -> tuple[list[str], list[float]]:
    """Everyone runs `/path` at the same instant: each reply's text and latency in ms."""
    fake = harness.fake

    async def one(person: FakeMember) -> tuple[str, float]:
        reply = await harness.slash(person, harness.general, path, **options)
        return reply.content, (fake.monotonic() - reply.interaction.dispatched_at) * 1000

    results = await asyncio.gather(*(one(person) for person in people))
    return [text for text, _ in results], [ms for _, ms in results]


async def _bare_burst(harness: Harness, racers: list[FakeMember]) -> list[float]:
    """The floor for section 2: the bare bot answering 100 `/ping`s sent at once."""
    async with bot_process("bare", harness.fake):
        await _burst(harness, racers, "ping")  # warm-up, as for Hearth
        return (await _burst(harness, racers, "ping"))[1]


@dataclass
class Race:
    """One 100-way race for one place: how it ended, and every contender's reply latency."""

    winners: int
    explained: int
    stored: int
    ms: list[float]

    @property
    def ok(self) -> bool:
        return self.winners == 1 and self.explained == CONTENDERS - 1 and self.stored == 1

    @property
    def p99(self) -> float:
        return percentile(self.ms, 99)

    @property
    def median(self) -> float:
        return median(self.ms)


RACES = ("rota claim", "group join")


async def _configure(harness: Harness, bot: BotProcess) -> None:
    await bot.call(
        "configure",
        guild_id=harness.guild.id,
        coordinator_role_id=harness.coordinator_role.id,
        supporter_role_id=harness.supporter_role.id,
        alerts_channel_id=harness.alerts.id,
    )


async def _contention(
    harness: Harness, bot: BotProcess, racers: list[FakeMember], tag: str
) -> dict[str, Race]:
    """100 people at the same instant for the last place on a slot, and in a group.

    Both bots first answer one burst of 100 harmless commands: a bot that has been running has
    its connections to Discord open, while the first burst after a start opens a hundred. The
    server is configured as for section 1 (a no-op after it), so every engine's bot races on
    the same settings; unconfigured, every claim is refused (no supporter role is set).
    """
    coordinator = harness.coordinator
    await _configure(harness, bot)
    await _expect(harness, coordinator, "rota create", "Created the rota", name="Race duty",
                  needed=1, training_required=False)  # fmt: skip
    await _expect(harness, coordinator, "rota slots add", "Added", rota="Race duty",
                  start="2026-05-04 19:00", duration="2h")  # fmt: skip
    ((slot_id,),) = await bot.query(
        "SELECT s.id FROM rota_slots s JOIN rotas r ON r.id = s.rota_id WHERE r.name = 'Race duty'"
    )
    await _expect(harness, coordinator, "group create", "Created", name="Race circle",
                  description="Contention group", capacity=2)  # fmt: skip
    first = add_people(harness.guild, f"first-{tag}-", 1, [])[0]
    await _expect(harness, first, "group join", "You're in", name="Race circle")
    await _burst(harness, racers, "about")  # warm-up

    claim_texts, claim_ms = await _burst(harness, racers, "rota claim", slot=str(slot_id))
    join_texts, join_ms = await _burst(harness, racers, "group join", name="Race circle")
    ((claimed,),) = await bot.query("SELECT COUNT(*) FROM rota_claims WHERE slot_id = ?", slot_id)
    ((members,),) = await bot.query(
        "SELECT COUNT(*) FROM group_members m JOIN groups g ON g.id = m.group_id "
        "WHERE g.name = 'Race circle'"
    )
    races = {}
    for label, texts, ms, won_text, told, stored in (
        ("rota claim", claim_texts, claim_ms, "You're on",
         ("someone just took the last place", "all the supporters it needs"), claimed),
        ("group join", join_texts, join_ms, "You're in", ("is full right now",), members - 1),
    ):  # fmt: skip
        winners = sum(won_text in text for text in texts)
        explained = sum(any(reason in text for reason in told) for text in texts)
        races[label] = Race(winners, explained, stored, ms)
    return races


def _report_contention(
    table: Table, lite: dict[str, Race], pg: dict[str, Race] | None, pg_note: str,
    bare: list[float],
) -> None:  # fmt: skip
    """Each race on SQLite (the rows the README quotes), then the same race on PostgreSQL with
    its ratio to SQLite's."""
    section = "2 contention"
    floor = f"{percentile(bare, 99):.1f} ms ({median(bare):.1f} ms): bare bot, 100 /ping at once"

    def race_rows(race: Race, label: str, where: str, baseline: str, ratio: str) -> None:
        """One race on one engine (`where`): who won and was told, then how fast all heard."""
        table.add(
            section,
            f"{CONTENDERS} × {label}{where}, one place: winners / told why / stored",
            f"{race.winners} / {race.explained} / {race.stored}",
            target=f"1 / {CONTENDERS - 1} / 1",
            verdict=verdict(race.ok),
        )
        table.add(
            section,
            f"{label} reply latency p99 (median){where}",
            f"{race.p99:.1f} ms ({race.median:.1f} ms)",
            baseline,
            ratio,
            "p99 < 100 ms",
            verdict(race.p99 < 100),
        )

    for label in RACES:
        race = lite[label]
        race_rows(race, label, "", floor, f"{race.p99 / percentile(bare, 99):.2f}")
        if pg is None:
            table.add(section, f"{CONTENDERS} × {label} on PostgreSQL", pg_note)
            continue
        on_pg = pg[label]
        race_rows(
            on_pg,
            label,
            " on PostgreSQL",
            f"{race.p99:.1f} ms ({race.median:.1f} ms) on SQLite",
            f"{engines.ratio(on_pg.p99, race.p99)} (median {on_pg.median / race.median:.2f})",
        )


async def run(table: Table, quick: bool, sections: set[str]) -> None:
    """The bare bot and Hearth take turns, block by block (a fresh process each turn), so a
    noisy neighbour slowing the machine for a while slows both sides of the ratio alike."""
    blocks, per_block = (1, 200) if quick else (5, 400)
    errors = ErrorWatch()
    errors.install()
    try:
        with engines.server_env(None):  # every bot here is on SQLite unless told otherwise
            await _run(table, sections, blocks, per_block, errors)
        problems = errors.problems()
        if problems:
            raise RuntimeError("the benchmark run was not clean:\n" + "\n".join(problems[:5]))
    finally:
        errors.uninstall()


async def _run(
    table: Table, sections: set[str], blocks: int, per_block: int, errors: ErrorWatch
) -> None:
    async with started_fake(FakeClock()) as fake:
        harness = Harness(fake, BareBotDriver(), errors)  # acts as people; bots run apart
        harness.build_standard_server()
        guild = harness.guild
        people = add_people(guild, "p", PEOPLE, [harness.supporter_role])
        bare = Stream(f"bare bot /ping at {RATE:.0f}/s", [])
        streams = [Stream(name, []) for name in STREAM_NAMES]
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "hearth.db"
            prepared: tuple[list[int], Any] | None = None
            for _ in range(blocks if "interactions" in sections else 0):
                async with bot_process("bare", fake):
                    ping = await _rounds(
                        harness, per_block, people,
                        lambda p, i: fake.actions.slash(p, harness.general, "ping", {}),
                    )  # fmt: skip
                    bare.rounds += ping.rounds
                async with bot_process("hearth", fake, db) as hearth:
                    if prepared is None:
                        prepared = await _prepare_hearth(harness, hearth, people)
                    sent = await _hearth_block(harness, hearth, people, per_block, *prepared)
                    for stream, more in zip(streams, sent, strict=True):
                        stream.rounds += more
            if "interactions" in sections:
                await _check_answers(harness, streams)
                _report(table, bare, streams)
            if "contention" in sections:
                racers = add_people(guild, "racer", CONTENDERS, [harness.supporter_role])
                floor = await _bare_burst(harness, racers)
                async with bot_process("hearth", fake, db) as hearth:
                    lite = await _contention(harness, hearth, racers, "sqlite")
                server = engines.postgres()
                pg = None
                if server.available:
                    # The child bot takes a fresh database on the server (tests.stores).
                    with engines.server_env(server.url):
                        async with bot_process("hearth", fake, Path(tmp) / "pg") as hearth:
                            pg = await _contention(harness, hearth, racers, "pg")
                _report_contention(table, lite, pg, server.note, floor)


def _report(table: Table, bare: Stream, streams: list[Stream]) -> None:
    table.add(
        "1 interactions",
        f"{bare.name}: median / p99 ({len(bare.sent)} sent, in turns with Hearth)",
        "",
        f"{bare.median:.2f} / {bare.p99:.2f} ms",
    )
    for stream in streams:
        ratio = stream.median / bare.median
        table.add(
            "1 interactions",
            f"{stream.name}: median / p99 · throughput",
            f"{stream.median:.2f} / {stream.p99:.2f} ms · {stream.throughput:.0f}/s",
            f"{bare.median:.2f} / {bare.p99:.2f} ms",
            f"{ratio:.2f}",
            "ratio ≤ 1.5, p99 < 20 ms",
            verdict(ratio <= 1.5 and stream.p99 < 20),
        )
