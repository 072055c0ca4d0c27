"""Durable delivery, proved on the bot as a real process: killed with SIGKILL at a random moment,
killed between "Discord accepted" and "marked sent", or stopped with SIGTERM mid-burst, then
restarted — and every item of the burst is in Discord exactly once.

The suite runs a small burst; `python -m bench --only outbox` runs 20 seeds of 1,000 items.
`HEARTH_CRASH_SEEDS` / `HEARTH_CRASH_ITEMS` size the random-kill test here too.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest

from bot.db import open_database
from tests.e2e.crash import (
    BotProcess,
    Burst,
    crash_world,
    delivered,
    kill_mid_burst,
    resume,
)
from tests.fakediscord import FakeDiscord

SEEDS = int(os.environ.get("HEARTH_CRASH_SEEDS", "1"))
ITEMS = int(os.environ.get("HEARTH_CRASH_ITEMS", "100"))
DELIVER_TIMEOUT = 120.0


def assert_exactly_once(fake: FakeDiscord, burst: Burst) -> Counter[str]:
    received = burst.received(fake)
    lost = burst.expected - set(received)
    doubled = {item: n for item, n in received.items() if n > 1}
    unexpected = set(received) - burst.expected
    assert not lost, f"lost: {sorted(lost)[:10]}"
    assert not doubled, f"duplicated: {dict(list(doubled.items())[:10])}"
    assert not unexpected, f"unexpected messages: {sorted(unexpected)[:5]}"
    return received


async def _resume_and_check(folder: Path, fake: FakeDiscord, burst: Burst) -> None:
    again = await resume(folder, fake, burst, DELIVER_TIMEOUT)
    assert_exactly_once(fake, burst)
    assert "Traceback" not in again.log, again.log


@pytest.mark.parametrize("seed", range(SEEDS))
async def test_sigkill_at_a_random_moment_loses_and_doubles_nothing(
    tmp_path: Path, seed: int
) -> None:
    async with crash_world(tmp_path, ITEMS) as (fake, burst):
        code = await kill_mid_burst(tmp_path, fake, burst, seed=seed, fault_after=None)
        assert code == -9
        await _resume_and_check(tmp_path, fake, burst)


async def test_a_kill_after_discord_accepted_but_before_marked_sent_is_not_doubled(
    tmp_path: Path,
) -> None:
    async with crash_world(tmp_path, ITEMS) as (fake, burst):
        after = ITEMS // 3
        code = await kill_mid_burst(tmp_path, fake, burst, seed=None, fault_after=after)
        assert code == -9  # the fault hook: SIGKILL right after Discord accepted the Nth send
        assert delivered(fake, burst) >= after
        await _resume_and_check(tmp_path, fake, burst)
        assert fake.nonce_repeats >= 1  # the unmarked send came again, and Discord deduplicated


async def test_sigterm_mid_burst_exits_0_within_10_s_and_the_rest_follows_on_restart(
    tmp_path: Path,
) -> None:
    async with crash_world(tmp_path, ITEMS) as (fake, burst):
        first = BotProcess(tmp_path, fake, 1, {})
        await first.start()
        try:
            await first.wait_ready()
            await fake.wait_for(lambda: delivered(fake, burst) >= ITEMS // 4, 60)
            code, took = await first.terminate(30)
        finally:
            await first.kill()
        assert code == 0, first.log
        assert took < 10
        assert "Traceback" not in first.log
        assert 0 < delivered(fake, burst) < ITEMS  # really stopped mid-burst
        db = open_database(burst.target)  # the rest given back, unleased
        await db.connect()
        try:
            left = await db.fetchone(
                "SELECT COUNT(*), COUNT(lease_owner) FROM outbox WHERE status = 'pending'"
            )
        finally:
            await db.close()
        assert left is not None and left[0] > 0 and left[1] == 0
        await _resume_and_check(tmp_path, fake, burst)
