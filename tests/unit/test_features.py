"""The one feature contract: declarations added and withdrawn, typed APIs, settings fan-out."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.app import HearthBot
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
    features.add(Feature(name="groups", about={"groups": groups}))
    features.add(
        Feature(name="safety", on_settings_changed=on_change).offering(SUPPORT_ROUTING, route)
    )

    assert [label for label, _ in features.about()] == ["groups"]
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
