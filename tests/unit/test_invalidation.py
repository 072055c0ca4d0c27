"""In-memory copies stay right across processes (bot/invalidation.py), on PostgreSQL.

Two "processes" are two stores over one database, each with its own services and its own
listener, as two bots would have. A change made through one must reach the other within a
second: the tests wait for the other's listener to hear it (an event, never a blind sleep),
with a one-second limit. SQLite serves one process, so these skip there.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from bot.clock import FakeClock
from bot.db import Database, open_database
from bot.invalidation import Invalidations
from bot.services.notices import NOTICES_TOPIC, NoticeService
from bot.services.settings import SETTINGS_TOPIC, SettingsService
from tests.stores import new_target, on_postgres

GUILD = 1
MEMBER = 500
WITHIN = 1.0  # the requirement: a change takes effect in every process within a second

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="one process on SQLite: nothing to keep in step"
)


@dataclass
class Process:
    db: Database
    settings: SettingsService
    notices: NoticeService
    invalidations: Invalidations


@pytest.fixture
async def processes(tmp_path: Path) -> AsyncIterator[list[Process]]:
    target = new_target(tmp_path / "shared.db")
    made: list[Process] = []
    for number in range(2):
        db = open_database(target, pool_size=2)
        await db.connect()
        if number == 0:
            await db.migrate()
        clock = FakeClock()
        process = Process(
            db, SettingsService(db, clock), NoticeService(db, clock), Invalidations(db)
        )
        process.invalidations.register(SETTINGS_TOPIC, process.settings)
        process.invalidations.register(NOTICES_TOPIC, process.notices)
        await process.invalidations.start()
        assert process.invalidations.listening.is_set()
        await process.notices.load()
        made.append(process)
    try:
        yield made
    finally:
        for process in made:
            await process.invalidations.stop()
            await process.db.close()


async def test_a_setting_changed_in_one_process_holds_in_the_other(
    processes: list[Process],
) -> None:
    one, two = processes
    assert (await two.settings.get(GUILD)).max_shifts_per_week == 3  # now cached in two
    await one.settings.update(GUILD, 99, max_shifts_per_week=5)
    assert await two.invalidations.wait_heard(f"settings:{GUILD}", WITHIN)
    assert (await two.settings.get(GUILD)).max_shifts_per_week == 5
    # And back the other way, on a setting one has cached.
    mark = one.invalidations.mark()  # one heard its own first change: wait for the new one
    await two.settings.update(GUILD, 99, timezone="Europe/London")
    assert await one.invalidations.wait_heard(f"settings:{GUILD}", WITHIN, after=mark)
    after = await one.settings.get(GUILD)
    assert (after.timezone, after.max_shifts_per_week) == ("Europe/London", 5)


async def test_a_change_that_rolls_back_tells_nobody(processes: list[Process]) -> None:
    one, two = processes
    await two.settings.get(GUILD)

    def changed_then_refused(tx: object) -> None:
        tx.invalidate(SETTINGS_TOPIC, GUILD)  # type: ignore[attr-defined]
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        await one.db.write(changed_then_refused)
    await one.settings.update(GUILD, 99, min_rest_hours=9)  # a later commit's notice arrives
    assert await two.invalidations.wait_heard(f"settings:{GUILD}", WITHIN)
    assert list(two.invalidations.heard) == [f"settings:{GUILD}"]


async def test_a_notice_held_by_one_process_is_shown_by_the_other(
    processes: list[Process],
) -> None:
    one, two = processes
    assert not two.notices.may_have_pending(MEMBER)  # loaded at start: nobody
    await one.notices.hold(GUILD, MEMBER, "Your check-in is ready.")
    assert await two.invalidations.wait_heard(f"notices:{MEMBER}", WITHIN)
    assert two.notices.may_have_pending(MEMBER)
    assert await two.notices.take(MEMBER) == ["Your check-in is ready."]
    assert await one.notices.take(MEMBER) == []  # shown once, whoever shows it


async def test_a_lost_listener_reconnects_and_rereads_what_it_missed(
    processes: list[Process], caplog: pytest.LogCaptureFixture
) -> None:
    one, two = processes
    caplog.set_level(logging.INFO, logger="bot.invalidation")
    assert (await two.settings.get(GUILD)).min_rest_hours == 8  # cached in two
    # Changes nobody announces (as if made while the listener was away): two cannot know.
    await one.db.execute(
        "INSERT INTO guild_settings (guild_id, key, value, updated_at) VALUES (?, ?, ?, 0)",
        (GUILD, "min_rest_hours", "12"),
    )
    await one.db.execute(
        "INSERT INTO pending_notices (guild_id, user_id, text, created_at) VALUES (?, ?, ?, 0)",
        (GUILD, MEMBER, "held while nobody listened"),
    )
    assert (await two.settings.get(GUILD)).min_rest_hours == 8
    assert not two.notices.may_have_pending(MEMBER)
    # The server ends both listeners' sessions (a restart, a failover, an idle-session killer).
    admin = await psycopg.AsyncConnection.connect(one.db.describe(), autocommit=True)
    async with admin:
        cursor = await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE 'LISTEN %'"
        )
        assert [row[0] for row in await cursor.fetchall()] == [True, True]
    for process in processes:  # noticed, and listening again, within a second
        heard = process.invalidations

        def noticed(heard: Invalidations = heard) -> bool:
            return heard.outages == 1

        assert await heard.wait_until(noticed, WITHIN)
        assert await heard.wait_until(heard.listening.is_set, WITHIN)
    # Everything was read afresh: what went unheard holds now.
    assert (await two.settings.get(GUILD)).min_rest_hours == 12
    assert two.notices.may_have_pending(MEMBER)
    mark = two.invalidations.mark()
    await one.settings.update(GUILD, 99, min_rest_hours=10)  # and it hears again
    assert await two.invalidations.wait_heard(f"settings:{GUILD}", WITHIN, after=mark)
    assert (await two.settings.get(GUILD)).min_rest_hours == 10
    said = [r.levelname for r in caplog.records if r.name == "bot.invalidation"]
    assert sorted(said) == ["INFO", "INFO", "WARNING", "WARNING"]  # once each, per process


async def test_while_unheard_nothing_is_cached(processes: list[Process]) -> None:
    one, two = processes
    two.settings.distrust()
    two.notices.distrust()
    assert two.notices.may_have_pending(MEMBER)  # one round trip per interaction, meanwhile
    assert (await two.settings.get(GUILD)).min_rest_hours == 8
    await one.db.execute(
        "INSERT INTO guild_settings (guild_id, key, value, updated_at) VALUES (?, ?, ?, 0)",
        (GUILD, "min_rest_hours", "12"),
    )
    assert (await two.settings.get(GUILD)).min_rest_hours == 12
    await two.settings.trust()
    await two.notices.trust()
    assert not two.notices.may_have_pending(MEMBER)


async def test_a_purge_makes_every_process_forget_the_servers_settings(
    processes: list[Process],
) -> None:
    from datetime import timedelta

    from bot.services.retention import RetentionService

    one, two = processes
    await one.settings.update(GUILD, 99, max_shifts_per_week=7)
    assert (await two.settings.get(GUILD)).max_shifts_per_week == 7
    await one.db.execute(
        "INSERT INTO guilds (guild_id, joined_at, left_at) VALUES (?, 0, 0)", (GUILD,)
    )
    mark = two.invalidations.mark()  # two heard the change to 7: wait for the purge's own
    outcome = await RetentionService(one.db, FakeClock()).purge_if_due(GUILD, timedelta(0))
    assert outcome.status == "purged"
    assert await two.invalidations.wait_heard(f"settings:{GUILD}", WITHIN, after=mark)
    assert (await two.settings.get(GUILD)).max_shifts_per_week == 3
