"""Section 4: the store at the size of a big deployment, and its slowest command's reads.

The rows are generated once, in Python, and bulk-loaded through the store's own `executemany`
(one transaction per table, parents first so every foreign key holds), into SQLite and into a
fresh PostgreSQL database (`bench.engines`): the same data on both. The heaviest read commands
are then run through the real services (the same calls the cogs make), with every statement
timed by wrapping `Database`'s read methods. The baseline is SQLite itself: `SELECT COUNT(*)
FROM group_members`, one full pass over the biggest table, in the same run. Beside each SQLite
figure stands PostgreSQL's, and their ratio; with no server those rows say why.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bench import engines
from bench.common import Table, median, verdict
from bot.clock import FakeClock
from bot.db import Database, Tx, open_database
from bot.engines.sqlite import SqliteDatabase
from tests.services import rota_service

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY = 86400
REPEATS = 5


# Parents before children, so the load passes every foreign key on both engines.
INSERTS = {
    "guilds": "INSERT INTO guilds (guild_id, joined_at) VALUES (?, ?)",
    "groups": "INSERT INTO groups (id, guild_id, name, name_key, capacity, role_id, created_at) "
    "VALUES (?,?,?,?,?,?,?)",
    "group_members": "INSERT INTO group_members (group_id, guild_id, user_id, joined_at) "
    "VALUES (?,?,?,?)",
    "rotas": "INSERT INTO rotas (id, guild_id, name, name_key, needed, created_by, created_at) "
    "VALUES (?,?,?,?,?,?,?)",
    "rota_slots": "INSERT INTO rota_slots (id, guild_id, rota_id, starts_at, ends_at, created_by, "
    "created_at) VALUES (?,?,?,?,?,?,?)",
    "rota_claims": "INSERT INTO rota_claims (guild_id, slot_id, user_id, claimed_at) "
    "VALUES (?,?,?,?)",
    "checkin_schedules": "INSERT INTO checkin_schedules (id, guild_id, kind, channel_id, prompt, "
    "days, local_time, zone, next_due_at, created_by, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
    "checkin_occurrences": "INSERT INTO checkin_occurrences (id, guild_id, schedule_id, kind, "
    "due_at) VALUES (?,?,?,?,?)",
    "checkin_answers": "INSERT INTO checkin_answers (occurrence_id, user_id, guild_id, mood, "
    "answered_at, updated_at) VALUES (?,?,?,?,?,?)",
    "guideline_versions": "INSERT INTO guideline_versions (guild_id, version, body, edited_by, "
    "created_at) VALUES (?,?,?,?,?)",
    "guideline_acceptances": "INSERT INTO guideline_acceptances (guild_id, version, user_id, "
    "accepted_at) VALUES (?,?,?,?)",
}
REPORTED = ("groups", "group_members", "rota_slots", "rota_claims", "checkin_answers")


def _generate(servers: int, scale: float) -> dict[str, list[tuple[Any, ...]]]:
    """1,000 servers, 20,000 groups, 200,000 memberships, a year of slots and claims, and
    check-ins with answers (times `scale`): the rows of each table, the same on every call."""
    rnd = random.Random(9)
    now = int(NOW.timestamp())
    year_ago = now - 365 * DAY
    groups_per = max(1, round(20_000 * scale / servers))
    members_per_group = 10
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in INSERTS}
    guild_ids = [10**12 + g for g in range(servers)]
    rows["guilds"] = [(g, year_ago) for g in guild_ids]
    group_id = slot_id = occurrence_id = 0
    for number, guild in enumerate(guild_ids):
        people = [guild * 1000 + p for p in range(200)]
        for index in range(groups_per):
            group_id += 1
            rows["groups"].append((group_id, guild, f"Group {index}", f"group {index}", 50,
                                   guild + index + 1, year_ago))  # fmt: skip
            for user in rnd.sample(people, members_per_group):
                rows["group_members"].append((group_id, guild, user, year_ago))
        rows["rotas"].append((number + 1, guild, "Evening duty", "evening duty", 2, 1, year_ago))
        for day in range(365):  # a year of daily slots, two people on most
            slot_id += 1
            start = year_ago + day * DAY + 19 * 3600
            rows["rota_slots"].append((slot_id, guild, number + 1, start, start + 7200, 1,
                                       year_ago))  # fmt: skip
            for user in rnd.sample(people[:20], 2 if day % 5 else 1):
                rows["rota_claims"].append((guild, slot_id, user, start - DAY))
        rows["checkin_schedules"].append((number + 1, guild, "group", 1, "How are you?", 1,
                                          "19:00", "UTC", now + DAY, 1, year_ago))  # fmt: skip
        for week in range(int(52 * scale) or 1):  # weekly prompts, ~10 answers each
            occurrence_id += 1
            due = year_ago + week * 7 * DAY
            rows["checkin_occurrences"].append((occurrence_id, guild, number + 1, "group", due))
            for user in rnd.sample(people, 10):
                rows["checkin_answers"].append((occurrence_id, user, guild, rnd.randint(1, 5),
                                                due, due))  # fmt: skip
        rows["guideline_versions"].append((guild, 1, "Be kind.", 1, year_ago))
        for user in people[:100]:
            rows["guideline_acceptances"].append((guild, 1, user, year_ago))
    return rows


def _insert(sql: str, batch: list[tuple[Any, ...]], tx: Tx) -> None:
    tx.executemany(sql, batch)


async def _load(db: Database, rows: dict[str, list[tuple[Any, ...]]]) -> None:
    """Bulk-load through the store's own `executemany`, one transaction per table, then
    `ANALYZE` so both planners know the sizes. The rows carry their ids and the benchmark only
    reads, so PostgreSQL's identity sequences are left where they are."""
    for table, sql in INSERTS.items():
        await db.write(partial(_insert, sql, rows[table]))
    await db.write(lambda tx: tx.execute("ANALYZE"))


def _size_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.glob("store.db*")) / 2**20


class Timed:
    """Wraps a Database's reads to time every statement a command issues."""

    def __init__(self, db: Database) -> None:
        self.times: dict[str, list[float]] = {}
        for name in ("fetchall", "fetchone", "fetchval"):
            original = getattr(db, name)

            async def timed(sql: str, params: Any = (), _original: Any = original) -> Any:
                started = time.perf_counter()
                try:
                    return await _original(sql, params)
                finally:
                    key = " ".join(sql.split())
                    self.times.setdefault(key, []).append(time.perf_counter() - started)

            setattr(db, name, timed)


async def _commands(db: Database, guild: int) -> dict[str, Callable[[], Awaitable[Any]]]:
    from bot.services.checkin_answers import CheckinAnswers
    from bot.services.groups import GroupService
    from bot.services.guidelines import GuidelinesService
    from bot.services.mydata import MyDataService

    clock = FakeClock(NOW)
    user = guild * 1000 + 3
    people = [guild * 1000 + p for p in range(200)]
    start = NOW - timedelta(days=NOW.weekday())

    async def rota_view() -> Any:
        found = await rota_service(db).find_rota(guild, "Evening duty")
        return await rota_service(db).slots_between(
            guild, start, start + timedelta(days=7), found.id
        )

    schedule = await db.fetchval("SELECT id FROM checkin_schedules WHERE guild_id = ?", (guild,))
    return {
        "/rota view": rota_view,
        "/group list": lambda: GroupService(db, clock).summaries(guild),
        "/checkin summary": lambda: CheckinAnswers(db, clock).summary(guild, schedule, 10),
        "/guidelines status": lambda: GuidelinesService(db, clock).status(
            guild, None, member_ids=people
        ),
        "/mydata show": lambda: MyDataService(db, clock).summary(guild, user),
    }


@dataclass
class Measured:
    """One engine's figures for the same database and the same commands."""

    generated: float  # seconds to load it
    size_mb: float
    per_command: dict[str, float]  # median ms of each command's reads
    statements: dict[str, list[float]]  # every statement the commands issued: its times in s
    floor_ms: float  # one full scan of group_members


async def _measure(
    db: Database, rows: dict[str, list[tuple[Any, ...]]], servers: int, size: Callable[[], Any]
) -> Measured:
    await db.connect()
    try:
        await db.migrate()
        started = time.perf_counter()
        await _load(db, rows)
        generated = time.perf_counter() - started
        size_mb = float(await size()) / 2**20
        guild = 10**12 + servers // 2
        commands = await _commands(db, guild)
        timed = Timed(db)  # after the benchmark's own look-ups, so only Hearth's reads count
        per_command: dict[str, float] = {}
        for label, call in commands.items():
            samples = []
            for _ in range(REPEATS):
                began = time.perf_counter()
                await call()
                samples.append(time.perf_counter() - began)
            per_command[label] = median(samples) * 1000
        statements = {sql: list(times) for sql, times in timed.times.items()}  # Hearth's only
        floor = []
        for _ in range(3):
            began = time.perf_counter()
            await db.fetchval("SELECT COUNT(*) FROM group_members")
            floor.append(time.perf_counter() - began)
    finally:
        await db.close()
    return Measured(generated, size_mb, per_command, statements, median(floor) * 1000)


async def _on_sqlite(rows: dict[str, list[tuple[Any, ...]]], servers: int) -> Measured:
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "store.db"

        async def size() -> float:
            return _size_mb(Path(name)) * 2**20

        return await _measure(SqliteDatabase(path), rows, servers, size)


async def _on_postgres(rows: dict[str, list[tuple[Any, ...]]], servers: int) -> Measured:
    url = engines.fresh_database("store")
    try:
        db = open_database(url)

        async def size() -> Any:
            return await db.fetchval("SELECT pg_database_size(current_database())")

        return await _measure(db, rows, servers, size)
    finally:
        engines.drop_database(url)


async def run(table: Table, quick: bool) -> None:
    servers, scale = (50, 1 / 20) if quick else (1000, 1.0)
    rows = _generate(servers, scale)
    counts = {name: len(rows[name]) for name in REPORTED}
    lite = await _on_sqlite(rows, servers)
    server = engines.postgres()
    pg = await _on_postgres(rows, servers) if server.available else None
    slowest_command = max(lite.per_command, key=lite.per_command.__getitem__)
    slowest_sql, slowest_times = max(lite.statements.items(), key=lambda item: median(item[1]))
    floor_ms = lite.floor_ms
    section = "4 store"
    table.add(
        section,
        f"database: {servers:,} servers, " + ", ".join(f"{v:,} {k}" for k, v in counts.items()),
        f"{lite.size_mb:.0f} MiB on disk (generated in {lite.generated:.0f} s)",
    )
    if pg is None:
        table.add(section, "the same database on PostgreSQL", server.note)
    else:
        table.add(
            section,
            "the same database on PostgreSQL (loaded through the store's executemany)",
            f"{pg.size_mb:.0f} MiB (generated in {pg.generated:.0f} s)",
            f"{lite.size_mb:.0f} MiB on SQLite (generated in {lite.generated:.0f} s)",
            engines.ratio(pg.generated, lite.generated) + " (load time)",
        )
        table.add(
            section,
            "PostgreSQL: full scan of group_members (median of 3)",
            f"{pg.floor_ms:.2f} ms",
            f"{floor_ms:.2f} ms on SQLite",
            engines.ratio(pg.floor_ms, floor_ms),
        )
    for label, ms in sorted(lite.per_command.items(), key=lambda item: -item[1]):
        table.add(
            section,
            f"{label} reads (median of {REPEATS})" + (" — slowest" if label == slowest_command
                                                       else ""),
            f"{ms:.2f} ms",
            f"{floor_ms:.2f} ms (full scan of group_members)",
            f"{ms / floor_ms:.3f}",
            "well under one full scan",
            verdict(ms < floor_ms),
        )  # fmt: skip
        if pg is not None:
            on_pg = pg.per_command[label]
            table.add(
                section,
                f"{label} reads on PostgreSQL (median of {REPEATS})",
                f"{on_pg:.2f} ms",
                f"{ms:.2f} ms on SQLite",
                engines.ratio(on_pg, ms),
                "reported",
            )
    table.add(
        section,
        f"slowest single statement: `{slowest_sql[:70]}…`",
        f"{median(slowest_times) * 1000:.2f} ms",
    )
    if pg is not None:
        pg_sql, pg_times = max(pg.statements.items(), key=lambda item: median(item[1]))
        table.add(
            section,
            f"slowest single statement on PostgreSQL: `{pg_sql[:70]}…`",
            f"{median(pg_times) * 1000:.2f} ms",
        )
