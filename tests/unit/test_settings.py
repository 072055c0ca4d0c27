"""Per-server settings: defaults, validation with a clear refusal, isolation between servers."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.db import Database
from bot.errors import UserFacingError
from bot.services.crisis import KEYWORD_WATCH
from bot.services.data import DeclarationError
from bot.services.settings import (
    SETTING_KEYS,
    Setting,
    SettingsService,
    declared_settings,
    describe,
    field_bounds,
)
from tests.declarations import service_module


@pytest.fixture
def settings(db: Database) -> tuple[SettingsService, Database]:
    return SettingsService(db, FakeClock(), default_timezone="Europe/London"), db


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
    assert loaded[KEYWORD_WATCH] is True
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


JOURNALS = """
    from bot.services.settings import Setting

    KEEP_DAYS = Setting[int]("journal_keep_days", int, 7, "Days journals are kept", low=1, high=30)
    SETTINGS = (KEEP_DAYS,)
"""


async def test_a_feature_declares_its_own_setting_in_its_own_module(
    settings: tuple[SettingsService, Database], tmp_path: Path
) -> None:
    """Nothing central to edit: the setting is listed, defaulted, checked, stored and read typed."""
    service, db = settings
    assert "journal_keep_days" not in SETTING_KEYS
    with service_module(tmp_path / "modules", "journals", JOURNALS) as name:
        keep_days: Setting[int] = importlib.import_module(name).KEEP_DAYS
        assert "journal_keep_days" in SETTING_KEYS
        assert describe("journal_keep_days") == "Days journals are kept"
        assert field_bounds("journal_keep_days") == (1, 30)
        assert (await service.get(1))[keep_days] == 7
        with pytest.raises(UserFacingError, match="less than or equal to 30"):
            await service.set_from_text(1, 99, "journal_keep_days", "31")
        await service.set_from_text(1, 99, "journal_keep_days", "12")
        assert (await SettingsService(db, FakeClock()).get(1))[keep_days] == 12
    # Once no module declares it, a stored value is ignored (as a retired setting's would be).
    assert "journal_keep_days" not in SETTING_KEYS
    assert "journal_keep_days" not in (await SettingsService(db, FakeClock()).get(1)).model_dump()


def test_a_setting_declared_twice_is_an_error(tmp_path: Path) -> None:
    again = """
        from bot.services.settings import Setting

        SETTINGS = (Setting[int]("checkin_grace_minutes", int, 5, "Twice"),)
    """
    with (
        service_module(tmp_path, "second_checkins", again),
        pytest.raises(DeclarationError) as error,
    ):
        declared_settings()
    assert str(error.value) == (
        "setting checkin_grace_minutes is declared twice: in bot.services.checkin_due and "
        "bot.services.second_checkins"
    )
    core = """
        from bot.services.settings import Setting

        SETTINGS = (Setting[str]("timezone", str, "UTC", "A second time zone"),)
    """
    with service_module(tmp_path, "core", core), pytest.raises(DeclarationError) as error:
        declared_settings()
    assert "setting timezone is declared twice: in bot.services.settings" in str(error.value)
