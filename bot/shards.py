"""Which servers' scheduled work this process does: its shards.

Hearth may run as several processes over one database, each connected to Discord for a range of
gateway shards. A server (guild) belongs to shard `(guild_id >> 22) % shard_count` (Discord's
rule), and a process has discord.py's cache only for the servers of its own shards: the outbox
renderers look servers up there (`bot.get_guild`), so another shard's server would look gone and
its messages would be dropped as unwanted. Hence the one rule:

**Each process claims and sends only the scheduled and outbox work of the servers on its own
shards.** A server's work waits while its process is down and resumes when it restarts (the
outbox's leases and the sources' guarded claims lose nothing); across processes each item is
still claimed exactly once, since the shards partition the servers and the claims stay atomic.

Work that belongs to no server is written with `guild_id = 0` (the daily retention timers of
check-in and session answers), and 0 is on shard 0: **global work runs in the process that holds
shard 0**, exactly once, because shard leases (`bot.services.shard_leases`) let only one process
hold a shard. Those purges read and delete rows by server id, never the guild cache, so the
process of shard 0 can do them for every server; the outbox's own purge of finished rows runs
there too (`ShardScope.runs_global_work`). Per-server sweeps keep to the scope instead: the
purge of a removed server is that server's timer, and the catch-up at READY (`reconcile_guilds`)
compares only its own shards' servers with the cache (the others are in another process's cache,
not gone).

How a query keeps to its shards: `scope.where("guild_id")` gives an SQL condition with named
parameters (`:shard_count`, `:shard_0`, …) to append to a statement's WHERE, integer arithmetic
that SQLite and PostgreSQL both do on BIGINT/INTEGER (`/` truncates, ids are positive). A scope
that covers every shard (`ShardScope.everything()`, today's single process) adds no condition at
all, so the single-process statements, and their query plans, are exactly what they were.

The scope is given once, on the bot (`HearthBot.shard_scope`, which is the dispatcher's
`scope`); the dispatcher hands it to timers, to every `DueSource` and to the outbox as an
argument. Features never derive it themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Discord snowflakes keep their creation time above bit 22; the shard rule uses that part.
SNOWFLAKE_SHIFT = 22
_DIVISOR = 1 << SNOWFLAKE_SHIFT  # 4194304: `/` in SQL, as `>>` is not portable to every engine
MAX_SHARDS = 1 << 16  # far above any real shard count; bounds a typo, not a deployment


def shard_of(guild_id: int, count: int) -> int:
    """The shard of a server, by Discord's rule (guild_id 0, global work, is on shard 0)."""
    return (guild_id >> SNOWFLAKE_SHIFT) % count


@dataclass(frozen=True)
class ScopeFilter:
    """An SQL condition to AND into a WHERE clause, and its named parameters.

    `sql` is empty when the scope covers every shard; otherwise it starts with " AND ", so it
    is appended as is: `"… WHERE status = 'pending'" + filter.sql`, parameters merged in
    (`bind`). A statement with no WHERE of its own appends `where_sql` instead.
    """

    condition: str
    params: dict[str, int]

    @property
    def sql(self) -> str:
        return f" AND {self.condition}" if self.condition else ""

    @property
    def where_sql(self) -> str:
        return f" WHERE {self.condition}" if self.condition else ""

    def bind(self, params: dict[str, Any]) -> dict[str, Any]:
        """`params` with this filter's parameters added (a new dict)."""
        return {**params, **self.params}


@dataclass(frozen=True)
class ShardScope:
    """The shards one process runs: `ids` among `count` shards."""

    count: int
    ids: frozenset[int]

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_SHARDS:
            raise ValueError(f"shard count must be 1 to {MAX_SHARDS}, not {self.count}")
        if not self.ids:
            raise ValueError("a process must run at least one shard")
        outside = sorted(shard for shard in self.ids if not 0 <= shard < self.count)
        if outside:
            raise ValueError(
                f"shard ids {outside} are outside 0..{self.count - 1} (shard count {self.count})"
            )

    @classmethod
    def everything(cls) -> ShardScope:
        """One process for every server: no filter at all."""
        return cls(1, frozenset({0}))

    @classmethod
    def of(cls, count: int | None, ids: Iterable[int] | None = None) -> ShardScope:
        """From configuration: no count means one process for everything; no ids, all shards."""
        if count is None:
            return cls.everything()
        return cls(count, frozenset(range(count) if ids is None else ids))

    @property
    def covers_all(self) -> bool:
        """Whether this process runs every shard (then nothing is filtered)."""
        return len(self.ids) == self.count

    @property
    def runs_global_work(self) -> bool:
        """Whether work that belongs to no server (guild_id 0) is this process's: shard 0's."""
        return 0 in self.ids

    def owns(self, guild_id: int) -> bool:
        return self.covers_all or shard_of(guild_id, self.count) in self.ids

    def where(self, column: str = "guild_id") -> ScopeFilter:
        """The condition keeping a statement to this scope's servers (see the module doc)."""
        if self.covers_all:
            return ScopeFilter("", {})
        if not column.replace("_", "").replace(".", "").isalnum():
            raise ValueError(f"not a column name: {column!r}")
        shards = sorted(self.ids)
        marks = ", ".join(f":shard_{index}" for index in range(len(shards)))
        params = {f"shard_{index}": shard for index, shard in enumerate(shards)}
        params["shard_count"] = self.count
        return ScopeFilter(f"(({column} / {_DIVISOR}) % :shard_count) IN ({marks})", params)

    def describe(self) -> str:
        """For logs and messages: "all servers" (one shard of one), "shard 2 of 4",
        "shards 0-3 of 8", "shards 1, 3 of 4"."""
        ids = sorted(self.ids)
        if self.count == 1:
            return "all servers"
        if len(ids) == 1:
            return f"shard {ids[0]} of {self.count}"
        if ids == list(range(ids[0], ids[-1] + 1)):
            return f"shards {ids[0]}-{ids[-1]} of {self.count}"
        return f"shards {', '.join(map(str, ids))} of {self.count}"
