"""A member's data rights: see, export and delete what Hearth stores about them.

Generic over the schema: every column that holds a person's id is declared by the feature that
owns its table, beside its SQL (`PersonColumn` in the `TABLES` of its service module; see
`bot/services/data.py`), with what deleting that person does to it: `delete` the rows (their
answers, memberships, …), `anonymise` the column (the row is kept for the server, e.g. rota
coverage counts, but no longer says who), or `none` with a reason. A unit test fails when a table
in the migrated schema has a column that looks like a person's id and has no declaration, so
every new table forces a decision.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from bot.db import Database, TableSchema, Tx, to_ts
from bot.i18n import ENGLISH, N_, Texts
from bot.services.base import Service
from bot.services.data import Action, PersonColumn, declared
from bot.services.export import children_first, discover_tables, quote

# Audit actions: "feature.what_happened", lowercase, past tense (stored in audit_log).
AUDIT_MYDATA_DELETED = "mydata.deleted"

# What an anonymised id becomes: never a real Discord id, so it reads as "a former member".
ANONYMOUS_ID = 0
# Column names that hold a person's id; the registry test scans the schema with this.
PERSON_COLUMN = re.compile(
    r"^(user|member|supporter|author|actor|editor|owner|requester|coordinator|creator|target)"
    r"(_id|_ids)?$|_(user|member|supporter|author|actor|editor|owner)_id$|_by$"
)


class KindCount(BaseModel):
    kind: str
    count: int
    action: Action


class DeleteReport(BaseModel):
    removed: list[KindCount]
    anonymised: list[KindCount]
    kept: list[KindCount]
    # Group roles to take away: (guild_id, role_id) pairs.
    roles: list[tuple[int, int]]
    # Groups where a place was freed, so the next person waiting can be moved up.
    freed_groups: list[tuple[int, int]] = []

    @property
    def total(self) -> int:
        return sum(item.count for item in self.removed + self.anonymised)


def _json(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    return value


async def _schema(db: Database) -> dict[str, TableSchema]:
    return {table.name: table for table in await db.tables()}


def _where(column: str, guild_id: int | None) -> str:
    scope = " AND guild_id = :guild_id" if guild_id is not None else ""
    return f"{quote(column)} = :user_id{scope}"


class MyDataService(Service):
    async def _present(self) -> list[tuple[str, str, PersonColumn]]:
        """Declared person columns whose table and column exist (features can be absent)."""
        schema = await _schema(self._db)
        return [
            (table, column, rule)
            for (table, column), rule in declared().people.items()
            if table in schema and column in schema[table].columns
        ]

    async def _children_first(self) -> list[tuple[str, str, PersonColumn]]:
        """The same, children before the tables they reference: a delete removes and counts a
        member's check-in answers before their personal check-ins (whose deletion would
        otherwise take the answers with it, uncounted)."""
        present = await self._present()
        order = children_first(await discover_tables(self._db), [t for t, _, _ in present])
        return sorted(present, key=lambda entry: order.index(entry[0]))

    async def summary(self, guild_id: int | None, user_id: int) -> list[KindCount]:
        """Rows about this person, by kind (only kinds with something stored)."""
        params = {"user_id": user_id, "guild_id": guild_id}
        present = await self._present()
        if not present:
            return []
        # One UNION ALL query: each table's count is still an indexed lookup, in a single hop.
        sql = " UNION ALL ".join(
            f"SELECT {index} AS entry, COUNT(*) AS n FROM {quote(table)} "
            f"WHERE {_where(column, guild_id)}"
            for index, (table, column, _) in enumerate(present)
        )
        counts: list[KindCount] = []
        for row in sorted(await self._db.fetchall(sql, params), key=lambda r: r["entry"]):
            if row["n"]:
                rule = present[row["entry"]][2]
                counts.append(KindCount(kind=rule.kind, count=row["n"], action=rule.action))
        return counts

    async def export(
        self, guild_id: int | None, user_id: int, tr: Texts = ENGLISH
    ) -> dict[str, Any]:
        """Every row naming this person, by table and column, ready for `json.dumps`; the
        explanations ("about", each "what") in `tr`'s language, keys and values as stored."""
        params = {"user_id": user_id, "guild_id": guild_id}
        tables: dict[str, dict[str, Any]] = {}
        for table, column, rule in await self._present():
            if not rule.export:
                continue
            rows = await self._db.fetchall(
                f"SELECT * FROM {quote(table)} WHERE {_where(column, guild_id)}", params
            )
            if rows:
                tables.setdefault(table, {})[column] = {
                    "what": tr.gettext(rule.kind),
                    "rows": [
                        {key: _json(value) for key, value in dict(row).items()} for row in rows
                    ],
                }
        return {
            "about": tr.gettext(
                N_("Everything Hearth stores that names you, by table and column.")
            ),
            "user_id": str(user_id),
            "server_id": None if guild_id is None else str(guild_id),
            "exported_at": to_ts(self._clock.now()),
            "tables": tables,
        }

    async def export_json(self, guild_id: int | None, user_id: int, tr: Texts = ENGLISH) -> bytes:
        return json.dumps(await self.export(guild_id, user_id, tr), indent=2).encode()

    async def delete(self, guild_id: int | None, user_id: int) -> DeleteReport:
        """Apply every rule in one transaction: deletes first (children cascade), then anonymise."""
        params = {"user_id": user_id, "guild_id": guild_id}
        present = await self._children_first()
        schema = await _schema(self._db)
        removed: dict[str, int] = {}
        anonymised: dict[str, int] = {}
        kept: dict[str, int] = {}

        def delete(tx: Tx) -> list[tuple[int, int, int]]:
            for totals in (removed, anonymised, kept):  # a retried unit starts afresh
                totals.clear()
            held = _memberships(tx, schema, guild_id, user_id)
            for table, column, rule in present:
                if rule.action != "delete":
                    continue
                count = tx.execute(
                    f"DELETE FROM {quote(table)} WHERE {_where(column, guild_id)}", params
                )
                _add(removed, rule.kind, count)
            for table, column, rule in present:
                where = _where(column, guild_id)
                if rule.action == "anonymise":
                    # A unique key can refuse a second anonymous row (say one slot claimed by
                    # two former supporters): such rows go, since the person's id must go.
                    leftover = sum(
                        tx.execute(
                            f"DELETE FROM {quote(table)} WHERE {where} AND EXISTS (SELECT 1 "
                            f"FROM {quote(table)} AS o WHERE o.{quote(column)} = {ANONYMOUS_ID}"
                            + "".join(
                                f" AND o.{quote(c)} = {quote(table)}.{quote(c)}"
                                for c in key
                                if c != column
                            )
                            + ")",
                            params,
                        )
                        for key in schema[table].unique
                        if column in key
                    )
                    count = tx.execute(
                        f"UPDATE {quote(table)} SET {quote(column)} = {ANONYMOUS_ID} WHERE {where}",
                        params,
                    )
                    _add(anonymised, rule.kind, count)
                    _add(removed, rule.kind, leftover)
                elif rule.action == "none":
                    count = int(
                        tx.fetchval(f"SELECT COUNT(*) FROM {quote(table)} WHERE {where}", params)
                    )
                    _add(kept, rule.kind, count)
            return held

        held = await self._db.write(delete)
        return DeleteReport(
            removed=_counts(removed, "delete"),
            anonymised=_counts(anonymised, "anonymise"),
            kept=_counts(kept, "none"),
            roles=[(guild, role) for guild, _, role in held],
            freed_groups=[(guild, group) for guild, group, _ in held],
        )


def _add(totals: dict[str, int], kind: str, count: int) -> None:
    if count:
        totals[kind] = totals.get(kind, 0) + count


def _counts(totals: Mapping[str, int], action: Action) -> list[KindCount]:
    return [KindCount(kind=kind, count=count, action=action) for kind, count in totals.items()]


def _memberships(
    tx: Tx, schema: dict[str, TableSchema], guild_id: int | None, user_id: int
) -> list[tuple[int, int, int]]:
    """(guild, group, role) of the memberships about to be deleted: roles to take, places freed."""
    if "group_members" not in schema or "groups" not in schema:
        return []
    scope = " AND m.guild_id = :guild_id" if guild_id is not None else ""
    rows = tx.fetchall(
        "SELECT g.guild_id, g.id, g.role_id FROM group_members m "
        f"JOIN groups g ON g.id = m.group_id WHERE m.user_id = :user_id{scope}",
        {"user_id": user_id, "guild_id": guild_id},
    )
    return [(row["guild_id"], row["id"], row["role_id"]) for row in rows]


def last_export_name(now: datetime) -> str:
    return f"hearth-my-data-{now:%Y-%m-%d}.json"
