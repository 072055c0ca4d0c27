"""The store under concurrency: serialised transactions, one winner for a guarded claim."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from bot.db import Database
from bot.errors import UserFacingError


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "hearth.db")
    await database.connect()
    await database.execute("CREATE TABLE slot (id INTEGER PRIMARY KEY, claimed_by INTEGER)")
    await database.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
    await database.execute("INSERT INTO counter VALUES (0)")
    yield database
    await database.close()


async def test_concurrent_transactions_are_serialised(db: Database) -> None:
    """100 read-modify-write transactions at once: none fails, none loses an update."""

    async def bump() -> None:
        async with db.transaction() as tx:
            n = await tx.fetchval("SELECT n FROM counter")
            await asyncio.sleep(0)  # give every other task the chance to interleave
            await tx.execute("UPDATE counter SET n = ?", (n + 1,))

    await asyncio.gather(*(bump() for _ in range(100)))
    assert await db.fetchval("SELECT n FROM counter") == 100


async def test_guarded_claim_has_exactly_one_winner(db: Database) -> None:
    await db.execute("INSERT INTO slot (id) VALUES (1)")

    async def claim(user: int) -> bool:
        changed = await db.execute(
            "UPDATE slot SET claimed_by = ? WHERE id = 1 AND claimed_by IS NULL", (user,)
        )
        return changed == 1

    results = await asyncio.gather(*(claim(user) for user in range(100)))
    assert results.count(True) == 1
    winner = results.index(True)
    assert await db.fetchval("SELECT claimed_by FROM slot WHERE id = 1") == winner


async def test_failed_transaction_rolls_back_and_releases_the_writer(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("UPDATE counter SET n = 42")
            raise RuntimeError("boom")
    assert await db.fetchval("SELECT n FROM counter") == 0
    assert await db.execute("UPDATE counter SET n = 1") == 1


async def test_plain_writes_never_join_an_open_transaction(db: Database) -> None:
    """A write issued while another task's transaction is open must not be rolled back with it."""
    entered = asyncio.Event()

    async def failing_transaction() -> None:
        async with db.transaction() as tx:
            await tx.execute("UPDATE counter SET n = 99")
            entered.set()
            await asyncio.sleep(0)
            raise RuntimeError("abort")

    task = asyncio.create_task(failing_transaction())
    await entered.wait()
    await db.execute("INSERT INTO slot (id, claimed_by) VALUES (7, 1)")
    with pytest.raises(RuntimeError):
        await task
    assert await db.fetchval("SELECT claimed_by FROM slot WHERE id = 7") == 1
    assert await db.fetchval("SELECT n FROM counter") == 0


async def test_reads_see_only_committed_data(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("UPDATE counter SET n = 5")
        assert await db.fetchval("SELECT n FROM counter") == 0
    assert await db.fetchval("SELECT n FROM counter") == 5


async def test_backup_is_a_consistent_copy(db: Database, tmp_path: Path) -> None:
    await db.execute("UPDATE counter SET n = 7")
    target = tmp_path / "copy" / "backup.db"
    await db.backup(target)
    copy = Database(target)
    await copy.connect()
    try:
        assert await copy.fetchval("SELECT n FROM counter") == 7
    finally:
        await copy.close()


async def test_run_transaction_commits_in_one_call(db: Database) -> None:
    def bump(conn: sqlite3.Connection) -> int:
        n: int = conn.execute("SELECT n FROM counter").fetchone()[0]
        conn.execute("UPDATE counter SET n = ?", (n + 1,))
        return n + 1

    assert await db.run_transaction(bump) == 1
    assert await db.fetchval("SELECT n FROM counter") == 1


async def test_run_transaction_rolls_back_and_reraises(db: Database) -> None:
    refusal = UserFacingError("Sorry, no.")

    def refuse(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE counter SET n = 42")
        raise refusal

    with pytest.raises(UserFacingError) as caught:
        await db.run_transaction(refuse)
    assert caught.value is refusal
    assert await db.fetchval("SELECT n FROM counter") == 0
    assert not db.writer.in_transaction
    assert await db.execute("UPDATE counter SET n = 1") == 1


async def test_run_read_sees_one_snapshot_and_always_ends_it(db: Database) -> None:
    """Both reads in a `run_read` see the same data, even if a write commits between them; a
    failure inside still ends the read, so the next reads see new data."""

    def two_reads(conn: sqlite3.Connection) -> tuple[int, int]:
        first = conn.execute("SELECT n FROM counter").fetchone()[0]
        writer = sqlite3.connect(db.path, isolation_level=None)  # another connection commits
        writer.execute("UPDATE counter SET n = n + 5")
        writer.close()
        return first, conn.execute("SELECT n FROM counter").fetchone()[0]

    assert await db.run_read(two_reads) == (0, 0)
    assert await db.fetchval("SELECT n FROM counter") == 5

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("SELECT n FROM counter").fetchone()
        raise UserFacingError("stop")

    with pytest.raises(UserFacingError):
        await db.run_read(broken)
    assert not db.reader.in_transaction
    await db.execute("UPDATE counter SET n = 9")
    assert await db.fetchval("SELECT n FROM counter") == 9


async def test_run_transaction_is_serialised_with_other_writes(db: Database) -> None:
    """100 one-hop read-modify-writes mixed with 100 `transaction()` ones: no lost update."""

    def bump_sync(conn: sqlite3.Connection) -> None:
        n = conn.execute("SELECT n FROM counter").fetchone()[0]
        conn.execute("UPDATE counter SET n = ?", (n + 1,))

    async def bump_async() -> None:
        async with db.transaction() as tx:
            n = await tx.fetchval("SELECT n FROM counter")
            await asyncio.sleep(0)
            await tx.execute("UPDATE counter SET n = ?", (n + 1,))

    jobs: list[Coroutine[Any, Any, object]] = [db.run_transaction(bump_sync) for _ in range(100)]
    jobs += [bump_async() for _ in range(100)]
    jobs += [db.execute("INSERT INTO slot (claimed_by) VALUES (?)", (i,)) for i in range(50)]
    await asyncio.gather(*jobs)
    assert await db.fetchval("SELECT n FROM counter") == 200
    assert await db.fetchval("SELECT COUNT(*) FROM slot") == 50


async def test_run_transaction_guarded_claim_has_exactly_one_winner(db: Database) -> None:
    await db.execute("INSERT INTO slot (id) VALUES (1)")

    def claim(user: int) -> Callable[[sqlite3.Connection], bool]:
        def run(conn: sqlite3.Connection) -> bool:
            if conn.execute("SELECT claimed_by FROM slot WHERE id = 1").fetchone()[0] is not None:
                raise UserFacingError("taken")
            conn.execute("UPDATE slot SET claimed_by = ? WHERE id = 1", (user,))
            return True

        return run

    results = await asyncio.gather(
        *(db.run_transaction(claim(user)) for user in range(100)), return_exceptions=True
    )
    assert results.count(True) == 1
    assert all(isinstance(r, UserFacingError) for r in results if r is not True)
    assert await db.fetchval("SELECT claimed_by FROM slot WHERE id = 1") == results.index(True)
