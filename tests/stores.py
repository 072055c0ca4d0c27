"""The one place tests get a database: SQLite in the test's folder, or, with
`HEARTH_TEST_DATABASE_URL` set, a fresh PostgreSQL database on that server.

Every test that stores anything goes through here, so the whole suite runs on either engine.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

from bot.db import Database, open_database
from bot.engines.sqlite import SqliteDatabase

D = TypeVar("D", bound=Database)

SERVER_ENV = "HEARTH_TEST_DATABASE_URL"


def on_postgres() -> bool:
    return bool(os.environ.get(SERVER_ENV))


def new_target(path: Path) -> str | Path:
    """Where a test's database lives: `path` on SQLite, a new empty database on PostgreSQL."""
    if not on_postgres():
        return path
    from tests.pgtest import fresh_database_url

    url: str = fresh_database_url(path.stem)
    return url


def new_database(path: Path) -> Database:
    """A store for a test (not yet connected)."""
    return open_database(new_target(path))


def sqlite_database(path: Path) -> SqliteDatabase:
    """For the tests about SQLite itself (the file, its backup): always SQLite."""
    return SqliteDatabase(path)


@asynccontextmanager
async def migrated(db: D) -> AsyncIterator[D]:
    """`db` connected and migrated for the length of the block, closed after."""
    await db.connect()
    await db.migrate()
    try:
        yield db
    finally:
        await db.close()


async def migrated_sqlite_file(path: Path) -> Path:
    """A SQLite file holding the whole schema and nothing else, closed: for reading it raw."""
    async with migrated(sqlite_database(path)):
        return path


@asynccontextmanager
async def shared_stores(
    path: Path, count: int, *, pool_size: int = 10
) -> AsyncIterator[list[Database]]:
    """`count` stores on one new database, connected and migrated once, closed after.

    Each store has its own connections (its own writer thread on SQLite, its own pool on
    PostgreSQL), as each bot process would: the one way tests stand several processes up.
    """
    target = new_target(path)
    opened = [open_database(target, pool_size=pool_size) for _ in range(count)]
    for store in opened:
        await store.connect()
    await opened[0].migrate()
    try:
        yield opened
    finally:
        for store in opened:
            await store.close()
