"""The store: one API over SQLite (the embedded default) and PostgreSQL.

Every piece of SQL runs inside a *unit of work*: a plain synchronous function `fn(tx)` that
`read(fn)` or `write(fn)` runs on one of the store's own threads, in one transaction, in a
single hop from the event loop. A unit that needs five statements costs one thread hop, not
five, and the event loop never waits on the database. The one-statement helpers (`fetchall`,
`execute`, …) are that same unit with one statement in it.

Rules a unit of work must keep, because PostgreSQL may run it more than once:
- compute only from what it reads through `tx`, and return the outcome; change nothing outside;
- never touch the event loop or Discord (it runs on a worker thread);
- raise to refuse: `UserFacingError` rolls back and reaches the caller unchanged.

Engines keep the rules SQLite's single writer enforces: on SQLite every write unit runs on one
writer thread under `BEGIN IMMEDIATE`, so units are serialised; on PostgreSQL every write unit is
SERIALIZABLE and is retried when the server reports a serialisation conflict, so a
check-then-insert (the last place in a group) holds across any number of connections and
processes. Reads see one committed snapshot on both.

SQL is written once, in the portable subset both engines share (`?` placeholders or `:name`,
`ON CONFLICT … DO NOTHING`, `RETURNING`, `COALESCE`); the PostgreSQL engine rewrites
placeholders and `LIKE` (which is case-insensitive on SQLite) as it sends them.

Times are stored as integer Unix seconds (UTC by definition), which index well and map directly
to Discord's `<t:…>` timestamps.
"""

from __future__ import annotations

import asyncio
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# The largest row id anyone may type (a slot or check-in number). Both engines hold 2**63-1, but
# a Hearth database never gets near 2**31 rows of one kind, and a bound this size reads well where
# Discord shows it; anything larger is simply "no such slot", never an OverflowError.
ROW_ID_MAX = 2**31 - 1

Params = Sequence[Any] | dict[str, Any]
T = TypeVar("T")


class Row(Protocol):
    """A result row, by position or by column name, on either engine."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...

    def __iter__(self) -> Iterator[Any]: ...

    def __len__(self) -> int: ...


class StoreError(Exception):
    """The database cannot be used as configured; the message names the problem for a person."""


class MigrationError(StoreError):
    """The database cannot be brought to the code's schema; the message says why."""


class IntegrityError(Exception):
    """A constraint refused a write (a duplicate name, a missing parent) on either engine."""


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


SKIP_LOCKED = "FOR UPDATE SKIP LOCKED"
# Process bookkeeping whose rows move with Discord traffic (every request takes a slot), not with
# anyone's data: a test's snapshot of "what a command changed" leaves these out.
RUNTIME_TABLES = frozenset({"rate_budget"})


@dataclass(frozen=True)
class ForeignKeyInfo:
    columns: list[str]
    parent: str
    parent_columns: list[str]


@dataclass(frozen=True)
class TableSchema:
    """One table of the live schema, as both engines describe it."""

    name: str
    columns: list[str]
    primary_key: list[str]
    foreign_keys: list[ForeignKeyInfo] = field(default_factory=list)
    # Column sets a unique index or the primary key holds unique (whole-table indexes only).
    unique: list[list[str]] = field(default_factory=list)


class Tx(ABC):
    """The statements of one unit of work, inside its transaction."""

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the affected row count.

        A guarded single statement (`UPDATE … WHERE claimed_by IS NULL`) is how races are won
        exactly once: check the count, not a value read beforehand.
        """

    @abstractmethod
    def insert(self, sql: str, params: Params = ()) -> int:
        """Run one INSERT into a table keyed by `id`; returns the new id."""

    @abstractmethod
    def executemany(self, sql: str, rows: Iterable[Params]) -> None: ...

    @abstractmethod
    def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = self.fetchall(sql, params)
        return rows[0] if rows else None

    def fetchval(self, sql: str, params: Params = ()) -> Any:
        row = self.fetchone(sql, params)
        return None if row is None else row[0]

    def invalidate(self, topic: str, key: object) -> None:  # noqa: B027 - no-op on one process
        """Tell every other process, once this unit commits, that what it keeps in memory about
        `topic`/`key` (a server's settings) changed: `bot/invalidation.py` hears it on
        PostgreSQL. Rolled back with the unit, sent once however often the unit is retried.
        SQLite serves one process, so there it does nothing."""

    def one(self, sql: str, params: Params = ()) -> Row:
        """A statement that yields exactly one row, such as `INSERT … RETURNING *`."""
        row = self.fetchone(sql, params)
        if row is None:
            raise RuntimeError("the statement returned no row")
        return row


INVALIDATION_CHANNEL = "hearth_invalidate"  # payloads are "<topic>:<key>"


class Listener(Protocol):
    """A connection that hears other processes' `Tx.invalidate` (PostgreSQL's LISTEN)."""

    def payloads(self) -> AsyncIterator[str]:
        """Each `<topic>:<key>` as it arrives; raises when the connection is lost."""
        ...

    async def close(self) -> None: ...


class Database(ABC):
    """The one store API every service uses; `open_database` picks the engine."""

    engine: str

    def __init__(self, write_threads: int, read_threads: int | None = None) -> None:
        """`read_threads=None` lets reads share the write threads (one pool of connections)."""
        self._write_threads = write_threads
        self._read_threads = read_threads
        self._writes: ThreadPoolExecutor | None = None
        self._reads: ThreadPoolExecutor | None = None

    @abstractmethod
    def describe(self) -> str:
        """Where the data lives, fit to print: a path, or a URL without its password."""

    async def connect(self) -> None:
        self._writes = ThreadPoolExecutor(self._write_threads, f"hearth-{self.engine}-write")
        self._reads = (
            self._writes
            if self._read_threads is None
            else ThreadPoolExecutor(self._read_threads, f"hearth-{self.engine}-read")
        )
        try:
            await self._hop(self._open)
        except BaseException:
            self._stop_threads()
            raise

    async def close(self) -> None:
        if self._writes is None:
            return
        try:
            await self._hop(self._shut)
            if self._reads is not self._writes:
                await self._hop(self._shut_reads, reads=True)
        finally:
            self._stop_threads()

    def _stop_threads(self) -> None:
        for pool in {self._writes, self._reads}:
            if pool is not None:
                pool.shutdown(wait=True)
        self._writes = self._reads = None

    @property
    def connected(self) -> bool:
        """Whether `connect` ran and `close` did not (so a unit of work may be run)."""
        return self._writes is not None

    async def _hop(self, fn: Callable[[], T], *, reads: bool = False) -> T:
        pool = self._reads if reads else self._writes
        if pool is None:
            raise RuntimeError("database is not connected")
        return await asyncio.get_running_loop().run_in_executor(pool, fn)

    # --- engines ---------------------------------------------------------------------------
    @abstractmethod
    def _open(self) -> None:
        """Connect (on a store thread); raise `StoreError` naming what is wrong."""

    @abstractmethod
    def _shut(self) -> None:
        """Close what `_open` opened (on a write thread)."""

    def _shut_reads(self) -> None:  # noqa: B027 - optional hook: most engines have nothing here
        """Close what the read threads opened, on a read thread (engines with their own)."""

    @abstractmethod
    def _read(self, fn: Callable[[Tx], T]) -> T: ...

    @abstractmethod
    def _write(self, fn: Callable[[Tx], T]) -> T: ...

    @abstractmethod
    def _claim(self, sql: str, params: Params) -> list[Row]: ...

    @abstractmethod
    def _schema_version(self, tx: Tx) -> int: ...

    @abstractmethod
    def _apply(self, migration: Migration) -> bool:
        """Apply one migration and record its version, in one transaction; False when another
        process applied it meanwhile."""

    @abstractmethod
    def _tables(self, tx: Tx) -> list[TableSchema]: ...

    @abstractmethod
    def _script(self, script: str) -> None:
        """Run a script in the migrations' dialect, in one transaction."""

    # --- units of work ---------------------------------------------------------------------
    async def read(self, fn: Callable[[Tx], T]) -> T:
        """Run `fn(tx)`, reads only, on one committed snapshot, in one hop."""
        return await self._hop(lambda: self._read(fn), reads=True)

    async def write(self, fn: Callable[[Tx], T]) -> T:
        """Run `fn(tx)` as one transaction, serialised against every other write, in one hop.

        `fn` may raise (e.g. `UserFacingError`): the transaction rolls back and the exception
        propagates unchanged. On PostgreSQL `fn` may run again after a serialisation conflict.
        """
        return await self._hop(lambda: self._write(fn))

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await self.read(lambda tx: tx.fetchall(sql, params))

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        return await self.read(lambda tx: tx.fetchone(sql, params))

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        return await self.read(lambda tx: tx.fetchval(sql, params))

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One self-contained write statement, atomically; returns the affected row count."""
        return await self.write(lambda tx: tx.execute(sql, params))

    async def insert(self, sql: str, params: Params = ()) -> int:
        """One INSERT into a table keyed by `id`; returns the new id."""
        return await self.write(lambda tx: tx.insert(sql, params))

    async def write_fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """One write statement with RETURNING, atomically."""
        return await self.write(lambda tx: tx.fetchall(sql, params))

    async def claim(self, sql: str, params: Params = ()) -> list[Row]:
        """Take rows off a queue with one guarded statement; each row goes to one claimer.

        The statement is `WITH picked AS (SELECT id … LIMIT n FOR UPDATE SKIP LOCKED) UPDATE …
        WHERE id IN (SELECT id FROM picked) AND <the same guard> RETURNING …`: the CTE runs
        once (a plain `IN (SELECT … SKIP LOCKED)` may be re-scanned and skip the rows the same
        statement just updated, so LIMIT stops limiting). On PostgreSQL it runs at READ
        COMMITTED, so processes claiming at once take disjoint rows instead of failing on each
        other's snapshot and retrying. SQLite has one writer and no row locks, so there the
        clause is dropped.
        """
        if SKIP_LOCKED not in sql:
            raise ValueError(f"a claim must select its rows {SKIP_LOCKED}")
        return await self._hop(lambda: self._claim(sql, params))

    async def write_read_committed(self, sql: str, params: Params = ()) -> list[Row]:
        """One write statement with RETURNING on a row every process updates all the time (the
        shared rate budget), at READ COMMITTED on PostgreSQL: concurrent updates of the row
        queue on its lock and each sees the one before it, instead of failing SERIALIZABLE and
        retrying. The statement must be correct on its own (no read-then-write). On SQLite it
        is an ordinary write."""
        return await self._hop(lambda: self._write_read_committed(sql, params))

    def _write_read_committed(self, sql: str, params: Params) -> list[Row]:
        return self._write(lambda tx: tx.fetchall(sql, params))

    async def listen(self) -> Listener | None:
        """A dedicated connection hearing `Tx.invalidate` from every process, or None where
        there are no other processes to hear (SQLite)."""
        return None

    # --- schema -----------------------------------------------------------------------------
    async def schema_version(self) -> int:
        return await self.write(self._schema_version)

    async def tables(self) -> list[TableSchema]:
        """Every table of Hearth's schema (not the engine's own), by name."""
        return await self.read(self._tables)

    async def run_script(self, script: str) -> None:
        """Statements in the migrations' dialect (tables a test or a tool adds), atomically."""
        await self._hop(partial(self._script, script))

    async def pending(self, migrations: list[Migration] | None = None) -> list[Migration]:
        """The migrations this database still lacks, changing nothing; a schema newer than the
        code is refused, since this Hearth would misread its tables."""
        migrations = discover_migrations() if migrations is None else migrations
        latest = migrations[-1].version if migrations else 0
        current = await self.write(self._schema_version)
        if current > latest:
            raise MigrationError(
                f"The database {self.describe()} is at schema version {current}, but this "
                f"version of Hearth only knows up to {latest}. It was written by a newer Hearth: "
                "upgrade Hearth, or restore a backup made with this version."
            )
        return [migration for migration in migrations if migration.version > current]

    async def migrate(self, migrations: list[Migration] | None = None) -> list[str]:
        """Apply pending migrations in order, each in its own transaction with its version."""
        applied: list[str] = []
        for migration in await self.pending(migrations):
            if await self._hop(partial(self._apply, migration)):
                applied.append(migration.name)
        return applied


def without_password(url: str) -> str:
    """A database URL fit to print or log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}@{parts.hostname}" if parts.username else f"{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def open_database(
    target: str | Path,
    *,
    pool_size: int = 10,
    connect_timeout: float = 10.0,
    password: str | None = None,
) -> Database:
    """A store for a SQLite path or a `postgresql://` URL (not yet connected)."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        from bot.engines.postgres import PostgresDatabase

        return PostgresDatabase(
            text, pool_size=pool_size, connect_timeout=connect_timeout, password=password
        )
    from bot.engines.sqlite import SqliteDatabase

    return SqliteDatabase(Path(target))
