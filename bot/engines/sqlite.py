"""SQLite behind the store API: the standard library's sqlite3 on threads Hearth owns.

Two connections share one WAL database file, each used only by its own thread. Every write unit
runs on the writer thread under `BEGIN IMMEDIATE`, one at a time, which is what makes a guarded
check-then-insert safe here. Reads use the reader connection, which under WAL sees only
committed data and never waits for the writer; it is `query_only`, so a write slipped into a
read fails here as it would on PostgreSQL's read-only snapshot.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from bot.db import (
    SKIP_LOCKED,
    Database,
    ForeignKeyInfo,
    IntegrityError,
    Migration,
    MigrationError,
    Params,
    Row,
    StoreError,
    TableSchema,
    Tx,
)

BUSY_TIMEOUT_MS = 5000
T = TypeVar("T")


class SqliteTx(Tx):
    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Params = ()) -> int:
        try:
            return self._conn.execute(sql, params).rowcount
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    def insert(self, sql: str, params: Params = ()) -> int:
        try:
            row_id = self._conn.execute(sql, params).lastrowid
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc
        if row_id is None:
            raise RuntimeError("INSERT produced no row id")
        return row_id

    def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        try:
            self._conn.executemany(sql, rows)
        except sqlite3.IntegrityError as exc:
            raise IntegrityError(str(exc)) from exc

    def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        try:
            rows: list[Row] = self._conn.execute(sql, params).fetchall()
        except sqlite3.IntegrityError as exc:  # an INSERT … RETURNING
            raise IntegrityError(str(exc)) from exc
        return rows


class SqliteDatabase(Database):
    engine = "sqlite"

    def __init__(self, path: Path | str) -> None:
        # Thread 1 writes; thread 2 reads. Each connection is opened on, and used only by, its
        # own thread, so sqlite3's same-thread check stays on.
        super().__init__(write_threads=1, read_threads=1)
        self.path = Path(path)
        self._writer: sqlite3.Connection | None = None
        self._reader: sqlite3.Connection | None = None

    def describe(self) -> str:
        return str(self.path)

    def _connect_file(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; units issue BEGIN themselves.
        try:
            conn = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"Hearth can't open the SQLite database {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        for pragma in (f"busy_timeout={BUSY_TIMEOUT_MS}", "foreign_keys=ON", "synchronous=NORMAL"):
            conn.execute(f"PRAGMA {pragma}").fetchall()
        return conn

    def _open(self) -> None:
        if not self.path.parent.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = self._connect_file()
        self._writer.execute("PRAGMA journal_mode=WAL").fetchall()

    def _shut(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _shut_reads(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _reader_conn(self) -> sqlite3.Connection:
        """The reader, opened on first use so that it belongs to the read thread."""
        if self._reader is None:
            self._reader = self._connect_file()
            self._reader.execute("PRAGMA query_only=ON").fetchall()
        return self._reader

    def _writer_conn(self) -> sqlite3.Connection:
        if self._writer is None:
            raise RuntimeError("database is not connected")
        return self._writer

    def _read(self, fn: Callable[[Tx], T]) -> T:
        conn = self._reader_conn()
        conn.execute("BEGIN")
        try:
            return fn(SqliteTx(conn))
        finally:
            conn.execute("COMMIT")

    def _write(self, fn: Callable[[Tx], T]) -> T:
        conn = self._writer_conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(SqliteTx(conn))
        except BaseException:
            if conn.in_transaction:  # some errors already rolled back
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def _claim(self, sql: str, params: Params) -> list[Row]:
        return self._write(lambda tx: tx.fetchall(sql.replace(f" {SKIP_LOCKED}", ""), params))

    def _schema_version(self, tx: Tx) -> int:
        return int(tx.fetchval("PRAGMA user_version"))

    def _apply(self, migration: Migration) -> bool:
        try:
            self._script(f"{migration.sql}\n;PRAGMA user_version = {migration.version};")
            return True  # one process: nobody else applies it meanwhile
        except sqlite3.Error as exc:
            raise MigrationError(
                f"Migration {migration.name} failed and was rolled back: {exc}"
            ) from exc

    def _script(self, script: str) -> None:
        conn = self._writer_conn()
        try:
            conn.executescript(f"BEGIN IMMEDIATE;\n{sqlite_sql(script)}\n;COMMIT;")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _tables(self, tx: Tx) -> list[TableSchema]:
        names = [
            row["name"]
            for row in tx.fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
        ]
        tables = []
        for name in names:
            quoted = '"' + name.replace('"', '""') + '"'
            info = tx.fetchall(f"PRAGMA table_info({quoted})")
            grouped: dict[int, list[Row]] = {}
            for row in tx.fetchall(f"PRAGMA foreign_key_list({quoted})"):
                grouped.setdefault(row["id"], []).append(row)
            keys = []
            for rows in grouped.values():
                rows.sort(key=lambda r: r["seq"])
                keys.append(
                    ForeignKeyInfo(
                        columns=[r["from"] for r in rows],
                        parent=rows[0]["table"],
                        parent_columns=[r["to"] for r in rows if r["to"] is not None],
                    )
                )
            unique = []
            for index in tx.fetchall(f"PRAGMA index_list({quoted})"):
                if index["unique"] and not index["partial"]:
                    index_name = '"' + index["name"].replace('"', '""') + '"'
                    unique.append(
                        [r["name"] for r in tx.fetchall(f"PRAGMA index_info({index_name})")]
                    )
            tables.append(
                TableSchema(
                    name=name,
                    columns=[row["name"] for row in info],
                    unique=unique,
                    primary_key=[
                        row["name"] for row in sorted(info, key=lambda r: r["pk"]) if row["pk"]
                    ],
                    foreign_keys=keys,
                )
            )
        return tables

    async def backup(self, destination: Path) -> None:
        """A consistent copy via SQLite's online backup, safe while the bot keeps writing."""

        def copy() -> None:
            destination.parent.mkdir(parents=True, exist_ok=True)
            target = sqlite3.connect(destination)
            try:
                self._reader_conn().backup(target)
            finally:
                target.close()

        await self._hop(copy, reads=True)


_ONLY = re.compile(r"^-- (sqlite|postgresql) only\n(.*?)^-- end\n", re.S | re.M)


def sqlite_sql(script: str) -> str:
    """A migration as SQLite runs it: blocks marked for PostgreSQL only are left out."""
    return _ONLY.sub(lambda m: m.group(2) if m.group(1) == "sqlite" else "", script)
