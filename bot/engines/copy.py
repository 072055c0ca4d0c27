"""`python -m bot copy-database --to TARGET`: one Hearth database into another, either engine.

For moving a server from SQLite to PostgreSQL (or back). The rules:
- the source must be at this Hearth's schema version (migrate it first), and is only read;
- the target must hold no Hearth rows; it is migrated to the same version first;
- tables go parents first, in batches in primary-key order, so memory stays flat however big
  the database; columns are named (generated ones are derived again by the target);
- afterwards PostgreSQL's identity sequences are moved past the copied ids, so the next row a
  feature inserts gets a fresh one, and every table's row count is compared;
- if anything fails, every copied row is deleted again (children first), so the target holds
  no rows, as before; a schema the copy migrated stays, and a new try accepts it as empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.db import Database, StoreError, TableSchema, Tx, discover_migrations

BATCH = 1000


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def parents_first(tables: list[TableSchema]) -> list[TableSchema]:
    by_name = {table.name: table for table in tables}
    ordered: list[TableSchema] = []
    seen: set[str] = set()

    def visit(table: TableSchema) -> None:
        if table.name in seen:
            return
        seen.add(table.name)
        for key in table.foreign_keys:
            parent = by_name.get(key.parent)
            if parent is not None and parent.name != table.name:
                visit(parent)
        ordered.append(table)

    for table in sorted(tables, key=lambda t: t.name):
        visit(table)
    return ordered


@dataclass(frozen=True)
class CopyReport:
    version: int
    rows: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())


async def _row_counts(db: Database, tables: list[TableSchema]) -> dict[str, int]:
    def count(tx: Tx) -> dict[str, int]:
        return {t.name: int(tx.fetchval(f"SELECT COUNT(*) FROM {_quote(t.name)}")) for t in tables}

    return await db.read(count)


async def copy_database(
    source: Database,
    target: Database,
    *,
    batch_size: int = BATCH,
    progress: Callable[[str, int], None] | None = None,
) -> CopyReport:
    """Copy every row of `source` into the empty `target` (both connected); see the module."""
    latest = discover_migrations()[-1].version
    version = await source.schema_version()
    if version != latest:
        raise StoreError(
            f"the source database is at schema version {version}, this Hearth's is {latest}: "
            "run `python -m bot migrate` on it first"
        )
    if await target.schema_version() > latest:
        raise StoreError("the target database was written by a newer Hearth; nothing was copied")
    tables = parents_first(await source.tables())
    await target.migrate()
    target_tables = {t.name: t for t in await target.tables()}
    missing = [t.name for t in tables if t.name not in target_tables]
    if missing:
        raise StoreError(f"the target has no table {missing[0]}; nothing was copied")
    before = await _row_counts(target, [target_tables[t.name] for t in tables])
    holding = sorted(name for name, n in before.items() if n)
    if holding:
        raise StoreError(
            f"the target already holds data ({', '.join(holding[:3])}…); copy into an empty "
            "database. Nothing was changed."
        )
    try:
        copied = {table.name: await _copy_table(source, target, table, batch_size, progress)
                  for table in tables}  # fmt: skip
        if target.engine == "postgresql":
            await target.write(lambda tx: _move_sequences(tx, tables))
        after = await _row_counts(target, tables)
    except BaseException:
        await target.write(lambda tx: _empty(tx, tables))
        raise
    wrong = [name for name, n in copied.items() if after[name] != n]
    if wrong:
        await target.write(lambda tx: _empty(tx, tables))
        raise StoreError(f"row counts differ after the copy ({wrong[0]}); the target was emptied")
    return CopyReport(version=version, rows=copied)


async def _copy_table(
    source: Database,
    target: Database,
    table: TableSchema,
    batch_size: int,
    progress: Callable[[str, int], None] | None,
) -> int:
    columns = ", ".join(_quote(c) for c in table.columns)
    order = ", ".join(_quote(c) for c in table.primary_key or table.columns)
    select = f"SELECT {columns} FROM {_quote(table.name)} ORDER BY {order} LIMIT ? OFFSET ?"
    marks = ", ".join("?" for _ in table.columns)
    insert = f"INSERT INTO {_quote(table.name)} ({columns}) VALUES ({marks})"
    done = 0
    while True:
        rows = [tuple(row) for row in await source.fetchall(select, (batch_size, done))]
        if not rows:
            return done
        await target.write(_inserting(insert, rows))
        done += len(rows)
        if progress is not None:
            progress(table.name, done)


def _inserting(insert: str, rows: list[tuple[object, ...]]) -> Callable[[Tx], None]:
    def run(tx: Tx) -> None:
        tx.executemany(insert, rows)

    return run


def _move_sequences(tx: Tx, tables: list[TableSchema]) -> None:
    for table in tables:
        if table.primary_key != ["id"]:
            continue
        sequence = tx.fetchval("SELECT pg_get_serial_sequence(?, 'id')", (table.name,))
        if sequence is not None:
            tx.fetchval(
                f"SELECT setval(?, COALESCE((SELECT MAX(id) FROM {_quote(table.name)}), 0) + 1, "
                "false)",
                (sequence,),
            )


def _empty(tx: Tx, tables: list[TableSchema]) -> None:
    for table in reversed(tables):
        tx.execute(f"DELETE FROM {_quote(table.name)}")
