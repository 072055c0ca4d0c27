"""What one process keeps in memory stays right when another process changes the database.

Hearth keeps a few things in memory so the common case costs no round trip: each server's
settings (read by nearly every command), and who may have a DM held for their next interaction
(asked by every interaction). With several processes over one PostgreSQL database, a change made
in one must reach the others' memory, within a second. The change's own transaction says so
(`tx.invalidate("settings", guild_id)`, a NOTIFY delivered at commit and only then); each process
has one dedicated connection LISTENing (`Database.listen`) and hands every `topic:key` to the
cache registered for the topic. Reading through to the database every time would be simpler,
but costs every command a round trip, which is what the caches are there to save.

A listener that loses its connection cannot know what it missed: every cache is told to stop
trusting itself at once (read through, or assume the worst) and, once listening again, to
start afresh (drop everything, reload what is preloaded). Both are logged once per outage.
SQLite serves one process: nothing to listen to, and the caches are always right.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable
from typing import Protocol

from bot.db import Database, Listener
from bot.tasks import cancel_and_wait

log = logging.getLogger(__name__)

RECONNECT_FIRST_SECONDS = 0.2
RECONNECT_MAX_SECONDS = 5.0
HEARD_KEPT = 200  # the last payloads, for tests and debugging


class SharedCache(Protocol):
    """A cache another process can make stale, and how it is told so."""

    def invalidate(self, key: str) -> None:
        """Another process changed `key`: drop (or mark) what is kept about it."""

    def distrust(self) -> None:
        """Changes may be going unheard: stop relying on what is kept, until `trust`."""

    async def trust(self) -> None:
        """Listening again: start afresh (what changed meanwhile was never heard)."""


class Invalidations:
    """One per process: the listener, and the caches it keeps right."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._caches: dict[str, SharedCache] = {}
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()
        self.heard: deque[str] = deque(maxlen=HEARD_KEPT)
        self.heard_total = 0  # payloads ever heard, so a wait can skip those heard before it
        self._changed = asyncio.Condition()
        self.outages = 0

    def register(self, topic: str, cache: SharedCache) -> None:
        self._caches[topic] = cache

    async def start(self, first_wait: float = 5.0) -> None:
        """Start listening (on PostgreSQL) and wait until the first LISTEN is in place, so that
        nothing cached from now on can miss a change; nothing to do on SQLite."""
        if self._task is not None:
            return
        first: Listener | None = None
        try:
            first = await self._db.listen()
            if first is None:  # SQLite: one process, nothing to hear
                return
        except Exception as exc:  # the loop retries and says so
            log.debug("listener connection failed: %s", type(exc).__name__)
        self._task = asyncio.create_task(self._run(first), name="hearth-invalidations")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.listening.wait(), first_wait)

    async def _connect_or_none(self) -> Listener | None:
        try:
            return await self._db.listen()
        except Exception as exc:  # the loop retries and says so
            log.debug("listener connection failed: %s", type(exc).__name__)
            return None

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
        self.listening.clear()

    async def _run(self, listener: Listener | None) -> None:
        pause = RECONNECT_FIRST_SECONDS
        lost = listener is None
        if lost:
            self._lose("could not connect")
        while True:
            if listener is None:
                await asyncio.sleep(pause)
                pause = min(pause * 2, RECONNECT_MAX_SECONDS)
                listener = await self._connect_or_none()
                if listener is None:
                    continue
            try:
                if lost:
                    for cache in self._caches.values():
                        await cache.trust()
                    lost = False
                    log.info("listening for other processes' changes again; caches re-read")
                pause = RECONNECT_FIRST_SECONDS
                self.listening.set()
                await self._note_change()
                async for payload in listener.payloads():
                    await self._dispatch(payload)
                raise ConnectionError("the listener stopped")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a lost connection, or a cache that failed to reload
                self._lose(type(exc).__name__)
                lost = True
                await self._note_change()
            finally:
                with contextlib.suppress(Exception):
                    await listener.close()
                listener = None

    def _lose(self, reason: str) -> None:
        self.listening.clear()
        self.outages += 1
        for cache in self._caches.values():
            cache.distrust()
        log.warning(
            "lost the connection that hears other processes' changes (%s); reading settings "
            "from the database until it is back",
            reason,
        )

    async def _dispatch(self, payload: str) -> None:
        topic, _, key = payload.partition(":")
        cache = self._caches.get(topic)
        if cache is not None:
            try:
                cache.invalidate(key)
            except ValueError:  # not ours (another program on the channel): nothing to drop
                log.debug("ignored an invalidation for %s with an unexpected key", topic)
        self.heard.append(payload)
        self.heard_total += 1
        await self._note_change()

    def mark(self) -> int:
        """Where the record of payloads stands now: pass it to `wait_heard` to wait for a
        payload heard from here on, not an earlier one with the same text."""
        return self.heard_total

    async def wait_heard(self, payload: str, within: float, *, after: int = 0) -> bool:
        """Whether `payload` arrives (or arrived, since `after`, a `mark()`) within `within`
        seconds: for tests."""

        def heard_since() -> bool:
            since = min(self.heard_total - after, len(self.heard))
            return since > 0 and payload in list(self.heard)[-since:]

        return await self.wait_until(heard_since, within)

    async def wait_until(self, predicate: Callable[[], bool], within: float) -> bool:
        """Whether `predicate` holds within `within` seconds, checked at every payload, loss and
        reconnection (for tests: waiting on events, never sleeping blindly)."""

        async def holds() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        try:
            await asyncio.wait_for(holds(), within)
        except TimeoutError:
            return False
        return True

    async def _note_change(self) -> None:
        async with self._changed:
            self._changed.notify_all()
