"""The gateway side of Hearth past one process: which shards this process connects, how they
start within Discord's limits, and the lease that keeps any other process off them.

`HearthBot` builds on this class; it only holds what is about shards, so the bot's own module
stays about the bot. The attributes declared below are set by `HearthBot.__init__`.
"""

from __future__ import annotations

import asyncio
import logging

from discord.ext import commands

from bot.config import HearthConfig
from bot.gateway_limits import IdentifyGate, check_session_budget
from bot.scheduling import Dispatcher
from bot.services.shard_leases import ShardLeaseLost, ShardLeases
from bot.shards import ShardScope
from bot.tasks import cancel_and_wait

log = logging.getLogger("bot.app")  # one logger for the bot's life cycle, shards included


class ShardedBot(commands.AutoShardedBot):
    # Discord allows one IDENTIFY per rate-limit key per this many seconds (tests shorten it).
    identify_window: float = 5.0

    config: HearthConfig
    dispatcher: Dispatcher
    shard_leases: ShardLeases
    shards_lost: ShardLeaseLost | None
    stop_requested: asyncio.Event
    _shard_layout: ShardScope | None
    _shard_renewal: asyncio.Task[None] | None
    _identify_gate: IdentifyGate

    @property
    def shard_scope(self) -> ShardScope:
        """Whose servers' scheduled and outbox work this process does (`bot.shards`): the
        dispatcher's scope, set once before start; everything by default (one process)."""
        return self.dispatcher.scope

    @shard_scope.setter
    def shard_scope(self, scope: ShardScope) -> None:
        self.dispatcher.scope = scope

    async def hold_shards(self) -> None:
        """Take this process's shards (`shard_scope`) and keep them renewed until
        `_release_shards`. `ShardsTaken` if another live Hearth process runs any of them or
        uses another shard count; a killed process's lease is waited for once (at most 30 s).
        See `bot.services.shard_leases`."""
        await self.shard_leases.acquire(self.shard_scope)
        self._shard_renewal = asyncio.get_running_loop().create_task(
            self.shard_leases.keep(self._shards_taken_over), name="hearth-shard-leases"
        )

    async def _shards_taken_over(self, lost: ShardLeaseLost) -> None:
        """Another process runs our shards now: stop, rather than run them twice."""
        log.error("%s", lost)
        self.shards_lost = lost
        self.stop_requested.set()

    async def _release_shards(self) -> None:
        await cancel_and_wait(self._shard_renewal)
        self._shard_renewal = None
        try:
            await self.shard_leases.release()
        except Exception:  # the lease runs out on its own within 30 s
            log.warning("could not release the shard leases", exc_info=True)

    @property
    def shard_layout(self) -> ShardScope:
        """How many shards the bot has and which this process runs. Known from the config, or
        (shard_count unset) once `launch_shards` asked Discord for its recommendation."""
        if self._shard_layout is None:
            raise RuntimeError("the shard layout is known once the bot starts connecting")
        return self._shard_layout

    async def launch_shards(self) -> None:
        """Ask Discord (GET /gateway/bot) for the recommended shard count and the session start
        limit, refuse to start past that limit, then let discord.py start the shards, each
        IDENTIFY paced by `max_concurrency` (`before_identify_hook`)."""
        if self.is_closed():
            return
        recommended, _, limits = await self.http.get_bot_gateway()
        count = self.shard_count if self.shard_count is not None else recommended
        layout = ShardScope.of(count, self.config.discord.shard_ids)
        check_session_budget(dict(limits), len(layout.ids))
        self._shard_layout = layout
        self._identify_gate = IdentifyGate(int(limits["max_concurrency"]), self.identify_window)
        self.shard_count = count  # so discord.py connects without asking Discord again
        log.info(
            "connecting %s (%d session starts left, %d at once)",
            layout.describe(),
            limits["remaining"],
            limits["max_concurrency"],
        )
        await super().launch_shards()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        await self._identify_gate.wait(shard_id or 0)

    async def on_shard_connect(self, shard_id: int) -> None:
        log.info("shard %d connected", shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        log.info("shard %d disconnected", shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        log.info("shard %d resumed", shard_id)

    async def on_shard_ready(self, shard_id: int) -> None:
        servers = sum(1 for guild in self.guilds if guild.shard_id == shard_id)
        log.info("shard %d ready: %d servers", shard_id, servers)
