"""The Hearth bot: wires the store, the dispatcher and the cogs to discord.py.

Start-up order matters: migrations first (nothing may read an old schema), then the dispatcher
(rebuilt from the database), then the cogs with their persistent views (buttons work from the
first event), then command sync — only when the command tree changed since the last sync.

Hearth is an `AutoShardedBot`: Discord closes an unsharded connection holding more than 2,500
servers (4011), so the gateway is split in shards, each server's events on shard
`(guild_id >> 22) % shard_count`. This process runs `[discord] shard_ids` (all by default) of
`shard_count` (Discord's recommendation by default); `shard_layout` says which, once known.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import json
import logging
import pkgutil
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import discord
import yarl
from discord.ext import commands

import cogs
from bot import __version__
from bot.clock import Clock, SystemClock
from bot.config import HearthConfig, open_configured_database
from bot.db import Database
from bot.delivery import Outbox
from bot.features import SUPPORT_ROUTING, Features, support_source
from bot.gateway_limits import IdentifyGate
from bot.guild_lifecycle import GuildLifecycle
from bot.i18n import catalogue_fingerprint
from bot.i18n_discord import CommandTranslator, texts_for_guild, texts_for_member
from bot.invalidation import Invalidations
from bot.outbox_kinds import AlertPost, DirectMessage, LogPost, message_specs
from bot.pacing import pacer_for
from bot.scheduling import Dispatcher
from bot.services import bot_meta
from bot.services.audit import LOG_POST_KIND, AuditService, Param, Phrase, PostTo
from bot.services.guilds import GuildRegistry
from bot.services.notices import NOTICES_TOPIC, NoticeService
from bot.services.outbox import WAKE_TOPIC, OutboxService
from bot.services.settings import SETTINGS_TOPIC, SettingsService
from bot.services.shard_leases import ProcessIdentity, ShardLeaseLost, ShardLeases
from bot.services.timers import TimerService
from bot.shards import ShardScope
from bot.tree import NO_MENTIONS, HearthTree

ServiceT = TypeVar("ServiceT")
_SHARD_QUEUE = "_AutoShardedClient__queue"  # discord.py's private queue of shard events
log = logging.getLogger(__name__)

COMMANDS_HASH_KEY = "commands_hash"
DM_KIND, ALERT_KIND = "dm", "alert"
COORDINATOR_KIND = "coordinators"  # a fix for coordinators: the log channel, else the alerts
# Names discord.py gives the tasks running event handlers, commands, buttons, selects and modals.
IN_FLIGHT_TASK_PREFIXES = (
    "discord.py: ",
    "CommandTree-invoker",
    "discord-ui-view-dispatch-",
    "discord-ui-dynamic-item-",
    "discord-ui-modal-dispatch-",
)


def point_at_endpoint(config: HearthConfig) -> None:
    """Route discord.py's REST and gateway traffic to a Discord-compatible endpoint if set.

    discord.py keeps these as class attributes, so this applies process-wide; unset values leave
    the real Discord in place.
    """
    if config.discord.api_base:
        discord.http.Route.BASE = config.discord.api_base
    if config.discord.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.discord.gateway_url)


def extension_names() -> list[str]:
    """Every cog module or package in `cogs/`; modules starting with `_` are shared helpers."""
    return sorted(
        f"cogs.{module.name}"
        for module in pkgutil.iter_modules(cogs.__path__)
        if not module.name.startswith("_")
    )


def intents(message_content: bool = False) -> discord.Intents:
    """Only what Hearth uses: guild structure, member joins/leaves (privileged: members) and
    scheduled events (who is interested in a group session's event).

    Server messages and their content (privileged) only when the operator opted in, for the
    optional crisis keyword watch.
    """
    chosen = discord.Intents.none()
    chosen.guilds = True
    chosen.members = True
    chosen.guild_scheduled_events = True  # group sessions' events: deletions, "Interested"
    if message_content:
        chosen.guild_messages = True
        chosen.message_content = True
    return chosen


def settle_heap() -> None:
    """Exempt the start-up heap (discord.py's cache of every server, member and channel) from
    future full garbage collections. Otherwise each full collection walks all of it while every
    interaction waits: tens of milliseconds in one server, hundreds in a thousand. Called on every
    READY, after first collecting what a previous connection's cache left behind (it is only
    ever freed here, as a frozen object is never collected)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class HearthBot(GuildLifecycle):
    def __init__(
        self,
        config: HearthConfig,
        *,
        clock: Clock | None = None,
        extensions: list[str] | None = None,
        guild_ready_timeout: float = 2.0,
        run_scheduler: bool = True,
    ) -> None:
        point_at_endpoint(config)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents(config.discord.message_content),
            tree_cls=HearthTree,
            help_command=None,
            allowed_mentions=NO_MENTIONS,
            chunk_guilds_at_startup=False,
            max_messages=None,
            guild_ready_timeout=guild_ready_timeout,
            shard_count=config.discord.shard_count,
            # None is discord.py's own default (all shards); its typing only names the list.
            shard_ids=list(config.discord.shard_ids) if config.discord.shard_ids else None,  # type: ignore[arg-type]
        )
        # The shards this process connects (known from the config, else once Discord
        # recommended a count); `shard_scope`, set below, is whose servers' work it does.
        self._shard_layout: ShardScope | None = None
        if config.discord.shard_count is not None:
            self._shard_layout = ShardScope.of(config.discord.shard_count, config.discord.shard_ids)
        self._identify_gate = IdentifyGate(1, self.identify_window)
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.db: Database = open_configured_database(config)
        # Fan-outs wait their turn instead of 429s; on PostgreSQL, one turn for all processes.
        self.pacer = pacer_for(
            self.db,
            limit=config.discord.global_rate_limit,
            shared=config.delivery.shared_rate_budget,
            fallback_per_second=config.delivery.fallback_requests_per_second,
        )
        self.pacer.install(self.http)
        self.settings = SettingsService(self.db, self.clock, config.defaults.timezone)
        self.audit_log = AuditService(self.db, self.clock)
        self.timers = TimerService(self.db)
        self.notices = NoticeService(self.db, self.clock)
        # Other processes' changes reach these in-memory copies (PostgreSQL; bot/invalidation.py).
        self.invalidations = Invalidations(self.db)
        self.invalidations.register(SETTINGS_TOPIC, self.settings)
        self.invalidations.register(NOTICES_TOPIC, self.notices)
        self.guild_registry = GuildRegistry(self.db, self.clock)
        self.dispatcher = Dispatcher(self.clock, self.timers)
        # Whose servers' scheduled and outbox work is this process's: its configured shards, or
        # every server when it runs them all (`bot.shards`).
        self.shard_scope = ShardScope.of(config.discord.shard_count, config.discord.shard_ids)
        self.outbox_store = OutboxService(
            self.db, lease=timedelta(seconds=config.delivery.lease_seconds)
        )
        self.outbox = Outbox(self, self.outbox_store, self.clock)
        self.dispatcher.attach_outbox(self.outbox)
        self.invalidations.register(WAKE_TOPIC, self.outbox)  # rows another process left us
        self.outbox.register(DM_KIND, DirectMessage(self))
        self.outbox.register(ALERT_KIND, AlertPost(self))
        self.outbox.register(COORDINATOR_KIND, AlertPost(self, log_first=True))
        self.outbox.register(LOG_POST_KIND, LogPost())
        # This process's hold on its shards (`claim_shards`), under the outbox's owner name.
        self.shard_leases = ShardLeases(
            self.db, self.clock, ProcessIdentity.current(self.outbox.owner)
        )
        self.shards_lost: ShardLeaseLost | None = None
        self._shard_renewal: asyncio.Task[None] | None = None
        # Set to ask whoever runs the bot to stop it (`python -m bot run` waits on it with the
        # signals): another process took over our shards.
        self.stop_requested = asyncio.Event()
        self.started_monotonic = time.monotonic()
        self.synced_commands = False
        self._extensions = extension_names() if extensions is None else extensions
        self._run_scheduler = run_scheduler
        self._hearth_ready = asyncio.Event()
        self._store_open = False
        # What each loaded feature adds to the others (bot/features.py): the one contract.
        self.features = Features()
        self.settings.on_change(self.features.settings_changed)
        self._services: dict[Callable[[Database, Clock], object], object] = {}

    def service(self, kind: Callable[[Database, Clock], ServiceT]) -> ServiceT:
        """The one instance of a feature's service, built here from the bot's store and clock.

        Every feature service takes exactly `(db, clock)`, so cogs, views and timers all ask the
        bot instead of each building its own. The core services above (settings, audit, timers,
        notices, the outbox) are built by name in `__init__` because they are wired into one
        another before any cog loads.
        """
        found = self._services.get(kind)
        if found is None:
            found = self._services[kind] = kind(self.db, self.clock)
        return found  # type: ignore[return-value]  # stored under its own kind just above

    # --- start-up ----------------------------------------------------------------------------
    async def open_store(self) -> None:
        """Connect and migrate, once. `run` calls this before logging in, so a database that is
        unreachable, refuses the password or is newer than the code stops Hearth before it
        touches Discord; setup_hook calls it for every other way a bot starts."""
        if self._store_open:
            return
        await self.db.connect()
        self._store_open = True
        applied = await self.db.migrate()
        if applied:
            log.info("database migrated: %s", ", ".join(applied))

    async def claim_shards(self) -> None:
        """Connect to the store and take this process's shards before connecting to Discord
        (`hold_shards`): the CLI turns a refusal into one line and exit status 2."""
        await self.open_store()
        await self.hold_shards()

    async def setup_hook(self) -> None:
        await self.open_store()
        await self.invalidations.start()  # listening before anything is cached
        await self.notices.load()
        if self._run_scheduler:  # `python -m bot sync` only needs the command tree
            await self.dispatcher.start()
        for name in self._extensions:
            await self.load_extension(name)
        await self.tree.set_translator(CommandTranslator())  # commands in members' languages
        if self.config.discord.sync_commands:
            await self.sync_commands_if_changed()

    def commands_hash(self) -> str:
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands()]
        payload.sort(key=lambda item: (item.get("type", 1), item["name"]))
        # A changed translation changes what Discord must show, so it re-syncs too.
        payload.append({"translations": catalogue_fingerprint()})
        encoded = json.dumps(payload, sort_keys=True, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()

    async def sync_commands_if_changed(self, *, force: bool = False) -> bool:
        """Sync global commands only when they changed: syncing is rate limited by Discord."""
        current = self.commands_hash()
        stored = await bot_meta.get_value(self.db, COMMANDS_HASH_KEY)
        if stored == current and not force:
            log.info("slash commands unchanged since last sync")
            return False
        synced = await self.tree.sync()
        await bot_meta.set_value(self.db, COMMANDS_HASH_KEY, current)
        self.synced_commands = True
        log.info("synced %d slash commands", len(synced))
        return True

    async def on_ready(self) -> None:
        """All of this process's shards are ready (discord.py waits for every one)."""
        await self.reconcile_guilds()
        settle_heap()
        self._hearth_ready.set()
        self.dispatcher.poke()  # the outbox waits for the guild cache (see `hearth_ready`)
        log.info(
            "Hearth %s ready in %d servers (%s)",
            __version__,
            len(self.guilds),
            self.shard_layout.describe(),
        )
        await self.shard_leases.mark_ready()  # `python -m bot status` shows it

    async def wait_until_hearth_ready(self) -> None:
        await self._hearth_ready.wait()

    @property
    def hearth_ready(self) -> bool:
        """Whether the first READY was handled: before it, every server looks absent."""
        return self._hearth_ready.is_set()

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_monotonic

    # --- helpers cogs share ------------------------------------------------------------------
    # Each of these sends through the outbox (`send_now`): the message is recorded before it is
    # sent, so a crash mid-send means it goes out at the next start instead of never.
    async def audit(
        self,
        guild: discord.Guild | None,
        actor_id: int,
        action: str,
        detail: str | tuple[str, str] | Phrase | None = None,
        /,
        **params: Param,
    ) -> None:
        """Record an admin action, and post it to the log channel if one is set, in the server's
        language. The detail: a template (`N_`, or `Nn_` counting `n`) and its values, stored so
        each reader sees it in theirs; a translatable value is a `Phrase` (services/audit.py)."""
        if guild is None:
            return
        phrase = Phrase(detail, **params) if isinstance(detail, str | tuple) else detail
        settings = await self.settings.get(guild.id)
        post = None
        if settings.log_channel_id is not None:  # the entry and its post, in one transaction
            post = PostTo(
                settings.log_channel_id,
                self.outbox.owner,
                self.outbox_store.lease,
                await texts_for_guild(self, guild.id),
            )
        entry = await self.audit_log.record(guild.id, actor_id, action, phrase, post=post)
        if entry.post_id is not None:
            await self.outbox.send_recorded(entry.post_id)

    async def in_server(self, guild_id: int) -> bool:
        """Whether Hearth is in this server: in this process's cache, or on a shard another
        process runs (a button pressed in a DM reaches shard 0's process, whatever the server)."""
        return self.get_guild(guild_id) is not None or await self.guild_registry.is_present(
            guild_id
        )

    async def alert(self, guild: discord.abc.Snowflake, text: str) -> bool:
        """Tell coordinators in the alerts channel (or the log channel as a fallback). `guild`
        may be `discord.Object(id)` for a server on another process's shard: that process
        sends it."""
        return await self.outbox.send_now(
            message_specs(guild.id, ALERT_KIND, self.clock.now(), text)
        )

    async def dm(
        self,
        guild_id: int,
        user_id: int,
        content: str,
        *,
        view: discord.ui.View | None = None,
        kind: str = DM_KIND,
        **extra: Any,
    ) -> bool:
        """DM a member; if their DMs are closed, hold it for their next interaction instead.

        `kind` names a `DirectMessage` subclass that can decide at send time that the DM is no
        longer wanted (a waitlist promotion for someone who left); `extra` is stored for it.
        """
        specs = message_specs(
            guild_id, kind, self.clock.now(), content, user_id=user_id, view=view, **extra
        )
        return await self.outbox.send_now(specs)

    async def request_support(self, guild_id: int, user_id: int, source: str) -> str:
        """Act on a member's explicit yes (never without it) and say honestly what happens next.

        `source` says where the yes came from ("checkin", "support"); without the safety
        feature's request flow, coordinators are alerted so a person follows up.
        """
        route = self.features.api(SUPPORT_ROUTING)
        if route is not None:
            return await route(guild_id, user_id, source)
        server = await texts_for_guild(self, guild_id)
        alert = server.gettext(
            "{member} asked for someone to reach out to them (from {source})."
        ).format(member=f"<@{user_id}>", source=support_source(server, source))
        reached = await self.in_server(guild_id) and await self.alert(
            discord.Object(guild_id), alert
        )
        tr = await texts_for_member(self, guild_id, user_id)
        if reached:
            return tr.gettext(
                "Thank you for telling me. The coordinators know now; someone will reach out."
            )
        return tr.gettext(
            "I'm sorry: I couldn't reach the coordinators just now. Please tell one directly, "
            "and use `/crisis` if you need help urgently."
        )

    # --- shutdown ----------------------------------------------------------------------------
    async def close(self) -> None:
        """Stop scheduling, let in-flight work finish (briefly), then disconnect and close.

        A member who pressed a button just before a restart should get their answer, and a
        handler cut off mid-request would log errors against a closed session.
        """
        grace = self.config.delivery.shutdown_grace_seconds
        current = asyncio.current_task()
        running = [
            task
            for task in asyncio.all_tasks()
            if task is not current and task.get_name().startswith(IN_FLIGHT_TASK_PREFIXES)
        ]
        # Both within one grace period, so a stop is bounded whatever is in flight: a service
        # manager kills a process that outlives its stop timeout (systemd: 90 s by default).
        await asyncio.gather(self.outbox.stop(grace), _finish_or_cancel(running, grace))
        await self.dispatcher.shutdown()
        if not hasattr(self, _SHARD_QUEUE):
            # discord.py makes the shards' event queue when it logs in, and its close() posts
            # to it; a bot stopped before that (its database refused it) gets an idle one.
            setattr(self, _SHARD_QUEUE, asyncio.PriorityQueue())
        await super().close()
        await self.invalidations.stop()
        await self._release_shards()  # after the last send: the next process may start now
        await self.db.close()


async def _finish_or_cancel(tasks: list[asyncio.Task[Any]], grace: float) -> None:
    if not tasks:
        return
    _, late = await asyncio.wait(tasks, timeout=grace)
    for task in late:
        task.cancel()
