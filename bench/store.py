"""Section 4: the store at the size of a big deployment, and its slowest command's reads.

The database is generated with bulk `executemany` inserts in one transaction per table. The
heaviest read commands are then run through the real services (the same calls the cogs make),
with every statement timed by wrapping `Database`'s read methods. The baseline is SQLite itself:
`SELECT COUNT(*) FROM group_members`, one full pass over the biggest table, in the same run.
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import Table, median, verdict
from bot.clock import FakeClock
from bot.db import Database
from bot.engines.sqlite import SqliteDatabase

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DAY = 86400
REPEATS = 5


def _generate(path: Path, servers: int, scale: float) -> dict[str, int]:
    """1,000 servers, 20,000 groups, 200,000 memberships, a year of slots and claims, and
    check-ins with answers (times `scale`)."""
    rnd = random.Random(9)
    now = int(NOW.timestamp())
    year_ago = now - 365 * DAY
    groups_per = max(1, round(20_000 * scale / servers))
    members_per_group = 10
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA foreign_keys=OFF")
        guild_ids = [10**12 + g for g in range(servers)]
        conn.executemany("INSERT INTO guilds (guild_id, joined_at) VALUES (?, ?)",
                         [(g, year_ago) for g in guild_ids])  # fmt: skip
        groups, members, rotas, slots, claims = [], [], [], [], []
        occurrences, answers, versions, acceptances, schedules = [], [], [], [], []
        group_id = slot_id = occurrence_id = 0
        for number, guild in enumerate(guild_ids):
            people = [guild * 1000 + p for p in range(200)]
            for index in range(groups_per):
                group_id += 1
                groups.append((group_id, guild, f"Group {index}", f"group {index}", 50,
                               guild + index + 1, year_ago))  # fmt: skip
                for user in rnd.sample(people, members_per_group):
                    members.append((group_id, guild, user, year_ago))
            rotas.append((number + 1, guild, "Evening duty", "evening duty", 2, 1, year_ago))
            for day in range(365):  # a year of daily slots, two people on most
                slot_id += 1
                start = year_ago + day * DAY + 19 * 3600
                slots.append((slot_id, guild, number + 1, start, start + 7200, 1, year_ago))
                for user in rnd.sample(people[:20], 2 if day % 5 else 1):
                    claims.append((guild, slot_id, user, start - DAY))
            schedules.append((number + 1, guild, "group", 1, "How are you?", 1, "19:00", "UTC",
                              now + DAY, 1, year_ago))  # fmt: skip
            for week in range(int(52 * scale) or 1):  # weekly prompts, ~10 answers each
                occurrence_id += 1
                due = year_ago + week * 7 * DAY
                occurrences.append((occurrence_id, guild, number + 1, "group", due))
                for user in rnd.sample(people, 10):
                    answers.append((occurrence_id, user, guild, rnd.randint(1, 5), due, due))
            versions.append((guild, 1, "Be kind.", 1, year_ago))
            for user in people[:100]:
                acceptances.append((guild, 1, user, year_ago))
        conn.executemany("INSERT INTO groups (id, guild_id, name, name_key, capacity, role_id, "
                         "created_at) VALUES (?,?,?,?,?,?,?)", groups)  # fmt: skip
        conn.executemany("INSERT INTO group_members VALUES (?,?,?,?)", members)
        conn.executemany("INSERT INTO rotas (id, guild_id, name, name_key, needed, created_by, "
                         "created_at) VALUES (?,?,?,?,?,?,?)", rotas)  # fmt: skip
        conn.executemany("INSERT INTO rota_slots (id, guild_id, rota_id, starts_at, ends_at, "
                         "created_by, created_at) VALUES (?,?,?,?,?,?,?)", slots)  # fmt: skip
        conn.executemany("INSERT INTO rota_claims (guild_id, slot_id, user_id, claimed_at) "
                         "VALUES (?,?,?,?)", claims)  # fmt: skip
        conn.executemany("INSERT INTO checkin_schedules (id, guild_id, kind, channel_id, prompt, "
                         "days, local_time, zone, next_due_at, created_by, created_at) "
                         "VALUES (?,?,?,?,?,?,?,?,?,?,?)", schedules)  # fmt: skip
        conn.executemany("INSERT INTO checkin_occurrences (id, guild_id, schedule_id, kind, "
                         "due_at) VALUES (?,?,?,?,?)", occurrences)  # fmt: skip
        conn.executemany("INSERT INTO checkin_answers (occurrence_id, user_id, guild_id, mood, "
                         "answered_at, updated_at) VALUES (?,?,?,?,?,?)", answers)  # fmt: skip
        conn.executemany("INSERT INTO guideline_versions (guild_id, version, body, edited_by, "
                         "created_at) VALUES (?,?,?,?,?)", versions)  # fmt: skip
        conn.executemany("INSERT INTO guideline_acceptances (guild_id, version, user_id, "
                         "accepted_at) VALUES (?,?,?,?)", acceptances)  # fmt: skip
        conn.execute("ANALYZE")
        return {"groups": len(groups), "group_members": len(members), "rota_slots": len(slots),
                "rota_claims": len(claims), "checkin_answers": len(answers)}  # fmt: skip


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
    from bot.services.rota import rotas

    clock = FakeClock(NOW)
    user = guild * 1000 + 3
    people = [guild * 1000 + p for p in range(200)]
    start = NOW - timedelta(days=NOW.weekday())

    async def rota_view() -> Any:
        found = await rotas.find_rota(db, guild, "Evening duty")
        return await rotas.slots_between(db, guild, start, start + timedelta(days=7), found.id)

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


async def run(table: Table, quick: bool) -> None:
    servers, scale = (50, 1 / 20) if quick else (1000, 1.0)
    with tempfile.TemporaryDirectory() as name:
        path = Path(name) / "store.db"
        db = SqliteDatabase(path)
        await db.connect()
        await db.migrate()
        started = time.perf_counter()
        counts = _generate(path, servers, scale)
        generated = time.perf_counter() - started
        size = _size_mb(Path(name))
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
        floor = []
        for _ in range(3):
            began = time.perf_counter()
            await db.fetchval("SELECT COUNT(*) FROM group_members")
            floor.append(time.perf_counter() - began)
        await db.close()
    slowest_command = max(per_command, key=per_command.__getitem__)
    slowest_sql, slowest_times = max(timed.times.items(), key=lambda item: median(item[1]))
    floor_ms = median(floor) * 1000
    section = "4 store"
    table.add(
        section,
        f"database: {servers:,} servers, " + ", ".join(f"{v:,} {k}" for k, v in counts.items()),
        f"{size:.0f} MiB on disk (generated in {generated:.0f} s)",
    )
    for label, ms in sorted(per_command.items(), key=lambda item: -item[1]):
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
    table.add(
        section,
        f"slowest single statement: `{slowest_sql[:70]}…`",
        f"{median(slowest_times) * 1000:.2f} ms",
    )
