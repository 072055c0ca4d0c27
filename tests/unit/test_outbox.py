"""The outbox store: exactly-once claims, leases that run out, release, backoff, expiry and the
timer → outbox conversion in one transaction, on the injectable clock."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import FakeClock
from bot.db import Database, Tx
from bot.services.audit import AuditService, PostTo
from bot.services.outbox import (
    BACKOFF_MAX,
    LEASE,
    RETENTION,
    OutboxService,
    OutboxSpec,
    backoff,
    nonce,
)
from bot.services.timers import Timer, TimerService

GUILD = 7


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))


def spec(now: datetime, user_id: int = 1, **changes: object) -> OutboxSpec:
    values: dict[str, object] = {"guild_id": GUILD, "kind": "dm", "due_at": now, "user_id": user_id}
    values.update(changes)
    return OutboxSpec(**values)  # type: ignore[arg-type]  # fields given by name, any of them


def test_nonce_is_stable_short_and_distinct() -> None:
    assert nonce(1) == "hob1" and nonce(36) == "hob10"
    assert nonce(2**63 - 1) == "hob1y2p0ij32e8e7"  # the largest id, in base 36
    assert len(nonce(2**63 - 1)) <= 25
    assert len({nonce(i) for i in range(5000)}) == 5000


def test_backoff_grows_and_is_bounded() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [10, 20, 40]
    assert backoff(30) == BACKOFF_MAX


async def test_two_claimers_never_take_the_same_row(db: Database, clock: FakeClock) -> None:
    outbox = OutboxService(db)
    await outbox.enqueue([spec(clock.now(), user_id=i) for i in range(1000)], clock.now())

    async def drain(owner: str) -> list[int]:
        taken: list[int] = []
        while batch := await outbox.claim(owner, clock.now(), limit=7):
            taken += [item.id for item in batch]
            await asyncio.sleep(0)
        return taken

    first, second = await asyncio.gather(drain("a"), drain("b"))
    assert not set(first) & set(second)
    assert len(first) + len(second) == 1000
    assert first and second  # both really ran
    owners = await db.fetchall("SELECT lease_owner, COUNT(*) AS n FROM outbox GROUP BY 1")
    assert {row["lease_owner"]: row["n"] for row in owners} == {"a": len(first), "b": len(second)}


async def test_a_claim_takes_at_most_its_limit_while_others_claim(
    db: Database, clock: FakeClock
) -> None:
    """Eight senders at once, ten each: no claim takes more than its share (on PostgreSQL a
    skip-locked subquery re-scanned inside the UPDATE once took all 100), none takes a row
    twice, and together they take the oldest 80."""
    outbox = OutboxService(db)
    ids = await outbox.enqueue([spec(clock.now(), user_id=i) for i in range(100)], clock.now())
    batches = await asyncio.gather(
        *(outbox.claim(f"s{n}", clock.now(), limit=10) for n in range(8))
    )
    assert [len(batch) for batch in batches] == [10] * 8
    taken = sorted(item.id for batch in batches for item in batch)
    assert taken == sorted(ids)[:80]
    assert await db.fetchval("SELECT COUNT(*) FROM outbox WHERE lease_owner IS NULL") == 20


async def test_a_lease_blocks_others_until_it_runs_out(db: Database, clock: FakeClock) -> None:
    outbox = OutboxService(db)
    [item_id] = await outbox.enqueue([spec(clock.now())], clock.now())
    [mine] = await outbox.claim("dead-process", clock.now())
    assert mine.id == item_id and mine.attempts == 1
    assert await outbox.next_due() == clock.now() + LEASE  # wake when the lease ends
    clock.advance(LEASE - timedelta(seconds=1))
    assert await outbox.claim("other", clock.now()) == []
    clock.advance(timedelta(seconds=1))
    [again] = await outbox.claim("other", clock.now())
    assert again.id == item_id and again.attempts == 2 and again.nonce == mine.nonce


async def test_born_leased_rows_are_not_claimable(db: Database, clock: FakeClock) -> None:
    outbox = OutboxService(db, lease=timedelta(seconds=30))
    await outbox.enqueue([spec(clock.now())], clock.now(), lease_owner="sender")
    assert await outbox.claim("other", clock.now()) == []
    clock.advance(timedelta(seconds=30))
    assert len(await outbox.claim("other", clock.now())) == 1


async def test_release_gives_unsent_leases_back_at_once(db: Database, clock: FakeClock) -> None:
    outbox = OutboxService(db)
    await outbox.enqueue([spec(clock.now(), user_id=i) for i in range(3)], clock.now())
    claimed = await outbox.claim("stopping", clock.now())
    await outbox.mark_sent(claimed[0].id, 555, clock.now())
    assert await outbox.release("stopping", clock.now()) == 2
    back = await outbox.claim("next", clock.now())
    assert sorted(item.id for item in back) == sorted(item.id for item in claimed[1:])
    assert {item.attempts for item in back} == {1}  # the stop did not count as a try
    sent = await db.fetchone("SELECT * FROM outbox WHERE id = ?", (claimed[0].id,))
    assert sent is not None
    assert (sent["status"], sent["message_id"], sent["payload"]) == ("sent", 555, "{}")


async def test_retry_later_waits_for_its_time(db: Database, clock: FakeClock) -> None:
    outbox = OutboxService(db)
    await outbox.enqueue([spec(clock.now())], clock.now())
    [item] = await outbox.claim("me", clock.now())
    await outbox.retry_later(item.id, "me", clock.now() + backoff(item.attempts), "503/0")
    assert await outbox.claim("me", clock.now()) == []
    clock.advance(backoff(1))
    [again] = await outbox.claim("me", clock.now())
    assert again.attempts == 2


async def test_finished_rows_lose_their_text_and_go_after_retention(
    db: Database, clock: FakeClock
) -> None:
    outbox = OutboxService(db)
    ids = await outbox.enqueue(
        [spec(clock.now(), payload={"content": "private words"}) for _ in range(3)], clock.now()
    )
    await outbox.mark_sent(ids[0], 1, clock.now())
    await outbox.fail(ids[1], "refused 403/50007", clock.now())
    await outbox.drop(ids[2], "expired", clock.now())
    assert await db.fetchval("SELECT COUNT(*) FROM outbox WHERE payload LIKE '%private%'") == 0
    assert await outbox.counts(GUILD) == {"sent": 1, "failed": 1, "dropped": 1}
    assert await outbox.claim("me", clock.now()) == []  # finished rows are never claimed
    assert await outbox.purge_finished(clock.now() - RETENTION) == 0
    clock.advance(RETENTION + timedelta(seconds=1))
    assert await outbox.purge_finished(clock.now() - RETENTION) == 3


async def test_expiry_is_part_of_the_item(db: Database, clock: FakeClock) -> None:
    outbox = OutboxService(db)
    await outbox.enqueue(
        [spec(clock.now(), expires_at=clock.now() + timedelta(minutes=5))], clock.now()
    )
    [item] = await outbox.claim("me", clock.now())
    assert not item.expired(clock.now())
    assert item.expired(clock.now() + timedelta(minutes=5))


async def test_a_converted_timer_and_its_outbox_row_commit_together(
    db: Database, clock: FakeClock
) -> None:
    timers, outbox = TimerService(db), OutboxService(db)
    await timers.schedule(GUILD, "remind", "a", clock.now(), {"n": 1})
    await timers.schedule(GUILD, "remind", "b", clock.now(), {"n": 2})

    def convert(tx: Tx, timer: Timer, now: datetime) -> list[OutboxSpec]:
        if timer.ref == "b":
            return []  # no longer wanted: consumed, nothing to send
        return [spec(now, payload={"n": timer.payload["n"]})]

    taken = await timers.claim_due(clock.now(), [], {"remind": convert})
    assert sorted(timer.ref for timer in taken) == ["a", "b"]
    assert await timers.pending() == []
    [item] = await outbox.claim("me", clock.now())
    assert item.payload == {"n": 1}

    await timers.schedule(GUILD, "remind", "c", clock.now())

    def broken(tx: Tx, timer: Timer, now: datetime) -> list[OutboxSpec]:
        raise RuntimeError("the database thread failed mid-claim")

    with pytest.raises(RuntimeError):
        await timers.claim_due(clock.now(), [], {"remind": broken})
    assert [timer.ref for timer in await timers.pending()] == ["c"]  # rolled back: not lost


async def test_an_audit_entry_and_its_log_post_are_one_write(
    db: Database, clock: FakeClock
) -> None:
    audit, outbox = AuditService(db, clock), OutboxService(db)
    entry = await audit.record(
        GUILD, 5, "settings.update", "max_shifts_per_week", post=PostTo(99, "me", LEASE)
    )
    assert entry.post_id is not None
    row = await db.fetchone("SELECT * FROM outbox WHERE id = ?", (entry.post_id,))
    assert row is not None
    assert (row["kind"], row["channel_id"], row["lease_owner"]) == ("audit.log", 99, "me")
    assert json.loads(row["payload"])["content"].endswith(
        "<@5> **settings.update** — max_shifts_per_week"
    )
    assert await outbox.claim("other", clock.now()) == []  # born leased to its sender
    quiet = await audit.record(GUILD, 5, "no log channel")
    assert quiet.post_id is None
    assert await db.fetchval("SELECT COUNT(*) FROM outbox") == 1
