"""Shared fixtures: the fake Discord, the Hearth bot on it, and the no-silent-errors rule.

Every test fails at teardown if discord.*, bot.* or cogs.* logged an ERROR it did not expect, if
the bot used a route the fake does not implement (or one Discord's spec cannot check), or if it
sent a request Discord would refuse for its shape or size (`fake.violations`). Opt out per test
with `@pytest.mark.allow_errors` (anything) or `@pytest.mark.allow_errors("regex", ...)`, or call
`hearth.expect_errors("regex")` / `error_watch.expect(...)` where the error is provoked on purpose;
`@pytest.mark.allow_invalid_requests` where a refused request is sent on purpose.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import discord
import pytest
import yarl

from tests.fakediscord import FakeDiscord
from tests.harness import ErrorWatch, Harness, HearthDriver

# Idle unless HEARTH_PSEUDO_LOCALE is set (tests/pseudo_locale.py; CI's PostgreSQL run sets it).
pytest_plugins = ["tests.pseudo_locale"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "allow_errors(*patterns): let this test log ERRORs (all, or those matching the regexes)",
    )
    config.addinivalue_line(
        "markers",
        "allow_unimplemented: let the bot call routes the fake does not implement, or that "
        "Discord's spec has no request schema for",
    )
    config.addinivalue_line(
        "markers",
        "allow_invalid_requests: let requests Discord would refuse (400 / 50035) pass the test",
    )


@pytest.fixture(autouse=True)
def error_watch(request: pytest.FixtureRequest) -> Iterator[ErrorWatch]:
    watch = ErrorWatch()
    marker = request.node.get_closest_marker("allow_errors")
    if marker is not None:
        if marker.args:
            watch.allow(*marker.args)
        else:
            watch.allow_all = True
    watch.allow_unimplemented = request.node.get_closest_marker("allow_unimplemented") is not None
    watch.allow_invalid_requests = (
        request.node.get_closest_marker("allow_invalid_requests") is not None
    )
    watch.install()
    try:
        yield watch
    finally:
        watch.uninstall()
    problems = watch.problems()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def clock() -> Any:
    from bot.clock import FakeClock

    return FakeClock()


@pytest.fixture
async def fake(error_watch: ErrorWatch, clock: Any) -> AsyncIterator[FakeDiscord]:
    """A started fake Discord on a free loopback port (no guilds yet)."""
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    server = FakeDiscord(clock=clock)
    await server.start(port=0)
    error_watch.fakes.append(server)
    try:
        yield server
    finally:
        await server.stop()
        discord.http.Route.BASE = base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(str(gateway))


@pytest.fixture
def hearth_config() -> dict[str, Any]:
    """Config sections merged over the test defaults; override this fixture to change them."""
    return {}


@pytest.fixture
def hearth_extensions() -> list[str] | None:
    """Cogs to load (None: all of them); override to test one feature in isolation."""
    return None


@pytest.fixture
async def hearth(
    fake: FakeDiscord,
    clock: Any,
    tmp_path: Path,
    error_watch: ErrorWatch,
    hearth_config: dict[str, Any],
    hearth_extensions: list[str] | None,
) -> AsyncIterator[Harness]:
    """The standard server with the real HearthBot connected and ready."""
    driver = HearthDriver(tmp_path / "hearth.db", clock, hearth_config)
    driver.extensions = hearth_extensions
    async with Harness.standard(fake, driver, error_watch, clock) as harness:
        yield harness
