"""Shard leases: two Hearth processes never run the same gateway shard.

Each process runs a range of shards (`bot.shards`) and does the scheduled work of their servers
only, so two processes on one shard would both receive its events and both act on them, and a
process with a stale idea of the shard count would own servers another process also owns. Before
it connects to Discord a process therefore claims its shards in `shard_leases`, under its own
unique name, with a lease it renews every `RENEW_EVERY` (10 s) for `LEASE` (30 s) on the
injectable clock:

- a shard whose lease another process holds and renews is refused, with a message naming the
  shards and saying another Hearth process runs them (the CLI exits with status 2);
- a lease that ran out (a process killed with SIGKILL, a machine that died) is taken over; at
  start-up a process waits once for a lease in its way to run out (at most `LEASE`), so a restart
  after a crash just starts a little later, while a live holder, which renews, is still refused;
  a holder on this same machine whose process is gone (same boot and pid namespace, no such
  pid) is taken over at once;
- a clean stop deletes the process's rows, so its successor starts at once.

Rows are keyed by (shard_count, shard_id), so shard 1 of 4 and shard 1 of 8 are different rows
although they hold different servers: two processes with different counts would each get their
rows and run overlapping servers. So a claim is refused while any live lease of another process
has a different shard count: a changed count is deployed by stopping every process first.

The check and the write are one `write` unit: SQLite runs it under the file's write lock, and
PostgreSQL runs it SERIALIZABLE, where two processes claiming at once (the same shard, or
different counts) conflict and the retry sees the winner's rows (tests/unit/test_shard_leases.py
races several stores).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bot.clock import Clock
from bot.db import Database, Tx, from_ts, to_ts
from bot.services.data import TableData
from bot.shards import ShardScope

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
RENEW_EVERY = timedelta(seconds=10)
# Beyond a lease's end, so the wait at start-up outlasts a holder's last renewal for sure.
WAIT_MARGIN = timedelta(seconds=1)

Sleep = Callable[[float], Awaitable[None]]
ProcessGone = Callable[[str | None, int | None], bool]


class ShardsTaken(Exception):
    """Another live Hearth process runs some of these shards (or uses another shard count)."""

    def __init__(self, message: str, until: datetime | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.until = until  # when the leases in the way run out, unless renewed

    def __str__(self) -> str:
        return self.message


class ShardLeaseLost(ShardsTaken):
    """This process's lease ran out and another process took its shards over: it must stop."""


class ShardLease(BaseModel):
    shard_count: int
    shard_id: int
    holder: str
    claimed_at: datetime
    ready_at: datetime | None  # None: the holder's shards are still connecting
    expires_at: datetime


def host_key() -> str | None:
    """This machine's boot and pid namespace: two processes with the same key see the same pids.
    None where the OS does not tell (then a gone holder is only known by its lease running out)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text("ascii").strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return None
    return f"{boot}/{namespace}"


def process_gone(host: str | None, pid: int | None) -> bool:
    """Whether a holder provably stopped: it ran in this pid namespace and its pid is unused.

    Only ever True for certain; anything else (another machine, our own pid, no permission to
    signal it) is False, and the holder's lease decides."""
    if host is None or pid is None or pid == os.getpid() or host != host_key():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


@dataclass(frozen=True)
class ProcessIdentity:
    """Who holds a lease: a unique name, and where it runs (to tell a gone holder at once)."""

    holder: str
    host: str | None
    pid: int

    @classmethod
    def current(cls, holder: str | None = None) -> ProcessIdentity:
        name = holder or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        return cls(name, host_key(), os.getpid())


def _listed(shards: Iterable[int]) -> str:
    return ", ".join(str(shard) for shard in sorted(set(shards)))


def _holders(rows: list[Any]) -> str:
    return ", ".join(sorted({row["holder"] for row in rows}))


class ShardLeases:
    """One process's leases on its shards: claim (or wait once and claim), renew, release."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        me: ProcessIdentity,
        *,
        lease: timedelta = LEASE,
        renew_every: timedelta = RENEW_EVERY,
        gone: ProcessGone = process_gone,
    ) -> None:
        self._db = db
        self._clock = clock
        self.me = me
        self.lease = lease
        self.renew_every = renew_every
        self._gone = gone
        self.held: ShardScope | None = None

    # --- claiming ----------------------------------------------------------------------------
    async def claim(self, scope: ShardScope) -> None:
        """Take `scope`'s shards for this process, or raise `ShardsTaken` and change nothing."""
        now = self._clock.now()
        me, gone, count = self.me, self._gone, scope.count
        lease = self.lease

        def claim(tx: Tx) -> None:
            live = tx.fetchall(
                "SELECT shard_count, shard_id, holder, host, pid, expires_at FROM shard_leases "
                "WHERE expires_at > ?",
                (to_ts(now),),
            )
            theirs = [row for row in live if row["holder"] != me.holder]
            dead = [row for row in theirs if gone(row["host"], row["pid"])]
            gone_holders = {row["holder"] for row in dead}
            others = [row for row in theirs if row["holder"] not in gone_holders]
            counts = [row for row in others if row["shard_count"] != count]
            if counts:
                raise ShardsTaken(
                    f"Another Hearth process ({_holders(counts)}) is running with shard_count "
                    f"{_listed(row['shard_count'] for row in counts)}, and this one has "
                    f"shard_count {count}: every process over one database must use the same "
                    "shard_count. Stop the others before changing it.",
                    until=max(from_ts(row["expires_at"]) for row in counts),
                )
            clash = [row for row in others if row["shard_id"] in scope.ids]
            if clash:
                shards = [row["shard_id"] for row in clash]
                noun = "Shard" if len(set(shards)) == 1 else "Shards"
                verb = "is" if len(set(shards)) == 1 else "are"
                raise ShardsTaken(
                    f"{noun} {_listed(shards)} (of {count}) {verb} already run by another Hearth "
                    f"process ({_holders(clash)}): two processes must never run the same shard. "
                    "Stop that process, or give this one other shard_ids (a process that was "
                    f"killed gives its shards up within {int(lease.total_seconds())} seconds).",
                    until=max(from_ts(row["expires_at"]) for row in clash),
                )
            # Out of the way: leases that ran out (any count), holders provably gone, and this
            # process's own rows from an earlier claim.
            tx.execute("DELETE FROM shard_leases WHERE expires_at <= ?", (to_ts(now),))
            tx.executemany(
                "DELETE FROM shard_leases WHERE holder = ?", [(name,) for name in gone_holders]
            )
            tx.execute("DELETE FROM shard_leases WHERE holder = ?", (me.holder,))
            written = sum(
                tx.execute(
                    "INSERT INTO shard_leases (shard_count, shard_id, holder, host, pid, "
                    "claimed_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (shard_count, shard_id) DO NOTHING",
                    (count, shard, me.holder, me.host, me.pid, to_ts(now), to_ts(now + lease)),
                )
                for shard in sorted(scope.ids)
            )
            if written != len(scope.ids):  # a row we could not see: someone claims it right now
                raise ShardsTaken(
                    f"Shards {_listed(scope.ids)} (of {count}) are being claimed by another "
                    "Hearth process right now: two processes must never run the same shard."
                )

        await self._db.write(claim)
        self.held = scope
        log.info("running %s as %s", scope.describe(), me.holder)

    async def acquire(self, scope: ShardScope, sleep: Sleep = asyncio.sleep) -> None:
        """`claim`, but when leases are in the way wait once for them to run out: a process
        started right after a crash then starts a little later instead of failing, while a live
        holder (which renews) is still refused. A lease ending further off than one lease
        period is a live holder's for sure: refused at once."""
        try:
            await self.claim(scope)
            return
        except ShardsTaken as refused:
            if refused.until is None:
                raise
            wait = refused.until - self._clock.now() + WAIT_MARGIN
            if wait > self.lease + WAIT_MARGIN:
                raise
            log.warning(
                "%s Waiting %d s for its lease to run out, in case it stopped without "
                "releasing it.",
                refused,
                round(wait.total_seconds()),
            )
        await sleep(max(wait.total_seconds(), 0.0))
        await self.claim(scope)

    # --- holding -----------------------------------------------------------------------------
    async def renew(self) -> None:
        """Move this process's leases on; `ShardLeaseLost` when another process has taken any
        of its shards (its lease had run out)."""
        scope = self.held
        if scope is None:
            return
        now = self._clock.now()
        shards = sorted(scope.ids)
        marks = ",".join("?" * len(shards))
        renewed = await self._db.execute(
            f"UPDATE shard_leases SET expires_at = ? WHERE holder = ? AND shard_count = ? "
            f"AND shard_id IN ({marks})",
            (to_ts(now + self.lease), self.me.holder, scope.count, *shards),
        )
        if renewed != len(shards):
            self.held = None
            raise ShardLeaseLost(
                f"Another Hearth process took over {scope.describe()} while this one could not "
                f"renew its lease (for more than {int(self.lease.total_seconds())} seconds): "
                "stopping, so that no shard runs twice."
            )

    async def keep(
        self, on_lost: Callable[[ShardLeaseLost], Awaitable[None]], sleep: Sleep = asyncio.sleep
    ) -> None:
        """Renew every `renew_every` until cancelled; on a lost lease call `on_lost` and stop.

        A renewal that fails (the database unreachable for a moment) is tried again at the next
        turn: the lease outlasts two missed renewals."""
        while self.held is not None:
            await sleep(self.renew_every.total_seconds())
            try:
                await self.renew()
            except ShardLeaseLost as lost:
                await on_lost(lost)
                return
            except Exception:
                log.warning("could not renew the shard leases; trying again", exc_info=True)

    async def release(self) -> int:
        """Give this process's shards back (a clean stop), so the next process starts at once."""
        if self.held is None:
            return 0
        self.held = None
        return await self._db.execute(
            "DELETE FROM shard_leases WHERE holder = ?", (self.me.holder,)
        )

    async def mark_ready(self) -> None:
        """Say in the lease that all this process's shards are ready (`python -m bot status`)."""
        if self.held is not None:
            await self._db.execute(
                "UPDATE shard_leases SET ready_at = ? WHERE holder = ?",
                (to_ts(self._clock.now()), self.me.holder),
            )

    async def live(self) -> list[ShardLease]:
        """Every lease still running, for the log and tests."""
        return [lease for lease in await leases(self._db) if lease.expires_at > self._clock.now()]


async def leases(db: Database) -> list[ShardLease]:
    """Every lease row, live or run out, by shard count and shard."""
    rows = await db.fetchall(
        "SELECT shard_count, shard_id, holder, claimed_at, ready_at, expires_at "
        "FROM shard_leases ORDER BY shard_count, shard_id"
    )
    return [
        ShardLease(
            shard_count=row["shard_count"],
            shard_id=row["shard_id"],
            holder=row["holder"],
            claimed_at=from_ts(row["claimed_at"]),
            ready_at=None if row["ready_at"] is None else from_ts(row["ready_at"]),
            expires_at=from_ts(row["expires_at"]),
        )
        for row in rows
    ]


def fleet_report(all_leases: list[ShardLease], now: datetime) -> tuple[bool, list[str]]:
    """Whether every shard of the deployment is run by a live, ready process, and one line per
    process (and per shard nobody runs), for `python -m bot status` and a health check."""
    live = [lease for lease in all_leases if lease.expires_at > now]
    if not live:
        return False, ["no Hearth process is running (no live shard lease)"]
    count = max(lease.shard_count for lease in live)
    by_holder: dict[str, list[ShardLease]] = {}
    for lease in live:
        by_holder.setdefault(lease.holder, []).append(lease)
    lines, healthy = [], len({lease.shard_count for lease in live}) == 1
    for holder, held in sorted(by_holder.items(), key=lambda item: item[1][0].shard_id):
        first = held[0]
        scope = ShardScope(first.shard_count, frozenset(lease.shard_id for lease in held))
        expires = min(lease.expires_at for lease in held)
        left = int((expires - now).total_seconds())
        quiet = int((now - (expires - LEASE)).total_seconds())  # since the last renewal
        if quiet > (RENEW_EVERY * 3 / 2).total_seconds():
            state = f"NOT renewing its lease ({quiet} s since the last renewal): stopped or stuck"
            healthy = False
        elif first.ready_at is None:
            state = f"starting (claimed {int((now - first.claimed_at).total_seconds())} s ago)"
            healthy = False
        else:
            state = f"ready since {first.ready_at:%Y-%m-%d %H:%M:%S} UTC"
        lines.append(f"{scope.describe()}: {state}; process {holder}, lease {left} s left")
    running = {lease.shard_id for lease in live if lease.shard_count == count}
    missing = sorted(set(range(count)) - running)
    if missing:
        healthy = False
        lines.append(f"not running: {ShardScope(count, frozenset(missing)).describe()}")
    return healthy, lines


TABLES = (
    TableData(
        "shard_leases",
        export="never",
        why="which process runs which shard: the deployment's, not any server's",
    ),
)
