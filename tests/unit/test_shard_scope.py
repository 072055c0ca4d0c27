"""Several processes over one database, each running some gateway shards: each claims exactly the
scheduled and outbox work of its own shards' servers, nothing twice, nothing missed; one process
for everything (`ShardScope.everything()`) claims all of it, with its statements unchanged.

Two stores on one database stand for two processes (as in test_races_across_stores.py); run with
`HEARTH_TEST_DATABASE_URL` set for PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.db import SKIP_LOCKED, Database, Tx
from bot.scheduling import Dispatcher
from bot.services import checkin_due, guideline_posts
from bot.services import outbox as outbox_module
from bot.services import timers as timers_module
from bot.services.checkin_due import CheckinSource
from bot.services.checkin_schedules import CheckinSchedules
from bot.services.checkins import Occurrence
from bot.services.guideline_posts import GuidelinePostsService
from bot.services.outbox import OutboxService, OutboxSpec
from bot.services.settings import SettingsService
from bot.services.timers import Timer, TimerService
from bot.shards import ShardScope, shard_of
from tests.stores import migrated_sqlite_file, shared_stores

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday
EVERYTHING = ShardScope.everything()
FIRST, SECOND = ShardScope(2, frozenset({0})), ShardScope(2, frozenset({1}))
# Real-looking snowflakes: servers created in 2021-2023 and ids near the top of BIGINT, so the
# arithmetic is proved where an overflow or a float would show.
BASE = 1_150_000_000_000_000_000
GUILDS = [BASE + k * (1 << 22) for k in range(6)] + [2**63 - 1 - k * (1 << 22) for k in range(4)]


def guilds_of(scope: ShardScope) -> set[int]:
    return {guild for guild in GUILDS if scope.owns(guild)}


def test_the_guilds_are_spread_over_both_shards() -> None:
    assert {shard_of(guild, 2) for guild in GUILDS} == {0, 1}
    assert guilds_of(FIRST) | guilds_of(SECOND) == set(GUILDS)
    assert not guilds_of(FIRST) & guilds_of(SECOND)
    assert all(shard_of(g, 2) == 0 for g in guilds_of(FIRST))


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[Database, Database]]:
    """Two stores (two processes' connections) on one database."""
    async with shared_stores(tmp_path / "shared.db", 2) as (first, second):
        yield first, second


# --- the scope itself ---------------------------------------------------------------------------
def test_everything_owns_every_server_and_adds_no_condition() -> None:
    assert EVERYTHING == ShardScope(1, frozenset({0})) == ShardScope.of(None)
    assert all(EVERYTHING.owns(guild) for guild in [0, *GUILDS])
    assert EVERYTHING.where() == ShardScope(4, frozenset(range(4))).where()
    assert EVERYTHING.where().sql == "" and EVERYTHING.where().where_sql == ""
    assert EVERYTHING.where().params == {}
    assert EVERYTHING.runs_global_work and EVERYTHING.describe() == "all servers"


def test_a_scope_owns_its_shards_servers_by_discords_rule() -> None:
    scope = ShardScope(4, frozenset({1, 3}))
    for guild in [0, 1, *GUILDS, 81384788765712384]:
        assert scope.owns(guild) == (((guild >> 22) % 4) in {1, 3})
    assert not scope.runs_global_work and FIRST.runs_global_work  # guild 0 is on shard 0
    assert scope.describe() == "shards 1, 3 of 4" and FIRST.describe() == "shard 0 of 2"
    assert ShardScope.of(3) == ShardScope(3, frozenset({0, 1, 2}))


@pytest.mark.parametrize(
    ("count", "ids", "message"),
    [(0, {0}, "shard count"), (2, set(), "at least one"), (2, {2}, r"\[2\] are outside 0..1"),
     (2, {-1}, "outside")],
)  # fmt: skip
def test_a_scope_that_cannot_be_is_refused(count: int, ids: set[int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ShardScope(count, frozenset(ids))


def test_the_filter_is_bound_by_name_and_refuses_a_non_column() -> None:
    where = SECOND.where("t.guild_id")
    assert where.sql == " AND ((t.guild_id / 4194304) % :shard_count) IN (:shard_0)"
    assert where.params == {"shard_count": 2, "shard_0": 1}
    assert where.bind({"now": 5}) == {"now": 5, "shard_count": 2, "shard_0": 1}
    with pytest.raises(ValueError):
        SECOND.where("guild_id); DROP TABLE outbox; --")


async def test_the_engine_computes_each_snowflakes_shard_as_python_does(db: Database) -> None:
    """Integer arithmetic on BIGINT on both engines, up to 2**63 - 1 (no float, no overflow)."""
    ids = sorted({0, 1, 4194303, 4194304, *GUILDS, 2**63 - 1, 2**63 - 4194304})
    await db.write(
        lambda tx: tx.executemany(
            "INSERT INTO guilds (guild_id, joined_at) VALUES (?, 0)", [(g,) for g in ids]
        )
    )
    for count in (1, 2, 3, 7, 16, 1000):
        for shard in range(min(count, 4)):
            where = ShardScope(count, frozenset({shard})).where()
            rows = await db.fetchall(
                "SELECT guild_id FROM guilds WHERE 1 = 1" + where.sql, where.params
            )
            expected = {g for g in ids if (g >> 22) % count == shard}
            assert {row["guild_id"] for row in rows} == expected, (count, shard)


def test_one_process_statements_are_exactly_as_before() -> None:
    """The single-process hot path keeps its text (so its plans) whatever the filter adds."""
    assert outbox_module._claim_sql(EVERYTHING.where()) == outbox_module._CLAIM
    assert "shard" not in outbox_module._CLAIM
    assert "shard" not in timers_module._claim_sql(["a", "b"], EVERYTHING.where())
    assert "shard" in timers_module._claim_sql(["a"], FIRST.where())


# --- the outbox ---------------------------------------------------------------------------------
def _specs() -> list[OutboxSpec]:
    return [
        OutboxSpec(guild_id=guild, kind="dm", due_at=NOW, user_id=n)
        for n in range(30)
        for guild in [*GUILDS, 0]
    ]


async def test_two_scopes_over_one_outbox_each_claim_exactly_their_servers_rows(
    stores: tuple[Database, Database],
) -> None:
    first, second = OutboxService(stores[0]), OutboxService(stores[1])
    ids = await first.enqueue(_specs(), NOW)
    expected = {scope: {g for g in [*GUILDS, 0] if scope.owns(g)} for scope in (FIRST, SECOND)}

    async def drain(service: OutboxService, scope: ShardScope, owner: str) -> list[tuple[int, int]]:
        taken: list[tuple[int, int]] = []
        while batch := await service.claim(owner, NOW, limit=7, scope=scope):
            taken += [(item.id, item.guild_id) for item in batch]
            await asyncio.sleep(0)
        return taken

    one, two, three = await asyncio.gather(
        drain(first, FIRST, "p1"), drain(second, SECOND, "p2"), drain(first, FIRST, "p1b")
    )
    firsts = one + three
    assert {guild for _, guild in firsts} == expected[FIRST]
    assert {guild for _, guild in two} == expected[SECOND]
    taken = [item for item, _ in firsts + two]
    assert sorted(taken) == sorted(ids)  # nothing twice, nothing missed
    assert len(firsts) == 30 * len(expected[FIRST])


async def test_a_process_is_not_woken_by_another_shards_rows(db: Database) -> None:
    service = OutboxService(db)
    [theirs] = [g for g in GUILDS if SECOND.owns(g)][:1]
    await service.enqueue([OutboxSpec(guild_id=theirs, kind="dm", due_at=NOW, user_id=1)], NOW)
    assert await service.next_due(FIRST) is None  # it could not claim it: it must not spin
    assert await service.next_due(SECOND) == NOW
    assert await service.next_due() == NOW
    assert await service.claim("p1", NOW, scope=FIRST) == []


async def test_one_process_for_everything_claims_every_row(db: Database) -> None:
    service = OutboxService(db)
    ids = await service.enqueue(_specs(), NOW)
    taken: list[int] = []
    while batch := await service.claim("only", NOW, limit=50):
        taken += [item.id for item in batch]
    assert sorted(taken) == sorted(ids)


# --- timers -------------------------------------------------------------------------------------
async def test_two_scopes_take_exactly_their_servers_timers_and_conversions(
    stores: tuple[Database, Database],
) -> None:
    first, second = TimerService(stores[0]), TimerService(stores[1])
    for guild in [*GUILDS, 0]:
        await first.schedule_many(
            guild,
            [("remind", f"{guild}:{n}", NOW - timedelta(minutes=n), None) for n in range(3)]
            + [("notify", f"{guild}:n", NOW, {"x": 1})],
        )

    def convert(tx: Tx, timer: Timer, now: datetime) -> list[OutboxSpec]:
        return [OutboxSpec(guild_id=timer.guild_id, kind="dm", due_at=now, user_id=1)]

    async def drain(service: TimerService, scope: ShardScope) -> list[Timer]:
        taken: list[Timer] = []
        while batch := await service.claim_due(NOW, ["remind"], {"notify": convert}, scope):
            taken += batch
        return taken

    one, two = await asyncio.gather(drain(first, FIRST), drain(second, SECOND))
    assert {t.guild_id for t in one} == guilds_of(FIRST) | {0}  # global work: shard 0's
    assert {t.guild_id for t in two} == guilds_of(SECOND)
    assert len(one) + len(two) == 4 * (len(GUILDS) + 1)
    assert len({t.id for t in one + two}) == len(one) + len(two)
    assert await first.pending() == []
    outbox_guilds = await stores[0].fetchall("SELECT guild_id FROM outbox ORDER BY guild_id")
    assert sorted(row["guild_id"] for row in outbox_guilds) == sorted([*GUILDS, 0])


async def test_timers_wake_only_the_process_whose_shard_they_are_on(db: Database) -> None:
    timers = TimerService(db)
    theirs = min(guilds_of(SECOND))
    await timers.schedule(theirs, "remind", "x", NOW)
    assert await timers.next_due(["remind"], FIRST) is None
    assert await timers.next_due(["remind"], SECOND) == NOW
    assert await timers.next_due(["remind"]) == NOW
    assert await timers.claim_due(NOW, ["remind"], scope=FIRST) == []
    assert [t.ref for t in await timers.claim_due(NOW, ["remind"])] == ["x"]


async def test_dispatchers_of_two_processes_fire_each_timer_once_in_its_own_process(
    stores: tuple[Database, Database],
) -> None:
    """The dispatcher hands its scope to the timers (and to every source, below)."""
    clock = FakeClock(NOW)
    fired: dict[str, list[int]] = {"p1": [], "p2": []}
    dispatchers = []
    for name, store, scope in (("p1", stores[0], FIRST), ("p2", stores[1], SECOND)):
        dispatcher = Dispatcher(clock, TimerService(store))
        dispatcher.scope = scope

        async def handler(timer: Timer, now: datetime, name: str = name) -> None:
            fired[name].append(timer.guild_id)

        dispatcher.register_timer("remind", handler)
        dispatchers.append(dispatcher)
    for guild in GUILDS:
        await TimerService(stores[0]).schedule(guild, "remind", str(guild), NOW)
    assert await dispatchers[0].next_due() == NOW
    await asyncio.gather(*(d.run_due() for d in dispatchers))
    assert sorted(fired["p1"]) == sorted(guilds_of(FIRST))
    assert sorted(fired["p2"]) == sorted(guilds_of(SECOND))


# --- check-ins (a DueSource) --------------------------------------------------------------------
class Recorder:
    def __init__(self) -> None:
        self.sent: list[Occurrence] = []

    async def __call__(self, occurrence: Occurrence) -> None:
        self.sent.append(occurrence)


async def test_two_scopes_claim_exactly_their_servers_check_ins(
    stores: tuple[Database, Database],
) -> None:
    clock = FakeClock(NOW)
    made = []
    for index, guild in enumerate(GUILDS):
        schedules = CheckinSchedules(stores[0], clock, SettingsService(stores[0], clock, "UTC"))
        for channel in (1, 2):
            made.append(
                await schedules.add_group(
                    guild, 9, 100 * index + channel, "How are you?", "daily", "12:30", None, False
                )
            )
    sources = {
        scope: CheckinSource(
            CheckinSchedules(store, clock, SettingsService(store, clock, "UTC")), recorder
        )
        for scope, store, recorder in (
            (FIRST, stores[0], Recorder()), (SECOND, stores[1], Recorder())
        )
    }  # fmt: skip
    assert await sources[FIRST].next_due(FIRST) == NOW + timedelta(minutes=30)
    clock.set(NOW + timedelta(minutes=31))
    await asyncio.gather(*(source.run_due(clock.now(), scope) for scope, source in sources.items()))
    seen = {
        scope: [o.guild_id for o in source._on_claimed.sent]  # type: ignore[union-attr]  # Recorder
        for scope, source in sources.items()
    }
    assert sorted(seen[FIRST]) == sorted(2 * list(guilds_of(FIRST)))
    assert sorted(seen[SECOND]) == sorted(2 * list(guilds_of(SECOND)))
    rows = await stores[0].fetchall("SELECT guild_id FROM outbox WHERE kind = 'checkin.group'")
    assert sorted(row["guild_id"] for row in rows) == sorted(2 * GUILDS)  # each once
    # the next day's are due for both, and neither's next_due sees the other's
    assert await sources[FIRST].next_due(FIRST) == NOW + timedelta(days=1, minutes=30)


async def test_a_check_in_source_is_not_woken_by_another_shards_schedules(db: Database) -> None:
    clock = FakeClock(NOW)
    schedules = CheckinSchedules(db, clock, SettingsService(db, clock, "UTC"))
    await schedules.add_group(min(guilds_of(SECOND)), 9, 1, "Hi", "daily", "12:30", None, False)
    source = CheckinSource(schedules, Recorder())
    assert await source.next_due(FIRST) is None
    assert await source.next_due(SECOND) == NOW + timedelta(minutes=30)
    clock.set(NOW + timedelta(hours=1))
    assert (await source.claim_due(clock.now(), scope=FIRST)).fetched == 0
    assert (await source.claim_due(clock.now())).fetched == 1  # one process: everything


# --- guideline re-posts (a DueSource) -----------------------------------------------------------
async def test_repost_schedules_are_found_only_by_their_shards_process(db: Database) -> None:
    clock = FakeClock(NOW)
    posts = GuidelinePostsService(db, clock)
    for guild in GUILDS:
        await posts.set_repost(guild, None, 10, 1, ZoneInfo("UTC"), 7)
    clock.advance(timedelta(days=1, minutes=1))
    for scope in (FIRST, SECOND):
        due = await posts.due_reposts(clock.now(), scope)
        assert {s.guild_id for s in due} == guilds_of(scope)
        assert await posts.next_repost_due(scope) == NOW + timedelta(days=1)
    assert {s.guild_id for s in await posts.due_reposts(clock.now())} == set(GUILDS)
    only_second = GuidelinePostsService(db, clock)
    for guild in guilds_of(FIRST):
        await only_second.stop_reposts(guild, 10)
    assert await only_second.next_repost_due(FIRST) is None


# --- plans --------------------------------------------------------------------------------------
@pytest.fixture
async def schema(tmp_path: Path) -> Path:
    return await migrated_sqlite_file(tmp_path / "plans.db")


@pytest.mark.parametrize("scope", [EVERYTHING, SECOND, ShardScope(8, frozenset({1, 5}))])
def test_scoped_claims_read_through_the_same_indexes(schema: Path, scope: ShardScope) -> None:
    """The filter is one more condition on rows an index already found: no table scan."""
    where = scope.where()
    statements = [
        outbox_module._claim_sql(where).replace(f" {SKIP_LOCKED}", ""),
        outbox_module._NEXT_DUE + where.sql,
        timers_module._claim_sql(["a", "b"], where),
        timers_module._next_due_sql(["a", "b"], where),
        checkin_due._NEXT_DUE + where.sql,
        checkin_due._DUE + where.sql + " ORDER BY next_due_at LIMIT :limit",
        guideline_posts._NEXT_DUE + where.where_sql,
        guideline_posts._DUE + where.sql + " ORDER BY next_due_at, id LIMIT :limit",
    ]
    conn = sqlite3.connect(schema)
    for sql in statements:
        params = where.bind({"now": 0, "limit": 1, "owner": "x", "lease_until": 0})
        params.update({"kind_0": "a", "kind_1": "b"})
        needed = {name: params[name] for name in params if f":{name}" in sql}
        plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", needed))
        scans = [part for part in plan.split(" | ") if part.startswith("SCAN ")]
        assert all("USING" in part or "picked" in part for part in scans), (sql, plan)
    conn.close()
