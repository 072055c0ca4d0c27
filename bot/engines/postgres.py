"""PostgreSQL behind the store API: psycopg 3 (synchronous) with a connection pool.

Why synchronous psycopg and not asyncpg: the store's unit of work is a plain function run in one
hop on a store thread, the same on both engines, and on PostgreSQL it must be re-runnable after
a serialisation conflict. asyncpg only offers async statements, so every unit would become a
coroutine with a hop per statement on SQLite (measured in `bench/store.py`, "unit of work").

Every write unit runs SERIALIZABLE and is retried, with jittered backoff, when PostgreSQL reports
a serialisation failure or a deadlock. That keeps every rule SQLite's single writer enforces
(the last place, the weekly cap, one claim per request) across connections and processes, with
no rule having to know about locks. Reads run REPEATABLE READ READ ONLY: one snapshot, no writes.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg
from psycopg import errors
from psycopg.adapt import Dumper
from psycopg.types.numeric import NumericLoader
from psycopg_pool import ConnectionPool

from bot.db import (
    INVALIDATION_CHANNEL,
    Database,
    ForeignKeyInfo,
    IntegrityError,
    Listener,
    Migration,
    MigrationError,
    Params,
    Row,
    StoreError,
    TableSchema,
    Tx,
    without_password,
)
from bot.engines.pg_dialect import postgres_script, postgres_statement

T = TypeVar("T")
VERSION_TABLE = "hearth_schema_version"
MAX_ATTEMPTS = 40
# Any fixed number: every process migrating the same database takes this one lock.
MIGRATION_LOCK = 0x4E4152_7448
RETRYABLE = (errors.SerializationFailure, errors.DeadlockDetected)


class PgRow(tuple[Any, ...]):
    """A tuple that also answers by column name, like `sqlite3.Row`."""

    _names: list[str]
    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: list[str], index: dict[str, int]) -> PgRow:
        row = super().__new__(cls, values)
        row._names, row._index = names, index
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self._index[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return self._names


def _row_factory(cursor: psycopg.Cursor[Any]) -> Callable[[Sequence[Any]], PgRow]:
    names = [column.name for column in cursor.description or ()]
    index = {name: i for i, name in enumerate(names)}
    return lambda values: PgRow(values, names, index)


class _Number(NumericLoader):
    """`SUM` and `AVG` come back as numeric: give Python the int or float SQLite would."""

    def load(self, data: Any) -> Any:
        value = super().load(data)
        return int(value) if value == value.to_integral_value() else float(value)


class _BoolAsInt(Dumper):
    """Flags are 0/1 integers in the schema (as on SQLite): send True/False as such."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class PgTx(Tx):
    __slots__ = ("_conn",)

    def __init__(self, conn: psycopg.Connection[PgRow]) -> None:
        self._conn = conn

    def _run(self, sql: str, params: Params) -> psycopg.Cursor[PgRow]:
        try:
            return self._conn.execute(postgres_statement(sql), params or None)
        except errors.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    def execute(self, sql: str, params: Params = ()) -> int:
        return self._run(sql, params).rowcount

    def insert(self, sql: str, params: Params = ()) -> int:
        row = self._run(sql + " RETURNING id", params).fetchone()
        if row is None:
            raise RuntimeError("INSERT produced no row id")
        return int(row[0])

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        try:
            with self._conn.cursor() as cursor:
                cursor.executemany(postgres_statement(sql), list(rows))
        except errors.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        rows: list[Row] = list(self._run(sql, params).fetchall())
        return rows

    def invalidate(self, topic: str, key: object) -> None:
        # Queued in the transaction, delivered to listeners at its commit only.
        self._conn.execute("SELECT pg_notify(%s, %s)", (INVALIDATION_CHANNEL, f"{topic}:{key}"))


# How often an idle listener proves its connection alive (a silently dropped network path
# otherwise goes unnoticed, and with it every change it should have heard).
LISTEN_PING_SECONDS = 15.0


class PgListener:
    """One autocommit connection of its own, LISTENing (never from the pool: it stays open)."""

    def __init__(self, conn: psycopg.AsyncConnection[Any]) -> None:
        self._conn = conn

    @property
    def backend_pid(self) -> int:
        return self._conn.info.backend_pid

    async def payloads(self) -> AsyncIterator[str]:
        while True:
            async for notify in self._conn.notifies(timeout=LISTEN_PING_SECONDS):
                yield notify.payload
            await asyncio.wait_for(self._conn.execute("SELECT 1"), LISTEN_PING_SECONDS)

    async def close(self) -> None:
        await self._conn.close()


class PostgresDatabase(Database):
    engine = "postgresql"

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        connect_timeout: float = 10.0,
        password: str | None = None,
    ) -> None:
        # One store thread per pooled connection; reads and writes share them.
        super().__init__(write_threads=pool_size)
        self.url = url
        self._password = password
        self._pool_size = pool_size
        self._timeout = connect_timeout
        self._pool: ConnectionPool[psycopg.Connection[PgRow]] | None = None

    def describe(self) -> str:
        return without_password(self.url)

    def _secret_free(self, text: str) -> str:
        for secret in (self._password, urlsplit(self.url).password):
            if secret:
                text = text.replace(secret, "***")
        return text

    def _connection_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"autocommit": True, "row_factory": _row_factory}
        if self._password is not None:
            options["password"] = self._password
        return options

    @staticmethod
    def _configure(conn: psycopg.Connection[Any]) -> None:
        conn.adapters.register_loader("numeric", _Number)
        conn.adapters.register_dumper(bool, _BoolAsInt)

    def _open(self) -> None:
        try:
            # One plain connection first: the pool would only report a timeout, while this
            # names the cause (no server, wrong password, no such database).
            probe = psycopg.connect(
                self.url, connect_timeout=max(1, int(self._timeout)), **self._connection_options()
            )
            probe.close()
        except (psycopg.Error, ValueError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(
                f"Hearth can't connect to PostgreSQL at {self.describe()}: "
                f"{self._secret_free(reason)}"
            ) from None
        self._pool = ConnectionPool(
            self.url,
            min_size=1,
            max_size=self._pool_size,
            kwargs=self._connection_options(),
            configure=self._configure,
            timeout=self._timeout,
            open=False,
        )
        self._pool.open(wait=True, timeout=self._timeout)

    def _shut(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _connection(self) -> ConnectionPool[psycopg.Connection[PgRow]]:
        if self._pool is None:
            raise RuntimeError("database is not connected")
        return self._pool

    def _read(self, fn: Callable[[Tx], T]) -> T:
        with self._connection().connection() as conn:
            conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                result = fn(PgTx(conn))
            finally:
                conn.execute("ROLLBACK")
            return result

    def _write(self, fn: Callable[[Tx], T], isolation: str = "SERIALIZABLE") -> T:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            with self._connection().connection() as conn:
                conn.execute(f"BEGIN ISOLATION LEVEL {isolation}")
                try:
                    result = fn(PgTx(conn))
                    conn.execute("COMMIT")
                    return result
                except RETRYABLE:
                    conn.execute("ROLLBACK")
                    if attempt == MAX_ATTEMPTS:
                        raise
                except BaseException:
                    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                        conn.execute("ROLLBACK")
                    raise
            # Jittered, growing pauses spread the retries of a 100-way race apart.
            time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.1)))
        raise AssertionError("unreachable")

    def _claim(self, sql: str, params: Params) -> list[Row]:
        return self._write(lambda tx: tx.fetchall(sql, params), isolation="READ COMMITTED")

    async def listen(self) -> Listener:
        options: dict[str, Any] = {
            "autocommit": True,
            "connect_timeout": max(1, int(self._timeout)),
            # The kernel notices a dead peer too, between the pings.
            "keepalives": 1,
            "keepalives_idle": 10,
            "keepalives_interval": 5,
            "keepalives_count": 3,
        }
        if self._password is not None:
            options["password"] = self._password
        conn = await psycopg.AsyncConnection.connect(self.url, **options)
        try:
            await conn.execute(f"LISTEN {INVALIDATION_CHANNEL}")
        except BaseException:
            await conn.close()
            raise
        return PgListener(conn)

    def _write_read_committed(self, sql: str, params: Params) -> list[Row]:
        return self._write(lambda tx: tx.fetchall(sql, params), isolation="READ COMMITTED")

    def _schema_version(self, tx: Tx) -> int:
        if tx.fetchval("SELECT to_regclass(?) IS NOT NULL", (VERSION_TABLE,)) is not True:
            return 0
        return int(tx.fetchval(f"SELECT COALESCE(MAX(version), 0) FROM {VERSION_TABLE}"))

    def _apply(self, migration: Migration) -> bool:
        with self._connection().connection() as conn:
            # Two processes starting at once: the second waits here, then finds it done. The
            # lock is taken before the transaction begins, not inside it: a transaction that
            # began before the first one committed can miss its new tables (the catalog cache
            # catches up only at a transaction's start) and would create them again.
            conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
            try:
                conn.execute("BEGIN")
                try:
                    applied = self._schema_version(PgTx(conn)) < migration.version
                    if applied:
                        conn.execute(postgres_script(migration.sql))
                        conn.execute(
                            f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version BIGINT NOT NULL)"
                        )
                        conn.execute(f"DELETE FROM {VERSION_TABLE}")
                        conn.execute(
                            f"INSERT INTO {VERSION_TABLE} (version) VALUES (%s)",
                            (migration.version,),
                        )
                    conn.execute("COMMIT")
                    return applied
                except psycopg.Error as exc:
                    conn.execute("ROLLBACK")
                    raise MigrationError(
                        f"Migration {migration.name} failed and was rolled back: {exc}"
                    ) from exc
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))

    def _script(self, script: str) -> None:
        with self._connection().connection() as conn:
            conn.execute("BEGIN")
            try:
                conn.execute(postgres_script(script))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _tables(self, tx: Tx) -> list[TableSchema]:
        names = [
            row[0]
            for row in tx.fetchall(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname <> ? "
                "ORDER BY c.relname",
                (VERSION_TABLE,),
            )
        ]
        tables = []
        for name in names:
            columns = tx.fetchall(
                "SELECT attname FROM pg_attribute WHERE attrelid = ?::regclass AND attnum > 0 "
                "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum",
                (name,),
            )
            primary = tx.fetchall(
                "SELECT a.attname FROM pg_index i "
                "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "WHERE i.indrelid = ?::regclass AND i.indisprimary ORDER BY k.ord",
                (name,),
            )
            links = tx.fetchall(
                "SELECT con.oid AS id, p.relname AS parent, a.attname AS col, pa.attname AS pcol "
                "FROM pg_constraint con JOIN pg_class p ON p.oid = con.confrelid "
                "CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY "
                "AS k(attnum, pattnum, ord) "
                "JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum "
                "JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = k.pattnum "
                "WHERE con.conrelid = ?::regclass AND con.contype = 'f' ORDER BY con.oid, k.ord",
                (name,),
            )
            indexes = tx.fetchall(
                "SELECT i.indexrelid AS id, a.attname FROM pg_index i "
                "CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "WHERE i.indrelid = ?::regclass AND i.indisunique AND i.indpred IS NULL "
                "ORDER BY i.indexrelid, k.ord",
                (name,),
            )
            unique: dict[int, list[str]] = {}
            for index in indexes:
                unique.setdefault(index["id"], []).append(index["attname"])
            grouped: dict[int, list[Row]] = {}
            for link in links:
                grouped.setdefault(link["id"], []).append(link)
            tables.append(
                TableSchema(
                    name=name,
                    columns=[row[0] for row in columns],
                    primary_key=[row[0] for row in primary],
                    unique=list(unique.values()),
                    foreign_keys=[
                        ForeignKeyInfo(
                            columns=[r["col"] for r in rows],
                            parent=rows[0]["parent"],
                            parent_columns=[r["pcol"] for r in rows],
                        )
                        for rows in grouped.values()
                    ],
                )
            )
        return tables
