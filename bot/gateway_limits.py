"""Discord's limits on starting gateway sessions, as `GET /gateway/bot` reports them.

`session_start_limit.remaining` IDENTIFYs are left until `reset_after` ms; going past it makes
Discord terminate every session and reset the bot's token. `max_concurrency` IDENTIFYs may run
per 5 s, one per rate-limit key (`shard_id % max_concurrency`); more are refused (op 9).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["IdentifyGate", "SessionStartLimitReached", "check_session_budget"]


class SessionStartLimitReached(Exception):
    """Discord would not let this process start all its shards now: starting anyway would make
    it reset the bot's token (see README, Sharding), so Hearth stops before any IDENTIFY."""


class IdentifyGate:
    """Discord's `max_concurrency`: one IDENTIFY per rate-limit key (`shard_id %
    max_concurrency`) per 5 s; a second one is refused (op 9) and must be retried.

    discord.py's own hook waits 5 s before every IDENTIFY but the first, whatever the key; this
    waits only for the key's previous IDENTIFY, so a bot allowed 16 at once starts 16 at once.
    """

    def __init__(self, max_concurrency: int, window: float) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self.window = window * 1.05  # a little slack for the network between us and Discord
        self._last: dict[int, float] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def wait(self, shard_id: int) -> None:
        key = shard_id % self.max_concurrency
        lock = self._locks.setdefault(key, asyncio.Lock())
        loop = asyncio.get_running_loop()
        async with lock:
            last = self._last.get(key)
            if last is not None:
                delay = last + self.window - loop.time()
                if delay > 0:
                    log.info("shard %d waits %.1f s to identify (Discord's limit)", shard_id, delay)
                    await asyncio.sleep(delay)
            self._last[key] = loop.time()


def check_session_budget(limits: dict[str, Any], starting: int) -> None:
    """Refuse to start more shards than Discord's session start limit has left."""
    remaining = int(limits["remaining"])
    if remaining >= starting:
        return
    hours = int(limits["reset_after"]) / 3_600_000
    raise SessionStartLimitReached(
        f"Discord allows {remaining} more gateway session starts (of {limits['total']}) for "
        f"the next {hours:.1f} h, and this process needs {starting} for its shards. Nothing "
        "was connected, so none were spent: start it after the limit resets, or run fewer "
        "shards here (discord.shard_ids)."
    )
