"""The store under concurrency, on whichever engine the run uses: serialised units of work,
one winner for a guarded claim, one snapshot per read, refusals that roll back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.db import Database, IntegrityError, Tx
from bot.engines.sqlite import SqliteDatabase
from bot.errors import UserFacingError
from tests.stores import new_database, new_target, on_postgres, sqlite_database

SCHEMA = (
    "CREATE TABLE slot (id INTEGER PRIMARY KEY, claimed_by INTEGER);"
    "CREATE TABLE counter (n INTEGER NOT NULL);"
    "CREATE TABLE named (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
    "INSERT INTO counter VALUES (0);"
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = new_database(tmp_path / "hearth.db")
    await database.connect()
    await database.run_script(SCHEMA)
    yield database
    await database.close()


async def test_concurrent_units_are_serialised(db: Database) -> None:
    """100 read-modify-write units at once: none fails, none loses an update."""

    def bump(tx: Tx) -> None:
        n = tx.fetchval("SELECT n FROM counter")
        tx.execute("UPDATE counter SET n = ?", (n + 1,))

    await asyncio.gather(*(db.write(bump) for _ in range(100)))
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
    assert await db.fetchval("SELECT claimed_by FROM slot WHERE id = 1") == results.index(True)


async def test_check_then_write_has_exactly_one_winner(db: Database) -> None:
    """The shape of every Hearth rule: read, decide, write. Only one of 100 may pass."""
    await db.execute("INSERT INTO slot (id) VALUES (1)")

    def claim(user: int) -> Callable[[Tx], bool]:
        def run(tx: Tx) -> bool:
            if tx.fetchval("SELECT claimed_by FROM slot WHERE id = 1") is not None:
                raise UserFacingError("taken")
            tx.execute("UPDATE slot SET claimed_by = ? WHERE id = 1", (user,))
            return True

        return run

    results = await asyncio.gather(
        *(db.write(claim(user)) for user in range(100)), return_exceptions=True
    )
    assert results.count(True) == 1
    assert all(isinstance(r, UserFacingError) for r in results if r is not True)
    assert await db.fetchval("SELECT claimed_by FROM slot WHERE id = 1") == results.index(True)


async def test_check_then_insert_holds_across_separate_stores(tmp_path: Path) -> None:
    """Several stores on one database (each its own connections, as several processes have):
    a count-then-insert rule still lets exactly the allowed number through."""
    target = new_target(tmp_path / "shared.db")
    stores = [
        SqliteDatabase(target) if isinstance(target, Path) else new_database_at(target)
        for _ in range(4)
    ]
    for store in stores:
        await store.connect()
    await stores[0].run_script(SCHEMA)

    def take(user: int) -> Callable[[Tx], bool]:
        def run(tx: Tx) -> bool:
            if tx.fetchval("SELECT COUNT(*) FROM slot") >= 3:
                return False
            tx.execute("INSERT INTO slot (claimed_by) VALUES (?)", (user,))
            return True

        return run

    try:
        results = await asyncio.gather(*(stores[user % 4].write(take(user)) for user in range(60)))
        assert results.count(True) == 3
        assert await stores[1].fetchval("SELECT COUNT(*) FROM slot") == 3
    finally:
        for store in stores:
            await store.close()


def new_database_at(url: str) -> Database:
    from bot.db import open_database

    return open_database(url)


async def test_a_refusal_rolls_back_and_reaches_the_caller_unchanged(db: Database) -> None:
    refusal = UserFacingError("Sorry, no.")

    def refuse(tx: Tx) -> None:
        tx.execute("UPDATE counter SET n = 42")
        raise refusal

    with pytest.raises(UserFacingError) as caught:
        await db.write(refuse)
    assert caught.value is refusal
    assert await db.fetchval("SELECT n FROM counter") == 0
    assert await db.execute("UPDATE counter SET n = 1") == 1


async def test_a_constraint_is_the_same_error_on_every_engine(db: Database) -> None:
    first = await db.insert("INSERT INTO named (name) VALUES (?)", ("Carers",))
    with pytest.raises(IntegrityError):
        await db.insert("INSERT INTO named (name) VALUES (?)", ("Carers",))
    assert await db.fetchval("SELECT COUNT(*) FROM named") == 1
    # A refused insert may use up an id (PostgreSQL's sequences never roll back): only order holds.
    assert await db.insert("INSERT INTO named (name) VALUES (?)", ("Parents",)) > first
    assert await db.fetchval("SELECT COUNT(*) FROM named") == 2


async def test_reads_see_one_snapshot_and_never_write(db: Database, tmp_path: Path) -> None:
    """Both reads in a unit see the same data even if a write commits between them."""
    loop = asyncio.get_running_loop()

    def two_reads(tx: Tx) -> tuple[int, int]:
        first = tx.fetchval("SELECT n FROM counter")
        # Another unit commits meanwhile (from the store's write side).
        asyncio.run_coroutine_threadsafe(db.execute("UPDATE counter SET n = n + 5"), loop).result()
        return first, tx.fetchval("SELECT n FROM counter")

    if isinstance(db, SqliteDatabase) or on_postgres():
        # The write runs on another store thread while this read holds its snapshot.
        assert await db.read(two_reads) == (0, 0)
    assert await db.fetchval("SELECT n FROM counter") == 5
    with pytest.raises(Exception, match=r"(?i)read.?only|readonly|attempt to write"):
        await db.read(lambda tx: tx.execute("UPDATE counter SET n = 0"))
    assert await db.fetchval("SELECT n FROM counter") == 5


async def test_plain_values_come_back_as_python_ints(db: Database) -> None:
    """SUM is numeric on PostgreSQL: it must still read as an int, like SQLite's."""
    snowflake = 1_234_567_890_123_456_789
    await db.execute("INSERT INTO slot (id, claimed_by) VALUES (1, ?)", (snowflake,))
    assert await db.fetchval("SELECT SUM(claimed_by) FROM slot") == snowflake
    row = await db.fetchone(
        "SELECT id, claimed_by FROM slot WHERE claimed_by = :who", {"who": snowflake}
    )
    assert row is not None and (row["id"], row[1]) == (1, snowflake)
    assert await db.fetchval("SELECT COUNT(*) FROM slot WHERE ? = 1", (True,)) == 1


async def test_backup_is_a_consistent_copy(tmp_path: Path) -> None:
    db = sqlite_database(tmp_path / "hearth.db")
    await db.connect()
    await db.run_script(SCHEMA)
    await db.execute("UPDATE counter SET n = 7")
    target = tmp_path / "copy" / "backup.db"
    await db.backup(target)
    await db.close()
    copy = sqlite_database(target)
    await copy.connect()
    try:
        assert await copy.fetchval("SELECT n FROM counter") == 7
    finally:
        await copy.close()
