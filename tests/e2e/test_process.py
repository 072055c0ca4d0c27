"""The bot started as in production (`python -m bot`) against the fake in its own process."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30


async def _read_until(stream: asyncio.StreamReader, pattern: str, seen: list[str]) -> re.Match[str]:
    while True:
        line = (await asyncio.wait_for(stream.readline(), START_TIMEOUT)).decode()
        if not line:
            raise AssertionError("stream ended before " + pattern + ":\n" + "".join(seen))
        seen.append(line)
        if match := re.search(pattern, line):
            return match


async def test_bot_process_starts_against_the_standalone_fake_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    fake = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fakediscord", "--port", "0",
        cwd=ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    bot = None
    try:
        assert fake.stdout is not None
        fake_out: list[str] = []
        api = (await _read_until(fake.stdout, r'api_base = "(.+)"', fake_out)).group(1)
        gateway = (await _read_until(fake.stdout, r'gateway_url = "(.+)"', fake_out)).group(1)
        token = (await _read_until(fake.stdout, r"DISCORD_TOKEN='(.+)'", fake_out)).group(1)

        (tmp_path / "config.toml").write_text(
            f'[database]\npath = "hearth.db"\n[discord]\napi_base = "{api}"\n'
            f'gateway_url = "{gateway}"\n',
            encoding="utf-8",
        )
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot",
            cwd=tmp_path, env={**env, "DISCORD_TOKEN": token},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert bot.stderr is not None
        log: list[str] = []
        await _read_until(bot.stderr, r"ready in 1 servers", log)
        assert any("synced" in line and "slash commands" in line for line in log)

        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), START_TIMEOUT) == 0
        rest = (await bot.stderr.read()).decode()
        output = "".join(log) + rest
        assert "shutting down" in output
        assert "Traceback" not in output
        assert token not in output
        assert (tmp_path / "hearth.db").exists()
    finally:
        for process in (bot, fake):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
