"""`copy-database`: SQLite into the suite's engine and back, checked, refusing, all or nothing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.db import Database, StoreError, open_database
from bot.engines.copy import copy_database
from bot.services.group_membership import MembershipService
from bot.services.groups import GroupService
from bot.services.settings import GuildSettings
from tests.helpers import dump
from tests.services import rota_service
from tests.stores import new_target, sqlite_database

ROOT = Path(__file__).resolve().parents[2]
GUILD = 1
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def _populated(path: Path) -> Database:
    db = sqlite_database(path)
    await db.connect()
    await db.migrate()
    clock = FakeClock(NOW)
    groups, members = GroupService(db, clock), MembershipService(db, clock)
    for index in range(5):
        group = await groups.create(
            GUILD, 99, name=f"Group {index}", description="Peers", capacity=2, meets=None,
            role_id=500 + index, channel_id=None,
        )  # fmt: skip
        for user in range(100, 104):  # two join, two wait
            await members.join(GUILD, group.id, user)
    created = await rota_service(db, NOW).create_rota(GUILD, 99, "Evening duty")
    slots, _ = await rota_service(db, NOW).add_slots(
        created, 99, [NOW + timedelta(days=d) for d in range(1, 40)], timedelta(hours=2)
    )
    await rota_service(db, NOW).grant_training(GUILD, 7, 99, None)
    await rota_service(db, NOW).claim_slot(
        rota_settings(), GUILD, slots[0].id, 7, is_supporter=True
    )
    return db


def rota_settings() -> GuildSettings:
    return GuildSettings(timezone="UTC")


@pytest.fixture
async def source(tmp_path: Path) -> AsyncIterator[Database]:
    db = await _populated(tmp_path / "source.db")
    yield db
    await db.close()


async def _connected(target: str | Path) -> Database:
    db = open_database(target)
    await db.connect()
    return db


async def test_a_copy_there_and_back_keeps_every_row_and_new_ids_stay_fresh(
    source: Database, tmp_path: Path
) -> None:
    original = await dump(source)
    there = await _connected(new_target(tmp_path / "there.db"))
    back = await _connected(tmp_path / "back.db")
    try:
        report = await copy_database(source, there, batch_size=7)  # batches split tables
        assert report.rows["groups"] == 5 and report.rows["group_members"] == 10
        assert report.rows["rota_slots"] == 39 and report.total > 60
        assert await dump(source) == original  # the source is only read
        await copy_database(there, back)
        assert await dump(back) == original
        # The copied ids were moved past: the next group gets a fresh id on either engine.
        group = await GroupService(there, FakeClock(NOW)).create(
            GUILD, 99, name="Newcomers", description="", capacity=None, meets=None,
            role_id=600, channel_id=None,
        )  # fmt: skip
        assert group.id == 6
    finally:
        await there.close()
        await back.close()


async def test_a_target_holding_data_is_refused_and_left_as_it_was(
    source: Database, tmp_path: Path
) -> None:
    target = await _populated(tmp_path / "busy.db")
    before = await dump(target)
    try:
        with pytest.raises(StoreError, match="already holds data"):
            await copy_database(source, target)
        assert await dump(target) == before
    finally:
        await target.close()


async def test_a_failure_part_way_leaves_the_target_without_rows(
    source: Database, tmp_path: Path
) -> None:
    target = await _connected(new_target(tmp_path / "target.db"))
    copied: list[str] = []

    def progress(table: str, rows: int) -> None:
        copied.append(table)
        if len(copied) == 4:
            raise RuntimeError("the connection dropped")

    try:
        with pytest.raises(RuntimeError, match="dropped"):
            await copy_database(source, target, batch_size=2, progress=progress)
        for table in await target.tables():
            assert await target.fetchval(f'SELECT COUNT(*) FROM "{table.name}"') == 0, table.name
        await copy_database(source, target)  # and a new try is accepted
        assert await target.fetchval("SELECT COUNT(*) FROM groups") == 5
    finally:
        await target.close()


async def test_an_unmigrated_source_is_refused(tmp_path: Path) -> None:
    old = sqlite_database(tmp_path / "old.db")
    await old.connect()
    target = await _connected(tmp_path / "new.db")
    try:
        with pytest.raises(StoreError, match="run `python -m bot migrate` on it first"):
            await copy_database(old, target)
        assert await target.schema_version() == 0
    finally:
        await old.close()
        await target.close()


def test_the_command_prints_the_counts_and_refuses_its_own_database(tmp_path: Path) -> None:
    import asyncio

    async def make() -> None:
        db = await _populated(tmp_path / "hearth.db")
        await db.close()

    asyncio.run(make())
    (tmp_path / "config.toml").write_text('[database]\npath = "hearth.db"\n', encoding="utf-8")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "copy-database", *args], cwd=tmp_path,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, capture_output=True,
            text=True, timeout=60,
        )  # fmt: skip

    done = run("--to", "copy.db")
    assert done.returncode == 0, done.stderr
    assert "copied" in done.stdout and "groups: 5" in done.stdout
    again = run("--to", "copy.db")
    assert again.returncode == 2
    assert again.stderr.startswith("hearth: ") and "already holds data" in again.stderr
    assert "Traceback" not in again.stderr and len(again.stderr.strip().splitlines()) == 1
    same = run("--to", "hearth.db")
    assert same.returncode == 2 and "already uses" in same.stderr
