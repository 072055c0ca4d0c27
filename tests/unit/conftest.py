"""Shared unit-test fixtures: a migrated database of its own for each test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.db import Database
from tests.stores import migrated, new_database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with migrated(new_database(tmp_path / "hearth.db")) as store:
        yield store
