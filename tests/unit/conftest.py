"""Shared unit-test fixtures: a migrated database of its own for each test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db import Database
from tests.stores import new_database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    store = new_database(tmp_path / "hearth.db")
    await store.connect()
    await store.migrate()
    yield store
    await store.close()
