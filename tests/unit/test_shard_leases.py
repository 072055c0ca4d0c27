"""Shard leases: no two processes run one shard, a killed process's shards are taken over, a clean
stop hands them on at once, and a changed shard_count cannot overlap — on the injectable clock,
and raced across several stores (each its own connections, as each process has) on one database.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.db import Database, open_database
from bot.services.shard_leases import (
    LEASE,
    RENEW_EVERY,
    ProcessIdentity,
    ShardLease,
    ShardLeaseLost,
    ShardLeases,
    ShardsTaken,
    fleet_report,
    host_key,
    process_gone,
)
from bot.shards import ShardScope
from tests.stores import new_target, shared_stores

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
STORES = 4


def scope(count: int, *ids: int) -> ShardScope:
    return ShardScope(count, frozenset(ids))


def never_gone(host: str | None, pid: int | None) -> bool:
    return False


def process(db: Database, clock: FakeClock, name: str) -> ShardLeases:
    """One Hearth process's leases (pids and hosts that prove nothing: only leases decide)."""
    return ShardLeases(db, clock, ProcessIdentity(name, None, 0), gone=never_gone)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


async def holders(db: Database) -> list[tuple[int, int, str]]:
    rows = await db.fetchall(
        "SELECT shard_count, shard_id, holder FROM shard_leases ORDER BY shard_count, shard_id"
    )
    return [(row["shard_count"], row["shard_id"], row["holder"]) for row in rows]


async def test_a_shard_another_live_process_runs_is_refused_naming_it(
    db: Database, clock: FakeClock
) -> None:
    first, second = process(db, clock, "host-a:1:aa"), process(db, clock, "host-b:2:bb")
    await first.claim(scope(4, 0, 1))
    with pytest.raises(ShardsTaken) as refused:
        await second.claim(scope(4, 1, 2))
    message = str(refused.value)
    assert message.startswith("Shard 1 (of 4) is already run by another Hearth process")
    assert "host-a:1:aa" in message and "never run the same shard" in message
    assert await holders(db) == [(4, 0, "host-a:1:aa"), (4, 1, "host-a:1:aa")]  # unchanged
    assert second.held is None
    await second.claim(scope(4, 2, 3))  # the others are free
    assert [lease.holder for lease in await first.live()] == ["host-a:1:aa"] * 2 + [
        "host-b:2:bb"
    ] * 2


async def test_a_lease_kept_renewed_holds_and_one_left_to_run_out_is_taken_over(
    db: Database, clock: FakeClock
) -> None:
    first, second = process(db, clock, "a"), process(db, clock, "b")
    await first.claim(scope(2, 0))
    for _ in range(6):  # a minute of renewals every 10 s: always live
        clock.advance(RENEW_EVERY)
        await first.renew()
    with pytest.raises(ShardsTaken):
        await second.claim(scope(2, 0))
    clock.advance(LEASE - timedelta(seconds=1))  # killed: no more renewals
    with pytest.raises(ShardsTaken):
        await second.claim(scope(2, 0))
    clock.advance(timedelta(seconds=1))
    await second.claim(scope(2, 0))
    assert await holders(db) == [(2, 0, "b")]
    with pytest.raises(ShardLeaseLost, match="took over shard 0 of 2"):
        await first.renew()  # the first one came back to life: it must stop
    assert first.held is None


async def test_a_clean_stop_hands_the_shards_on_at_once(db: Database, clock: FakeClock) -> None:
    first, second = process(db, clock, "a"), process(db, clock, "b")
    await first.claim(scope(2, 0, 1))
    assert await first.release() == 2
    await second.claim(scope(2, 0, 1))
    assert await holders(db) == [(2, 0, "b"), (2, 1, "b")]
    assert await first.release() == 0  # released already: touches nothing of b's


async def test_processes_with_different_shard_counts_never_overlap(
    db: Database, clock: FakeClock
) -> None:
    """Shard 1 of 4 and shard 5 of 8 are different rows but overlapping servers: a count
    other than the live processes' is refused until they have all stopped."""
    four, eight = process(db, clock, "four"), process(db, clock, "eight")
    await four.claim(scope(4, 1))
    with pytest.raises(ShardsTaken, match="running with shard_count 4, and this one has "):
        await eight.claim(scope(8, 5))
    with pytest.raises(ShardsTaken, match="shard_count 4"):
        await eight.claim(scope(8, 0))  # a shard no one runs: still another count
    clock.advance(LEASE)  # the count-4 process is gone
    await eight.claim(scope(8, 5))
    assert await holders(db) == [(8, 5, "eight")]  # its dead lease was cleared
    with pytest.raises(ShardsTaken, match="shard_count 8"):
        await four.claim(scope(4, 1))
    with pytest.raises(ShardsTaken, match="shard_count 8"):
        await process(db, clock, "one").claim(ShardScope.everything())


async def test_claiming_again_moves_the_process_to_its_new_shards(
    db: Database, clock: FakeClock
) -> None:
    leases = process(db, clock, "a")
    await leases.claim(scope(2, 0))
    await leases.claim(scope(2, 0, 1))
    assert await holders(db) == [(2, 0, "a"), (2, 1, "a")]


async def test_renewals_keep_the_lease_and_a_lost_one_is_reported_once(
    db: Database, clock: FakeClock
) -> None:
    first, second = process(db, clock, "a"), process(db, clock, "b")
    await first.claim(scope(1, 0))
    slept: list[float] = []
    lost: list[str] = []
    turns = 0

    async def sleep(seconds: float) -> None:
        nonlocal turns
        slept.append(seconds)
        turns += 1
        if turns == 4:  # frozen for a lease and more (a paused VM): b takes over meanwhile
            clock.advance(LEASE + timedelta(seconds=5))
            await second.claim(scope(1, 0))
        else:
            clock.advance(timedelta(seconds=seconds))
            with pytest.raises(ShardsTaken):  # while it renews, nobody else gets in
                await second.claim(scope(1, 0))

    async def on_lost(error: ShardLeaseLost) -> None:
        lost.append(str(error))

    await first.keep(on_lost, sleep=sleep)
    assert slept == [RENEW_EVERY.total_seconds()] * 4
    assert len(lost) == 1 and "no shard runs twice" in lost[0]
    assert await holders(db) == [(1, 0, "b")]


async def test_start_up_waits_once_for_a_killed_process_lease_to_run_out(
    db: Database, clock: FakeClock
) -> None:
    killed, restarted = process(db, clock, "killed"), process(db, clock, "restarted")
    await killed.claim(scope(2, 0, 1))
    clock.advance(timedelta(seconds=3))
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        clock.advance(timedelta(seconds=seconds))

    await restarted.acquire(scope(2, 1), sleep=sleep)
    assert waited == [pytest.approx(28)]  # the lease's 27 s left and a margin
    assert await holders(db) == [(2, 1, "restarted")]


async def test_start_up_is_refused_when_the_holder_renews_while_it_waits(
    db: Database, clock: FakeClock
) -> None:
    live, late = process(db, clock, "live"), process(db, clock, "late")
    await live.claim(scope(2, 0))

    async def sleep(seconds: float) -> None:
        for _ in range(int(seconds // 10)):
            clock.advance(RENEW_EVERY)
            await live.renew()
        clock.advance(timedelta(seconds=seconds % 10))

    with pytest.raises(ShardsTaken, match="Shard 0 \\(of 2\\) is already run"):
        await late.acquire(scope(2, 0), sleep=sleep)
    assert await holders(db) == [(2, 0, "live")]


async def test_a_lease_ending_beyond_one_lease_period_is_refused_without_waiting(
    db: Database, clock: FakeClock
) -> None:
    """Only a live holder (or a clock far off) has one: waiting could not help."""
    other = ShardLeases(db, clock, ProcessIdentity("other", None, 0), lease=timedelta(hours=1))
    await other.claim(scope(1, 0))

    async def sleep(seconds: float) -> None:
        raise AssertionError("must not wait")

    with pytest.raises(ShardsTaken):
        await process(db, clock, "me").acquire(scope(1, 0), sleep=sleep)


def _exited_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(done.stdout)


@pytest.mark.skipif(host_key() is None, reason="the OS does not tell boots and pid namespaces")
async def test_a_holder_gone_from_this_machine_is_taken_over_at_once(
    db: Database, clock: FakeClock
) -> None:
    """A restart after SIGKILL on the same machine: its predecessor's pid is unused, so there is
    no need to wait for its lease."""
    pid = _exited_pid()
    assert process_gone(host_key(), pid)
    assert not process_gone(host_key(), ProcessIdentity.current().pid)  # ourselves
    assert not process_gone("another-machine", pid)
    assert not process_gone(None, pid)
    dead = ShardLeases(db, clock, ProcessIdentity("dead", host_key(), pid), gone=never_gone)
    await dead.claim(scope(2, 0, 1))
    restarted = ShardLeases(db, clock, ProcessIdentity.current("restarted"))
    await restarted.claim(scope(2, 0, 1))
    assert await holders(db) == [(2, 0, "restarted"), (2, 1, "restarted")]


async def test_a_holder_on_another_machine_is_never_presumed_gone(
    db: Database, clock: FakeClock
) -> None:
    elsewhere = ShardLeases(db, clock, ProcessIdentity("elsewhere", "other-boot/pid:[1]", 1))
    await elsewhere.claim(scope(1, 0))
    with pytest.raises(ShardsTaken):
        await ShardLeases(db, clock, ProcessIdentity.current("here")).claim(scope(1, 0))


# --- races across stores ------------------------------------------------------------------------
@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[list[Database]]:
    async with shared_stores(tmp_path / "shared.db", STORES) as opened:
        yield opened


async def _race(stores: list[Database], clock: FakeClock, scopes: list[ShardScope]) -> list[str]:
    """Each scope claimed at once by its own process on its own store; the winners' names."""
    racers = [
        process(stores[index % len(stores)], clock, f"p{index}") for index in range(len(scopes))
    ]

    async def attempt(leases: ShardLeases, chosen: ShardScope) -> str | None:
        try:
            await leases.claim(chosen)
        except ShardsTaken:
            return None
        return leases.me.holder

    results = await asyncio.gather(
        *(attempt(leases, chosen) for leases, chosen in zip(racers, scopes, strict=True))
    )
    return [name for name in results if name is not None]


async def test_processes_claiming_one_shard_at_once_leave_exactly_one_winner(
    stores: list[Database], clock: FakeClock
) -> None:
    for _ in range(3):
        winners = await _race(stores, clock, [scope(2, 1)] * 8)
        assert len(winners) == 1, winners
        assert await holders(stores[0]) == [(2, 1, winners[0])]
        clock.advance(LEASE)  # that winner "dies"; the next round races for its shard


async def test_processes_with_different_counts_starting_at_once_never_overlap(
    stores: list[Database], clock: FakeClock
) -> None:
    for _ in range(3):
        scopes = [scope(4, n % 4) if n % 2 else scope(8, n) for n in range(8)]
        winners = await _race(stores, clock, scopes)
        rows = await holders(stores[0])
        assert winners and len({count for count, _, _ in rows}) == 1, rows
        assert sorted(name for _, _, name in rows) == sorted(winners)
        clock.advance(LEASE)


# --- the command line ---------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[2]


def _run(folder: Path, target: str | Path) -> subprocess.CompletedProcess[str]:
    """`python -m bot run` on `target`, with Discord at a closed port: had it tried to connect,
    it would say "can't reach Discord" instead."""
    where = f'path = "{target}"' if isinstance(target, Path) else f'url = "{target}"'
    (folder / "config.toml").write_text(
        f'[discord]\napi_base = "http://127.0.0.1:1"\n[database]\n{where}\n', encoding="utf-8"
    )
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"], cwd=folder, capture_output=True, text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "DISCORD_TOKEN": "x"}, timeout=60,
    )  # fmt: skip


async def _with_lease(target: str | Path, holder: str, count: int, shard: int) -> None:
    """A live lease of another process (on another machine, for the next hour)."""
    db = open_database(target)
    await db.connect()
    try:
        await db.migrate()
        real = FakeClock(datetime.now(UTC))
        other = ShardLeases(db, real, ProcessIdentity(holder, "elsewhere/pid:[1]", 1),
                            lease=timedelta(hours=1))  # fmt: skip
        await other.claim(scope(count, shard))
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("count", "expected"),
    [(1, "Shard 0 (of 1) is already run by another Hearth process (ivy:77:beef)"),
     (4, "Another Hearth process (ivy:77:beef) is running with shard_count 4")],
)  # fmt: skip
async def test_run_refuses_shards_another_process_runs_before_it_touches_discord(
    tmp_path: Path, count: int, expected: str
) -> None:
    target = new_target(tmp_path / "h.db")
    await _with_lease(target, "ivy:77:beef", count, 0)
    done = await asyncio.to_thread(_run, tmp_path, target)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if " WARNING " not in line]
    assert len(lines) == 1 and lines[0].startswith("hearth: " + expected), done.stderr
    assert "Traceback" not in done.stderr and "can't reach Discord" not in done.stderr


async def test_run_takes_free_shards_and_gives_them_back_when_it_stops(tmp_path: Path) -> None:
    """With Discord unreachable the run ends at once (exit 2): it claimed its shard first, and
    its stop released it, so the next process is not kept waiting."""
    target = new_target(tmp_path / "h.db")
    done = await asyncio.to_thread(_run, tmp_path, target)
    assert done.returncode == 2 and "can't reach Discord" in done.stderr, done.stderr
    assert "running all servers as" in done.stderr  # the claim, logged
    db = open_database(target)
    await db.connect()
    try:
        assert await holders(db) == []
    finally:
        await db.close()


def _lease(shard: int, holder: str, *, ready: bool = True, renewed_ago: int = 2) -> ShardLease:
    renewed = NOW - timedelta(seconds=renewed_ago)
    return ShardLease(
        shard_count=4,
        shard_id=shard,
        holder=holder,
        claimed_at=NOW - timedelta(minutes=5),
        ready_at=NOW - timedelta(minutes=4) if ready else None,
        expires_at=renewed + LEASE,
    )


def test_status_is_healthy_only_when_every_shard_is_run_ready_and_renewed() -> None:
    both = [_lease(0, "a:1:x"), _lease(1, "a:1:x"), _lease(2, "b:2:y"), _lease(3, "b:2:y")]
    healthy, lines = fleet_report(both, NOW)
    assert healthy
    assert lines == [
        "shards 0-1 of 4: ready since 2026-03-02 11:56:00 UTC; process a:1:x, lease 28 s left",
        "shards 2-3 of 4: ready since 2026-03-02 11:56:00 UTC; process b:2:y, lease 28 s left",
    ]

    starting = [*both[:2], _lease(2, "b:2:y", ready=False), _lease(3, "b:2:y", ready=False)]
    healthy, lines = fleet_report(starting, NOW)
    assert not healthy and lines[1].startswith("shards 2-3 of 4: starting (claimed 300 s ago)")

    killed = [*both[:2], _lease(2, "b:2:y", renewed_ago=20), _lease(3, "b:2:y", renewed_ago=20)]
    healthy, lines = fleet_report(killed, NOW)
    assert not healthy and "NOT renewing its lease (20 s since the last renewal)" in lines[1]

    healthy, lines = fleet_report(both[:3], NOW)
    assert not healthy and lines[-1] == "not running: shard 3 of 4"

    gone = [_lease(0, "a:1:x", renewed_ago=31)]
    assert fleet_report(gone, NOW) == (
        False,
        ["no Hearth process is running (no live shard lease)"],
    )
