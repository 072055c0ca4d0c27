"""Sending outbox items to Discord: rendering per kind, nonces, failure classes, bounded stop.

The rows and their claims live in `bot.services.outbox`; this is the Discord side. Each kind of
item registers an `OutboxKind` that renders it at send time (so a reminder says who is on the
shift now) and decides what an outcome means for it: a closed DM holds a notice, an unknown
channel pauses a schedule, a stale item is dropped. Every send carries the item's nonce with
`enforce_nonce` (discord.py's `handle_message_parameters` adds it whenever a nonce is given), so
a row re-sent after a crash between "Discord accepted" and "marked sent" is not posted twice.

Failures are classified once, here. Permanent (Discord refused: 50007 closed DMs, 10003 unknown
channel, 50001/50013 missing access, any other 4xx) is recorded and handed to the kind, never
retried. Transient (5xx, timeouts, lost connections) goes back to the database with bounded
exponential backoff, and is reported and marked failed after `MAX_ATTEMPTS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import signal
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
import discord
from discord.http import handle_message_parameters

from bot.clock import Clock
from bot.services.outbox import (
    CLAIM_BATCH,
    MAX_ATTEMPTS,
    RETENTION,
    OutboxItem,
    OutboxService,
    OutboxSpec,
    backoff,
)
from bot.shards import ShardScope
from bot.tree import NO_MENTIONS

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

SEND_CONCURRENCY = 20
# Channel codes after which the next candidate channel (say, the log channel for an alert) is
# tried: this one is gone or closed to Hearth.
UNKNOWN_CHANNEL, MISSING_ACCESS, MISSING_PERMISSIONS, CANNOT_DM = 10003, 50001, 50013, 50007
CHANNEL_REFUSALS = {UNKNOWN_CHANNEL, MISSING_ACCESS, MISSING_PERMISSIONS}
TRANSIENT = (
    discord.DiscordServerError,
    discord.RateLimited,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    OSError,
)
# Fault injection for the crash test: SIGKILL this process after the Nth send Discord accepted,
# before it is marked sent, to prove the nonce path. Read once, at start-up.
FAULT_KILL_AFTER_SEND = "HEARTH_FAULT_KILL_AFTER_SEND"

Outcome = Literal["sent", "dropped", "failed", "retry", "released"]


@dataclass
class Outgoing:
    """A rendered message: to the first usable channel of `channel_ids`, or to `user_id` by DM."""

    content: str = ""
    channel_ids: tuple[int, ...] = ()
    user_id: int | None = None
    components: list[dict[str, Any]] = field(default_factory=list)
    embeds: list[dict[str, Any]] = field(default_factory=list)


class OutboxKind:
    """How one kind renders, and what its outcomes mean. The defaults suit a plain message whose
    text and target are in the row (`payload["content"]`, `payload["components"]`)."""

    async def render(self, item: OutboxItem) -> Outgoing | None:
        """The message to send now, or None when it is no longer wanted (then it is dropped)."""
        return Outgoing(
            content=item.payload.get("content", ""),
            channel_ids=(item.channel_id,) if item.channel_id else (),
            user_id=None if item.channel_id else item.user_id,
            components=item.payload.get("components", []),
            embeds=item.payload.get("embeds", []),
        )

    async def sent(self, item: OutboxItem, channel_id: int, message_id: int) -> None:
        """After Discord accepted it and it was marked sent (e.g. open a thread under it)."""

    async def refused(
        self, item: OutboxItem, error: discord.HTTPException, outgoing: Outgoing
    ) -> None:
        """Discord refused it for good; it is marked failed after this returns."""
        log.warning(
            "outbox item %s (%s, guild %s) refused: %s/%s",
            item.id, item.kind, item.guild_id, error.status, error.code,
        )  # fmt: skip

    async def expired(self, item: OutboxItem) -> None:
        """Past its `expires_at` when its turn came (the bot was down): dropped, not sent."""
        log.info("outbox item %s (%s) expired unsent; dropped", item.id, item.kind)


def process_owner() -> str:
    """A lease owner name unique to this process, also across restarts and machines."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Outbox:
    """The dispatcher's last source: claims ready rows in small batches and sends them.

    Small batches keep a lease short relative to the work under it, and let a stop take effect
    between batches; the pacer (bot.pacing) spaces the sends, so a burst runs at the global limit.
    """

    name = "outbox"

    def __init__(
        self,
        bot: HearthBot,
        service: OutboxService,
        clock: Clock,
        *,
        owner: str | None = None,
        concurrency: int = SEND_CONCURRENCY,
        batch: int = CLAIM_BATCH,
    ) -> None:
        self.bot = bot
        self.service = service
        self.clock = clock
        self.owner = owner or process_owner()
        self._concurrency = asyncio.Semaphore(concurrency)
        self._batch = batch
        self._kinds: dict[str, OutboxKind] = {}
        self._in_flight: set[asyncio.Task[Outcome]] = set()
        self._stopping = False
        self._leased_any = False  # so a stop before the database opened touches nothing
        self._last_purge: datetime | None = None
        self.accepted = 0
        fault = os.environ.get(FAULT_KILL_AFTER_SEND, "")
        self._kill_after = int(fault) if fault.isdigit() else None

    # --- registration ------------------------------------------------------------------------
    def register(self, kind: str, handler: OutboxKind) -> None:
        self._kinds[kind] = handler
        self.bot.dispatcher.poke()

    def unregister(self, kind: str) -> None:
        self._kinds.pop(kind, None)

    # --- the dispatcher's view ---------------------------------------------------------------
    # --- woken by another process (bot/invalidation.py: the WAKE_TOPIC) -----------------------
    def invalidate(self, key: str) -> None:
        """Another process left a row for a server: send it now if the server is ours."""
        if self.bot.dispatcher.scope.owns(int(key)):
            self.bot.dispatcher.poke()

    def distrust(self) -> None:
        """Wake-ups may go unheard: the dispatcher's periodic re-check still finds the rows."""

    async def trust(self) -> None:
        self.bot.dispatcher.poke()  # whatever was left while we weren't listening

    async def next_due(self, scope: ShardScope | None = None) -> datetime | None:
        if self._stopping or not self.bot.hearth_ready:  # READY pokes the dispatcher
            return None
        return await self.service.next_due(scope or self.bot.dispatcher.scope)

    async def run_due(self, now: datetime, scope: ShardScope | None = None) -> None:
        """Send what is ready for `scope`'s servers (the dispatcher's unless given): only their
        guilds are in this process's cache, so another process's rows would render as "server
        gone" and be dropped."""
        scope = scope or self.bot.dispatcher.scope
        # Until the guild cache is filled every server looks gone, and what resumes at start-up
        # would be dropped as unwanted.
        if not self.bot.hearth_ready:
            return
        self._leased_any = True
        if scope.runs_global_work:
            await self._purge(now)
        while not self._stopping:
            batch = await self.service.claim(self.owner, self.clock.now(), self._batch, scope)
            if not batch:
                return
            tasks = [self._start(item) for item in batch]
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _purge(self, now: datetime) -> None:
        """Finished rows past `RETENTION` go, for every server at once: global work, so only the
        process of shard 0 does it (`bot.shards`); it needs no guild cache."""
        if self._last_purge is not None and now - self._last_purge < RETENTION / 7:
            return
        self._last_purge = now
        removed = await self.service.purge_finished(now - RETENTION)
        if removed:
            log.info("outbox retention removed %d finished items", removed)

    # --- sending now -------------------------------------------------------------------------
    async def send_now(self, specs: list[OutboxSpec]) -> bool:
        """Record `specs` (the parts of one notice) and send them at once, in order, for notices
        that follow an interaction; whether all went out. The rows are born leased to us, so no
        dispatch run takes them meanwhile, and if the process dies first the next start sends
        them."""
        if self._stopping:
            await self.service.enqueue(specs, self.clock.now())
            return False
        scope = self.bot.dispatcher.scope
        if not all(scope.owns(spec.guild_id) for spec in specs):
            # Another process runs this server's shard (a button pressed in a DM reaches shard
            # 0's process): only that one has the server in its cache to render and send it, so
            # the rows are left to it, and it is woken at once (`wake_owner`). It goes out
            # there, or is held there for the member's next command.
            await self.service.enqueue(specs, self.clock.now(), wake_owner=True)
            return True
        item_ids = await self.service.enqueue(specs, self.clock.now(), lease_owner=self.owner)
        sent = True
        for item_id in item_ids:
            sent = await self.send_recorded(item_id) and sent
        return sent

    async def send_recorded(self, item_id: int) -> bool:
        """Send a row a caller wrote leased to us (`owner`) in its own transaction; whether it
        went out. During a stop it is handed back for the next start instead."""
        self._leased_any = True
        if self._stopping:
            await self.service.release(self.owner, self.clock.now(), [item_id])
            return False
        item = await self.service.get(item_id)
        assert item is not None
        # Not under the batch's concurrency limit: a kind's outcome may itself send (an alert
        # about a refused prompt) from inside a batch that holds every slot.
        return await self._start(item, limited=False) == "sent"

    def _start(self, item: OutboxItem, limited: bool = True) -> asyncio.Task[Outcome]:
        task = asyncio.get_running_loop().create_task(self._deliver(item, limited))
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return task

    async def _deliver(self, item: OutboxItem, limited: bool) -> Outcome:
        async with self._concurrency if limited else contextlib.nullcontext():
            if self._stopping and limited:  # its turn came after the stop: leave it for later
                await self.service.release(self.owner, self.clock.now(), [item.id])
                return "released"
            try:
                return await self._deliver_one(item)
            except Exception:
                log.exception("outbox item %s (%s) could not be handled", item.id, item.kind)
                return await self._transient(item, "unexpected error")

    async def _deliver_one(self, item: OutboxItem) -> Outcome:
        handler = self._kinds.get(item.kind)
        if handler is None:  # its feature is not loaded (yet): try again after a backoff
            return await self._transient(item, f"no handler for {item.kind}")
        if item.expired(self.clock.now()):
            await handler.expired(item)
            await self.service.drop(item.id, "expired", self.clock.now())
            return "dropped"
        outgoing = await handler.render(item)
        if outgoing is None:
            log.info("outbox item %s (%s) no longer wanted; dropped", item.id, item.kind)
            await self.service.drop(item.id, "no longer wanted", self.clock.now())
            return "dropped"
        if not outgoing.channel_ids and outgoing.user_id is None:
            log.warning("outbox item %s (%s) has nowhere to go; dropped", item.id, item.kind)
            await self.service.drop(item.id, "no target", self.clock.now())
            return "dropped"
        try:
            channel_id, message_id = await self._post(item, outgoing)
        except TRANSIENT as exc:
            return await self._transient(item, _describe(exc))
        except discord.HTTPException as exc:
            await handler.refused(item, exc, outgoing)
            await self.service.fail(item.id, f"refused {exc.status}/{exc.code}", self.clock.now())
            return "failed"
        self.accepted += 1
        if self._kill_after is not None and self.accepted >= self._kill_after:
            os.kill(os.getpid(), signal.SIGKILL)  # the crash test's fault: accepted, not marked
        await self.service.mark_sent(item.id, message_id, self.clock.now())
        try:
            await handler.sent(item, channel_id, message_id)
        except Exception:
            log.exception("follow-up of sent outbox item %s (%s) failed", item.id, item.kind)
        return "sent"

    async def _transient(self, item: OutboxItem, reason: str) -> Outcome:
        now = self.clock.now()
        if item.attempts >= MAX_ATTEMPTS:
            log.error(
                "outbox item %s (%s, guild %s) failed %d times (%s); given up",
                item.id, item.kind, item.guild_id, item.attempts, reason,
            )  # fmt: skip
            await self.service.fail(item.id, f"transient: {reason}", now)
            return "failed"
        retry_at = now + backoff(item.attempts)
        log.warning(
            "outbox item %s (%s) failed (%s); retrying at %s",
            item.id, item.kind, reason, retry_at.isoformat(),
        )  # fmt: skip
        await self.service.retry_later(item.id, self.owner, retry_at, reason)
        self.bot.dispatcher.poke(retry_at)
        return "retry"

    async def _post(self, item: OutboxItem, outgoing: Outgoing) -> tuple[int, int]:
        """Send to the first channel that takes it (or the DM); (channel id, message id)."""
        targets: Iterable[int] = outgoing.channel_ids
        if outgoing.user_id is not None:
            dm = await self.bot.create_dm(discord.Object(id=outgoing.user_id))
            targets = (dm.id,)
        targets = list(targets)
        for index, channel_id in enumerate(targets):
            try:
                return channel_id, await self._send(channel_id, item.nonce, outgoing)
            except discord.HTTPException as exc:
                last = index == len(targets) - 1
                if last or isinstance(exc, TRANSIENT) or exc.code not in CHANNEL_REFUSALS:
                    raise
                log.warning(
                    "outbox item %s: channel %s refused (%s); trying the next",
                    item.id, channel_id, exc.code,
                )  # fmt: skip
        raise AssertionError("unreachable: the last target re-raises")  # pragma: no cover

    async def _send(self, channel_id: int, nonce: str, outgoing: Outgoing) -> int:
        params = handle_message_parameters(
            content=outgoing.content or None,
            embeds=[discord.Embed.from_dict(embed) for embed in outgoing.embeds],
            nonce=nonce,
            allowed_mentions=NO_MENTIONS,
            previous_allowed_mentions=self.bot.allowed_mentions,
        )
        if outgoing.components:
            assert params.payload is not None  # a message without files is sent as JSON
            params.payload["components"] = outgoing.components
        data = await self.bot.http.send_message(channel_id, params=params)
        return int(data["id"])

    async def drained(self) -> None:
        """Wait until no send is in flight, each outcome recorded: a message can reach Discord
        a moment before its row is marked sent, and a database snapshot must not see that land."""
        while self._in_flight:
            await asyncio.gather(*set(self._in_flight), return_exceptions=True)

    # --- stopping ----------------------------------------------------------------------------
    async def stop(self, grace: float) -> None:
        """Stop claiming, let sends in flight finish for up to `grace` seconds, cancel the rest
        and give their leases back, so the next start sends them at once."""
        self._stopping = True
        running = set(self._in_flight)
        if running:
            _, late = await asyncio.wait(running, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1.0)
        if not self._leased_any:
            return
        released = await self.service.release(self.owner, self.clock.now())
        if released:
            log.info("outbox: %d unsent items left for the next start", released)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, discord.HTTPException):
        return f"{exc.status}/{exc.code}"
    return type(exc).__name__
