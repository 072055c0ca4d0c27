"""What each feature stores, declared next to its SQL: the export policy of every table and the
`/mydata` rule of every column holding a person's id.

A service module that creates tables (through its migration) declares them in a module-level
`TABLES` tuple of `TableData`. Nothing lists the modules: `declared()` collects every `TABLES`
in the `bot.services` package (`service_modules()` walks it; settings are found the same way),
so a new feature's module is covered the moment it exists, and no central file is edited. Unit
tests fail until every table in the migrated schema has a declaration (`tests/unit/
test_export.py`) and every column that looks like a person's id has a rule (`tests/unit/
test_mydata.py`); two declarations of one table, or of one column, are an error naming both
modules.

- `export` — what `/admin export` gives coordinators, because an export leaves the server:
  "rows" (operational data, exported as is), "counts" (aggregate counts only, grouped by
  `count_by` or else by the table's foreign keys, so no member can be picked out) or "never"
  (private member data — answers, notes, personal schedules, held DMs — and internals; only
  the table's name is listed). `rows_where` narrows a "rows" table that mixes both kinds.
- `people` — per column holding a person's id, what deleting that person does (`/mydata`):
  "delete" the rows, "anonymise" the column (the row stays for the server but no longer says
  who) or "none" with a reason; `kind` is how `/mydata show` names those rows.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Literal, TypeVar

R = TypeVar("R")
Policy = Literal["rows", "counts", "never"]
Action = Literal["delete", "anonymise", "none"]

# The module attribute `declared()` collects.
DECLARATIONS = "TABLES"
# Why most anonymised columns are kept.
KEPT_FOR_THE_SERVER = "kept as 'a former coordinator' so the server's settings still make sense"


class DeclarationError(ValueError):
    """A table or column declared twice, or a declaration that contradicts itself."""


@dataclass(frozen=True)
class PersonColumn:
    """One column holding a person's id, and what happens to it when that person deletes."""

    column: str
    action: Action
    kind: str  # how `/mydata show` names these rows
    reason: str = ""  # why, for `none` and `anonymise`: shown nowhere, read by reviewers
    export: bool = True  # in the member's own `/mydata export`

    def __post_init__(self) -> None:
        if self.action != "delete" and not self.reason:
            raise DeclarationError(f"{self.column}: '{self.action}' needs a reason")

    @classmethod
    def kept(cls, column: str, kind: str) -> PersonColumn:
        """A coordinator's id on something the server keeps (its settings, groups, rotas...):
        anonymised, never deleted, so what they set up goes on working without them."""
        return cls(column, "anonymise", kind, KEPT_FOR_THE_SERVER)


@dataclass(frozen=True)
class TableData:
    """One table's declaration: its export policy and its person-id columns."""

    table: str
    export: Policy
    why: str = ""  # for reviewers: why this policy
    count_by: tuple[str, ...] = ()  # "counts": the grouping, when the foreign keys are not it
    rows_where: str | None = None  # "rows": only rows matching this SQL are exported
    people: tuple[PersonColumn, ...] = ()

    def __post_init__(self) -> None:
        if self.count_by and self.export != "counts":
            raise DeclarationError(f"{self.table}: count_by is for a 'counts' table")
        if self.rows_where is not None and self.export != "rows":
            raise DeclarationError(f"{self.table}: rows_where is for a 'rows' table")
        columns = [person.column for person in self.people]
        twice = sorted({c for c in columns if columns.count(c) > 1})
        if twice:
            raise DeclarationError(f"{self.table}: {', '.join(twice)} declared twice")

    @classmethod
    def server_setup(cls, table: str, column: str, kind: str, *, why: str = "") -> TableData:
        """Something coordinators set up for the server (groups, rotas, helplines, settings...):
        exported as is, and whoever set it up anonymised but kept (`PersonColumn.kept`)."""
        return cls(table, export="rows", why=why, people=(PersonColumn.kept(column, kind),))

    @classmethod
    def members_own(cls, table: str, kind: str, *, why: str) -> TableData:
        """A member's own private rows (answers, held DMs, their preferences...): never
        exported, and deleted with them (`user_id`); `why` says what they would reveal."""
        return cls(
            table, export="never", why=why, people=(PersonColumn("user_id", "delete", kind),)
        )


@dataclass(frozen=True)
class Declarations:
    """Every declared table and person column, and the module that declared each."""

    tables: Mapping[str, TableData] = field(default_factory=dict)
    modules: Mapping[str, str] = field(default_factory=dict)

    @property
    def people(self) -> dict[tuple[str, str], PersonColumn]:
        return {
            (table.table, person.column): person
            for table in self.tables.values()
            for person in table.people
        }


def collect(modules: Mapping[str, object]) -> Declarations:
    """The declarations of these modules (by name), refusing any table declared twice."""
    tables: dict[str, TableData] = {}
    origin: dict[str, str] = {}
    for name, module in modules.items():
        found = getattr(module, DECLARATIONS, ())
        if not isinstance(found, tuple) or not all(isinstance(t, TableData) for t in found):
            raise DeclarationError(f"{name}.{DECLARATIONS} must be a tuple of TableData")
        for table in found:
            if table.table in tables:
                raise DeclarationError(
                    f"table {table.table} is declared twice: in {origin[table.table]} and {name}"
                )
            tables[table.table] = table
            origin[table.table] = name
    return Declarations(tables=tables, modules=origin)


@functools.cache
def service_modules() -> dict[str, ModuleType]:
    """Every module of the `bot.services` package by name, found by walking it (once: call
    `service_modules.cache_clear()` after adding a module at run time, as tests do)."""
    import bot.services

    found = {
        info.name: importlib.import_module(info.name)
        for info in pkgutil.walk_packages(bot.services.__path__, "bot.services.")
    }
    return dict(sorted(found.items()))


def per_walk(gather: Callable[[dict[str, ModuleType]], R]) -> Callable[[], R]:
    """`gather` over the walked modules, worked out again only after a new walk: asking for
    declarations on every `/mydata` or settings read costs a comparison."""
    last: list[tuple[dict[str, ModuleType], R]] = []

    def current() -> R:
        modules = service_modules()
        if not last or last[0][0] is not modules:
            last[:] = [(modules, gather(modules))]
        return last[0][1]

    return current


# Every table declaration in the `bot.services` package.
declared: Callable[[], Declarations] = per_walk(collect)
