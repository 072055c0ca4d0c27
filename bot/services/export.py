"""What `/admin export` may take out of the store, table by table, and building the archive.

Tables are discovered from the live schema at run time, so a table another feature adds later is
covered without this module knowing it. Each table's policy is declared by the feature that owns
it, beside its SQL (`TABLES` in its service module; see `bot/services/data.py`), because an
export leaves the server: a coordinator may download it, and members' private words must never
be in it. A unit test fails until every table has one; a table without one is withheld.

- "rows": operational data, exported as is (groups, memberships, rotas, slots, claims, settings).
- "counts": only aggregate counts, grouped by the declaration's `count_by` or else by the
  table's foreign keys (e.g. guideline acceptances per version), so no member can be picked out.
- "never": private member data (check-in answers and notes, personal schedules, held DMs,
  support requests' members) and internal bookkeeping. Only the table name is listed.

A declaration's `rows_where` narrows a table that mixes both kinds of rows (group check-in
schedules are operational, personal ones are private).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import zipfile
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from bot.db import Database
from bot.services.base import Service
from bot.services.data import Policy, TableData, declared

# Audit actions: "feature.what_happened", lowercase, past tense (stored in audit_log).
AUDIT_EXPORT_CREATED = "export.created"

log = logging.getLogger(__name__)

GUILD_COLUMN = "guild_id"
MAX_SCOPE_DEPTH = 6
JSON_NAME = "hearth-export.json"
# Discord ids do not fit a JavaScript number; write them as strings, as Discord itself does.
JS_SAFE_INTEGER = 2**53


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class ForeignKey(BaseModel):
    columns: list[str]
    parent: str
    parent_columns: list[str]


class TableInfo(BaseModel):
    name: str
    columns: list[str]
    primary_key: list[str]
    foreign_keys: list[ForeignKey]

    @property
    def has_guild_id(self) -> bool:
        return GUILD_COLUMN in self.columns


async def discover_tables(db: Database) -> dict[str, TableInfo]:
    """Every table in the live schema with its columns, primary key and foreign keys."""
    tables = {
        table.name: TableInfo(
            name=table.name,
            columns=list(table.columns),
            primary_key=list(table.primary_key),
            foreign_keys=[
                ForeignKey(
                    columns=list(key.columns),
                    parent=key.parent,
                    parent_columns=list(key.parent_columns),
                )
                for key in table.foreign_keys
            ],
        )
        for table in await db.tables()
    }
    for table in tables.values():  # `REFERENCES parent` without columns means its primary key
        for key in table.foreign_keys:
            parent = tables.get(key.parent)
            if not key.parent_columns and parent is not None:
                key.parent_columns = list(parent.primary_key)
    return tables


def guild_scope(tables: dict[str, TableInfo], name: str, depth: int = 0) -> str | None:
    """An SQL condition selecting one server's rows of a table (parameter `:guild_id`).

    A table with a `guild_id` column is filtered on it; a table without one belongs to the server
    through a foreign key to a row that does (recursively). None: the table is not per server.
    """
    table = tables[name]
    if table.has_guild_id:
        return f"{quote(name)}.{GUILD_COLUMN} = :guild_id"
    if depth >= MAX_SCOPE_DEPTH:
        return None
    for key in table.foreign_keys:
        if key.parent not in tables or key.parent == name:
            continue
        if len(key.parent_columns) != len(key.columns):
            continue
        parent_scope = guild_scope(tables, key.parent, depth + 1)
        if parent_scope is None:
            continue
        mine = ", ".join(f"{quote(name)}.{quote(c)}" for c in key.columns)
        theirs = ", ".join(f"{quote(key.parent)}.{quote(c)}" for c in key.parent_columns)
        return (
            f"({mine}) IN (SELECT {theirs} FROM {quote(key.parent)} WHERE {parent_scope})"
            if len(key.columns) > 1
            else f"{mine} IN (SELECT {theirs} FROM {quote(key.parent)} WHERE {parent_scope})"
        )
    return None


def children_first(tables: dict[str, TableInfo], names: list[str]) -> list[str]:
    """Order tables so every table comes before the tables it references (safe for deletes)."""
    wanted = set(names)
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in ordered or name in visiting:
            return
        visiting.add(name)
        for other in sorted(wanted):
            if other != name and any(k.parent == name for k in tables[other].foreign_keys):
                visit(other)
        visiting.discard(name)
        ordered.append(name)

    for name in sorted(wanted):
        visit(name)
    return ordered


class TableExport(BaseModel):
    name: str
    policy: Policy
    columns: list[str]
    rows: list[list[Any]]


class ExportArchive(BaseModel):
    guild_id: int
    created_at: datetime
    tables: list[TableExport]
    withheld: list[str]
    data: bytes

    @property
    def row_count(self) -> int:
        return sum(len(table.rows) for table in self.tables if table.policy == "rows")


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= JS_SAFE_INTEGER:
        return str(value)
    return value


def count_columns(table: TableInfo, declaration: TableData | None = None) -> list[str]:
    """What a "counts" table is grouped by: the declared `count_by`, else its foreign keys."""
    if declaration is not None and declaration.count_by:
        return list(declaration.count_by)
    columns = [c for key in table.foreign_keys for c in key.columns if c != GUILD_COLUMN]
    return list(dict.fromkeys(columns))


class ExportService(Service):
    async def build(self, guild_id: int) -> ExportArchive:
        """One server's operational data as a zip: a JSON document and one CSV per table."""
        tables = await discover_tables(self._db)
        declarations = declared().tables
        exported: list[TableExport] = []
        withheld: list[str] = []
        params = {"guild_id": guild_id}
        for name, table in tables.items():
            scope = guild_scope(tables, name)
            if scope is None:
                continue  # not per server: nothing of this server's is in it
            declaration = declarations.get(name)
            if declaration is None:
                log.warning("table %s has no export policy; it was left out of an export", name)
                withheld.append(name)
                continue
            policy = declaration.export
            if policy == "never":
                withheld.append(name)
                continue
            if declaration.rows_where is not None:
                scope = f"({scope}) AND ({declaration.rows_where})"
            if policy == "rows":
                # Named columns, not *: generated columns are derived, so they stay out.
                listed = ", ".join(quote(c) for c in table.columns)
                # Every column when there is no key: the same order on both engines.
                order = ", ".join(quote(c) for c in table.primary_key or table.columns)
                rows = await self._db.fetchall(
                    f"SELECT {listed} FROM {quote(name)} WHERE {scope} ORDER BY {order}", params
                )
                exported.append(
                    TableExport(
                        name=name,
                        policy=policy,
                        columns=table.columns,
                        rows=[list(row) for row in rows],
                    )
                )
                continue
            by = count_columns(table, declaration)
            selected = ", ".join([*(quote(c) for c in by), "COUNT(*)"])
            grouping = f" GROUP BY {', '.join(map(quote, by))} ORDER BY 1" if by else ""
            rows = await self._db.fetchall(
                f"SELECT {selected} FROM {quote(name)} WHERE {scope}{grouping}", params
            )
            counted = [list(row) for row in rows if row[len(by)]]
            exported.append(
                TableExport(name=name, policy=policy, columns=[*by, "count"], rows=counted)
            )
        created_at = self._clock.now()
        data = _zip(guild_id, created_at, exported, withheld)
        return ExportArchive(
            guild_id=guild_id,
            created_at=created_at,
            tables=exported,
            withheld=withheld,
            data=data,
        )


def _zip(
    guild_id: int, created_at: datetime, tables: list[TableExport], withheld: list[str]
) -> bytes:
    document = {
        "format": "hearth-export",
        "version": 1,
        "guild_id": str(guild_id),
        "exported_at": created_at.isoformat(),
        "times": "integer Unix seconds (UTC)",
        "tables": {
            table.name: {
                "policy": table.policy,
                "columns": table.columns,
                "rows": [
                    {c: _json_value(v) for c, v in zip(table.columns, row, strict=True)}
                    for row in table.rows
                ],
            }
            for table in tables
        },
        "withheld": sorted(withheld),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(JSON_NAME, json.dumps(document, indent=2, ensure_ascii=False))
        for table in tables:
            text = io.StringIO()
            writer = csv.writer(text)
            writer.writerow(table.columns)
            writer.writerows(
                [v.hex() if isinstance(v, bytes) else v for v in row] for row in table.rows
            )
            archive.writestr(f"{table.name}.csv", text.getvalue())
    return buffer.getvalue()
