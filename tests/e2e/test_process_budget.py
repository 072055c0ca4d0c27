"""Three real `python -m bot` processes over one PostgreSQL database share Discord's global limit.

Each process runs one shard of three, and a server on each shard has a burst of due items
(tests/e2e/crash.py: check-in prompts, personal check-ins, shift reminders), so all three send
at once, against the fake enforcing 50 requests in any sliding second for the bot's token. Each
process alone would send at 47 a second; together, through the shared budget in the database,
they stay under 50 and are never refused. The control turns the shared budget off
(`[delivery] shared_rate_budget = false`) and shows the same three processes pass the limit, so
the test can fail.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.crash import build_burst, delivered
from tests.e2e.fleet import fleet, wait_all_sent
from tests.fakediscord import FakeDiscord
from tests.stores import new_target, on_postgres

ITEMS = 150
PROCESSES = 3

pytestmark = pytest.mark.skipif(
    not on_postgres(), reason="several processes need PostgreSQL (SQLite serves one)"
)


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "control-unshared"])
async def test_three_bot_processes_stay_under_discords_global_limit_together(
    tmp_path: Path, shared: bool
) -> None:
    fake = FakeDiscord()
    await fake.start("127.0.0.1", 0)
    try:
        target = new_target(tmp_path / "hearth.db")
        bursts = [
            await build_burst(fake, ITEMS // PROCESSES, target, shard=(shard, PROCESSES))
            for shard in range(PROCESSES)
        ]
        fake.enforce_global_limit(50 if shared else None)  # the control: only count
        ranges = [[shard] for shard in range(PROCESSES)]
        extra = "" if shared else "shared_rate_budget = false\n"
        async with fleet(fake, target, tmp_path, PROCESSES, ranges, delivery=extra) as crew:
            started = time.monotonic()
            await crew.start()
            await wait_all_sent(fake, target, bursts, 120)
            took = time.monotonic() - started
            await crew.stop()
            crew.assert_clean()
        assert sum(delivered(fake, burst) for burst in bursts) == ITEMS  # each once
        peak = fake.peak_requests_per_second()
        print(f"\n{PROCESSES} processes, shared={shared}: peak {peak}/s, {took:.1f} s")
        if shared:
            assert fake.rate_limited == []
            assert peak <= 50
            assert all("rate budget did not answer" not in p.log for p in crew.processes)
        else:
            assert peak > 50
    finally:
        await fake.stop()
