"""Three real `python -m bot` processes over one PostgreSQL database share Discord's global limit.

The burst of tests/e2e/crash.py (check-in prompts, personal check-ins, shift reminders, all due
at once) is delivered by three bots at the same time, against the fake enforcing 50 requests in
any sliding second for the bot's token. Each process alone would send at 47 a second; together,
through the shared budget in the database, they stay under 50 and are never refused. The
control turns the shared budget off (`[delivery] shared_rate_budget = false`) and shows the
same three processes pass the limit, so the test can fail.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.e2e.crash import BotProcess, crash_world, delivered, wait_delivered
from tests.stores import on_postgres

ITEMS = 150
PROCESSES = 3

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="several processes need PostgreSQL (SQLite serves one)"
)


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "control-unshared"])
async def test_three_bot_processes_stay_under_discords_global_limit_together(
    tmp_path: Path, shared: bool
) -> None:
    async with crash_world(tmp_path, ITEMS) as (fake, burst):
        config = tmp_path / "config.toml"
        config.write_text(
            config.read_text(encoding="utf-8").replace(
                "[delivery]\n", f"[delivery]\nshared_rate_budget = {str(shared).lower()}\n"
            ),
            encoding="utf-8",
        )
        if not shared:
            fake.enforce_global_limit(None)  # only count: let the control run at its own pace
        bots = [BotProcess(tmp_path, fake, number, {}) for number in range(1, PROCESSES + 1)]
        started = time.monotonic()
        try:
            await asyncio.gather(*(bot.start() for bot in bots))
            await wait_delivered(burst, fake, 120)
            took = time.monotonic() - started
            for bot in bots:
                code, _ = await bot.terminate(30)
                assert code == 0, bot.log
        finally:
            for bot in bots:
                await bot.kill()
        assert delivered(fake, burst) == len(burst.expected)  # each once
        for bot in bots:
            assert "Traceback" not in bot.log, bot.log
            assert "ready in 1 servers" in bot.log
        peak = fake.peak_requests_per_second()
        print(f"\n{PROCESSES} processes, shared={shared}: peak {peak}/s, {took:.1f} s")
        if shared:
            assert fake.rate_limited == []
            assert peak <= 50
            assert all("rate budget did not answer" not in bot.log for bot in bots)
        else:
            assert peak > 50
