"""The SQLite store: connections, the one-writer rule, and the migration runner.

Two connections share one WAL database file. Every write goes through the writer connection under
an asyncio lock: concurrent tasks opening transactions on one shared connection otherwise fail
with "cannot start a transaction within a transaction", or worse, silently join each other's
transaction and get rolled back with it. Reads use the second connection, which under WAL sees
only committed data and never waits for the writer.

Times are stored as integer Unix seconds (UTC by definition), which index well and map directly
to Discord's `<t:…>` timestamps.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
BUSY_TIMEOUT_MS = 5000
# The largest row id anyone may type (a slot or check-in number). SQLite holds 2**63-1, but a
# Hearth database never gets near 2**31 rows of one kind, and a bound this size reads well where
# Discord shows it; anything larger is simply "no such slot", never an OverflowError.
ROW_ID_MAX = 2**31 - 1

Params = Sequence[Any] | dict[str, Any]
T = TypeVar("T")


class MigrationError(Exception):
    """The database cannot be brought to the code's schema; the message says why."""


def to_ts(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware one")
    return int(moment.timestamp())


def from_ts(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def is_row_id(value: int) -> bool:
    """Whether a typed number can name a row at all (ids start at 1 and fit `ROW_ID_MAX`)."""
    return 1 <= value <= ROW_ID_MAX


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def discover_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Read `NNNN_name.sql` files in order; gaps or duplicates are a packaging bug, so refuse."""
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = MIGRATION_NAME.match(path.name)
        if not match:
            raise MigrationError(f"{path.name}: migration files must be named NNNN_name.sql")
        migrations.append(Migration(int(match.group(1)), path.stem, path.read_text("utf-8")))
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migration {migration.name} should be number {expected:04d}: "
                "versions must run 0001, 0002, … without gaps"
            )
    return migrations


class Transaction:
    """Statements inside one `BEGIN IMMEDIATE` transaction on the writer connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write statement; returns the affected row count."""
        cursor = await self._conn.execute(sql, params)
        return cursor.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        cursor = await self._conn.execute(sql, params)
        if cursor.lastrowid is None:
            raise RuntimeError("INSERT produced no row id")
        return cursor.lastrowid

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        return next(iter(await self._conn.execute_fetchall(sql, params)), None)

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class Database:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def connect(self) -> None:
        if self.path.parent and not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = await self._open()
        await self._writer.execute_fetchall("PRAGMA journal_mode=WAL")
        self._reader = await self._open()

    async def _open(self) -> aiosqlite.Connection:
        # isolation_level=None: no implicit transactions; we issue BEGIN ourselves.
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        # Read every PRAGMA to the end: a half-read statement keeps a lock on the file.
        for pragma in (f"busy_timeout={BUSY_TIMEOUT_MS}", "foreign_keys=ON", "synchronous=NORMAL"):
            await conn.execute_fetchall(f"PRAGMA {pragma}")
        return conn

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    @property
    def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise RuntimeError("database is not connected")
        return self._writer

    @property
    def reader(self) -> aiosqlite.Connection:
        if self._reader is None:
            raise RuntimeError("database is not connected")
        return self._reader

    # --- reads (committed data only) -------------------------------------------------------
    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self.reader.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        return next(iter(await self.reader.execute_fetchall(sql, params)), None)

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def run_read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)`, several reads, in a single hop to the reader thread and on one snapshot.

        A read needing two statements (slots, then who claimed them) otherwise waits for the
        reader thread twice and may see a write land between them. `fn` runs on the reader
        connection's own thread: synchronous, no event loop, no writes.
        """

        def run() -> T:
            conn = self.reader._conn
            conn.execute("BEGIN")
            try:
                return fn(conn)
            finally:
                conn.execute("COMMIT")

        # Private aiosqlite API, as in `run_transaction` (pinned <0.23).
        result: T = await self.reader._execute(run)  # type: ignore[no-untyped-call]  # private, so untyped
        return result

    # --- writes ----------------------------------------------------------------------------
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one self-contained write statement atomically; returns the affected row count.

        A guarded single statement (`UPDATE … WHERE claimed_by IS NULL`) is how races are won
        exactly once: check the count, not a value read beforehand.
        """
        async with self._write_lock:
            cursor = await self.writer.execute(sql, params)
            return cursor.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run one INSERT and return the new row id."""
        async with self._write_lock:
            cursor = await self.writer.execute(sql, params)
            if cursor.lastrowid is None:
                raise RuntimeError("INSERT produced no row id")
            return cursor.lastrowid

    async def write_fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        """One write statement with RETURNING, atomically."""
        async with self._write_lock:
            return list(await self.writer.execute_fetchall(sql, params))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """`BEGIN IMMEDIATE` … COMMIT, serialised with every other write in this process.

        Never await Discord inside: the lock is held for the whole block.
        """
        async with self._write_lock:
            await self.writer.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self.writer)
            except BaseException:
                await self.writer.execute("ROLLBACK")
                raise
            await self.writer.execute("COMMIT")

    async def run_transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(conn)` as one `BEGIN IMMEDIATE` … COMMIT in a single hop to the writer thread.

        For the hottest writes: `transaction()` costs a thread hop per statement, this costs one
        for the whole transaction. `fn` is synchronous and runs on the writer connection's own
        thread, so it must not touch the event loop; it may raise (e.g. `UserFacingError`), which
        rolls back and propagates unchanged. Serialised with every other write by the same lock.
        """

        def run() -> T:
            conn = self.writer._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                if conn.in_transaction:  # some errors already rolled back
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        async with self._write_lock:
            # aiosqlite 0.22 (pinned <0.23) runs every call on one thread per connection;
            # `_execute` queues a function on that thread and `_conn` is the sqlite3 connection
            # it owns. Both are private (so untyped): re-check them when the pin moves.
            result: T = await self.writer._execute(run)  # type: ignore[no-untyped-call]  # see above
            return result

    # --- schema -----------------------------------------------------------------------------
    async def schema_version(self) -> int:
        return int(await self.fetchval("PRAGMA user_version"))

    async def migrate(self, migrations: list[Migration] | None = None) -> list[str]:
        """Apply pending migrations, each in its own transaction with its version number."""
        migrations = discover_migrations() if migrations is None else migrations
        latest = migrations[-1].version if migrations else 0
        applied: list[str] = []
        async with self._write_lock:
            rows = await self.writer.execute_fetchall("PRAGMA user_version")
            current = int(next(iter(rows))[0])
            if current > latest:
                raise MigrationError(
                    f"The database {self.path} is at schema version {current}, but this version "
                    f"of Hearth only knows up to {latest}. It was written by a newer Hearth: "
                    "upgrade Hearth, or restore a backup made with this version."
                )
            for migration in migrations:
                if migration.version <= current:
                    continue
                script = (
                    "BEGIN IMMEDIATE;\n"
                    f"{migration.sql}\n;"
                    f"PRAGMA user_version = {migration.version};\nCOMMIT;"
                )
                try:
                    await self.writer.executescript(script)
                except sqlite3.Error as exc:
                    if self.writer.in_transaction:
                        await self.writer.execute("ROLLBACK")
                    raise MigrationError(
                        f"Migration {migration.name} failed and was rolled back: {exc}"
                    ) from exc
                log.info("applied migration %s", migration.name)
                applied.append(migration.name)
        return applied

    async def backup(self, destination: Path) -> None:
        """A consistent copy via SQLite's online backup, safe while the bot keeps writing."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(destination) as target:
            await self.reader.backup(target)
