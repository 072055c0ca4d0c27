"""The bot started as in production (`python -m bot`) against the fake in its own process."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.db import discover_migrations, open_database
from tests.e2e.crash import database_config, toml_string
from tests.stores import new_target

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


@dataclass
class Endpoint:
    api: str
    gateway: str
    token: str

    def write_config(self, folder: Path) -> str | Path:
        """config.toml for a bot run in `folder`, on the suite's engine; returns the database."""
        target = new_target(folder / "hearth.db")
        discord = (
            f"[discord]\napi_base = {toml_string(self.api)}\n"
            f"gateway_url = {toml_string(self.gateway)}\n"
        )
        config = database_config(folder, target) + discord
        (folder / "config.toml").write_text(config, encoding="utf-8")
        return target


async def _read_until(stream: asyncio.StreamReader, pattern: str, seen: list[str]) -> re.Match[str]:
    while True:
        line = (await asyncio.wait_for(stream.readline(), START_TIMEOUT)).decode()
        if not line:
            raise AssertionError("stream ended before " + pattern + ":\n" + "".join(seen))
        seen.append(line)
        if match := re.search(pattern, line):
            return match


async def _stop(process: asyncio.subprocess.Process | None) -> None:
    if process is not None and process.returncode is None:
        process.kill()
        await process.wait()


async def _schema_version(target: str | Path) -> int:
    db = open_database(target)
    await db.connect()
    try:
        return await db.schema_version()
    finally:
        await db.close()


@pytest.fixture
async def standalone_fake() -> AsyncIterator[Endpoint]:
    """`python -m tests.fakediscord` in its own process, as an operator would try Hearth."""
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakediscord", "--port", "0",
        cwd=ROOT, env=ENV, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    try:
        assert fake.stdout is not None
        out: list[str] = []
        api = (await _read_until(fake.stdout, r'api_base = "(.+)"', out)).group(1)
        gateway = (await _read_until(fake.stdout, r'gateway_url = "(.+)"', out)).group(1)
        token = (await _read_until(fake.stdout, r"DISCORD_TOKEN='(.+)'", out)).group(1)
        yield Endpoint(api, gateway, token)
    finally:
        await _stop(fake)


async def test_bot_process_starts_against_the_standalone_fake_and_stops_cleanly_on_sigterm(
    standalone_fake: Endpoint, tmp_path: Path
) -> None:
    target = standalone_fake.write_config(tmp_path)
    bot = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot",
        cwd=tmp_path, env={**ENV, "DISCORD_TOKEN": standalone_fake.token},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert bot.stderr is not None
        log: list[str] = []
        await _read_until(bot.stderr, r"ready in 1 servers", log)
        assert any("synced" in line and "slash commands" in line for line in log)

        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), START_TIMEOUT) == 0
        output = "".join(log) + (await bot.stderr.read()).decode()
        assert "shutting down" in output
        assert "Traceback" not in output
        assert standalone_fake.token not in output
        if isinstance(target, Path):
            assert target.exists()  # SQLite: the file was created where config.toml said
        else:
            assert await _schema_version(target) == len(discover_migrations())
    finally:
        await _stop(bot)


async def test_sync_command_syncs_without_starting_the_gateway(
    standalone_fake: Endpoint, tmp_path: Path
) -> None:
    standalone_fake.write_config(tmp_path)
    result = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "sync",
        cwd=tmp_path, env={**ENV, "DISCORD_TOKEN": standalone_fake.token},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(result.communicate(), START_TIMEOUT)
    output = err.decode()
    assert result.returncode == 0, output
    assert re.search(r"synced \d+ slash commands", output)
    assert "ready in" not in output  # it never connected to the gateway
    assert "Traceback" not in output
