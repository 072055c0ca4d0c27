"""Per-server settings: defaults, validation with a clear refusal, isolation between servers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.db import Database
from bot.errors import UserFacingError
from bot.services.settings import SettingsService
from tests.stores import new_database


@pytest.fixture
async def settings(tmp_path: Path) -> AsyncIterator[tuple[SettingsService, Database]]:
    db = new_database(tmp_path / "hearth.db")
    await db.connect()
    await db.migrate()
    yield SettingsService(db, FakeClock(), default_timezone="Europe/London"), db
    await db.close()


async def test_defaults_come_from_config_and_model(
    settings: tuple[SettingsService, Database],
) -> None:
    service, _ = settings
    current = await service.get(1)
    assert current.timezone == "Europe/London"
    assert current.max_shifts_per_week == 3
    assert current.reminder_hours == [24, 1]


async def test_set_from_text_validates_and_persists(
    settings: tuple[SettingsService, Database],
) -> None:
    service, db = settings
    await service.set_from_text(1, 99, "reminder_hours", "1, 24, 2")
    await service.set_from_text(1, 99, "keyword_watch_enabled", "on")
    fresh = SettingsService(db, FakeClock())
    loaded = await fresh.get(1)
    assert loaded.reminder_hours == [24, 2, 1]
    assert loaded.keyword_watch_enabled is True
    assert (await fresh.get(2)).reminder_hours == [24, 1]  # other servers untouched


@pytest.mark.parametrize(
    ("key", "raw", "message"),
    [
        ("timezone", "Mars/Base", "not an IANA time zone"),
        ("max_shifts_per_week", "0", "greater than or equal to 1"),
        ("max_shifts_per_week", "lots", "whole number"),
        ("keyword_watch_enabled", "maybe", "on or off"),
        ("nonsense", "1", "no setting called"),
    ],
)
async def test_bad_values_are_refused_and_nothing_changes(
    settings: tuple[SettingsService, Database], key: str, raw: str, message: str
) -> None:
    service, db = settings
    with pytest.raises(UserFacingError, match=message):
        await service.set_from_text(1, 99, key, raw)
    assert await db.fetchval("SELECT COUNT(*) FROM guild_settings") == 0
