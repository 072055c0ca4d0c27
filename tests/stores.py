"""The one place tests get a database: SQLite in the test's folder, or, with
`HEARTH_TEST_DATABASE_URL` set, a fresh PostgreSQL database on that server.

Every test that stores anything goes through here, so the whole suite runs on either engine.
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.db import Database, open_database
from bot.engines.sqlite import SqliteDatabase

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
