"""The one feature contract: declarations added and withdrawn, typed APIs, settings fan-out."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import discord
import pytest

import cogs
from bot.app import HearthBot, extension_names
from bot.clock import FakeClock
from bot.config import HearthConfig
from bot.features import FILL_PLACES, SUPPORT_ROUTING, Feature, Features
from bot.services.rota import RotaService
from bot.services.settings import GuildSettings
from bot.services.support import SupportService

ROOT = Path(__file__).resolve().parents[2]


async def test_a_feature_declares_about_lines_apis_and_settings_in_one_place() -> None:
    changed: list[int] = []

    async def groups(guild_id: int) -> int:
        return 3

    async def route(guild_id: int, user_id: int, source: str) -> str:
        return f"routed {user_id} from {source}"

    async def on_change(guild_id: int, before: GuildSettings, after: GuildSettings) -> None:
        changed.append(guild_id)

    features = Features()
    features.add(Feature(name="groups", about={("{n} group", "{n} groups"): groups}))
    features.add(
        Feature(name="safety", on_settings_changed=on_change).offering(SUPPORT_ROUTING, route)
    )

    assert [label for label, _ in features.about()] == [("{n} group", "{n} groups")]
    routing = features.api(SUPPORT_ROUTING)
    assert routing is not None and await routing(1, 2, "checkin") == "routed 2 from checkin"
    assert features.api(FILL_PLACES) is None  # nobody offers it: the caller does without
    settings = GuildSettings(timezone="UTC")
    await features.settings_changed(7, settings, settings)
    assert changed == [7]

    with pytest.raises(ValueError, match="already declared"):
        features.add(Feature(name="groups"))
    features.remove("safety")
    assert features.api(SUPPORT_ROUTING) is None
    await features.settings_changed(8, settings, settings)
    assert changed == [7]


@pytest.mark.allow_errors("feature setup failed in on_guild_added")
async def test_guild_hooks_run_in_load_order_and_one_failure_stops_no_other(
    caplog: pytest.LogCaptureFixture,
) -> None:
    heard: list[str] = []

    async def failing_greeting(guild: discord.Guild) -> None:
        raise RuntimeError("owner unreachable")

    def hooks(name: str) -> Feature:
        async def added(guild: discord.Guild) -> None:
            heard.append(f"{name} added {guild.id}")

        async def removed(guild_id: int) -> None:
            heard.append(f"{name} removed {guild_id}")

        return Feature(name=name, on_guild_added=added, on_guild_removed=removed)

    features = Features()
    features.add(hooks("admin"))
    features.add(Feature(name="setup", on_guild_added=failing_greeting))
    features.add(Feature(name="groups"))  # no hooks: nothing to do
    features.add(hooks("rota"))
    guild = cast(discord.Guild, SimpleNamespace(id=5))

    with caplog.at_level(logging.ERROR, logger="bot.features"):
        await features.guild_added(guild)
    await features.guild_removed(6)

    assert heard == ["admin added 5", "rota added 5", "admin removed 6", "rota removed 6"]
    [failure] = caplog.records
    assert failure.getMessage() == "feature setup failed in on_guild_added for guild 5"
    features.remove("admin")
    await features.guild_removed(7)
    assert heard[-1] == "rota removed 7" and len(heard) == 5


def test_no_feature_finds_another_by_its_cog_name() -> None:
    by_name = re.compile(r"get_cog\(\s*[\"']")
    found = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "cogs").rglob("*.py")
        if by_name.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []


async def test_the_bot_builds_each_service_once_on_its_own_store_and_clock(tmp_path: Path) -> None:
    """Cogs, views and timers all share one instance, so a service is built in one place."""
    clock = FakeClock()
    config = HearthConfig.model_validate({"database": {"path": str(tmp_path / "hearth.db")}})
    bot = HearthBot(config, clock=clock, run_scheduler=False)
    rota = bot.service(RotaService)
    assert bot.service(RotaService) is rota
    assert isinstance(bot.service(SupportService), SupportService)
    assert (rota._db, rota._clock) == (bot.db, clock)


def test_a_new_cog_package_is_loaded_without_editing_any_list(tmp_path: Path) -> None:
    """Adding a feature edits nothing central: its cog is found by walking `cogs/` (its tables
    by walking `bot.services`: tests/unit/test_mydata.py and test_export.py prove that side)."""
    (tmp_path / "journals").mkdir()
    (tmp_path / "journals" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "_journal_helpers.py").write_text("", encoding="utf-8")
    cogs.__path__.append(str(tmp_path))
    try:
        names = extension_names()
    finally:
        cogs.__path__.remove(str(tmp_path))
    assert "cogs.journals" in names and "cogs.rota" in names
    assert "cogs._journal_helpers" not in names
