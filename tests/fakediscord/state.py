"""The fake's world (users, guilds, messages, interactions, commands) and its sync inspection API.

Tests read this state directly instead of asking the bot, so an assertion is about what a person
would see on Discord. Every change calls `notify()`, which wakes `wait_for` waiters: tests wait on
conditions, never on sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from . import permissions as perms
from .gateway import Gateway
from .guild import FakeGuild
from .models import (
    DM,
    FakeChannel,
    FakeInteraction,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeScheduledEvent,
    FakeUser,
    Snowflakes,
)

if TYPE_CHECKING:
    from .messages import Upload

BodyHook = Callable[[str, dict[str, Any], list["Upload"]], dict[str, Any]]


class ClockLike(Protocol):
    def now(self) -> datetime: ...


class FakeState:
    def __init__(self, *, clock: ClockLike | None = None, bot_name: str = "Hearth") -> None:
        self._clock = clock
        self.ids = Snowflakes(self.now)
        self.users: dict[int, FakeUser] = {}
        self.app_owner = self.add_user("app-owner")
        self.bot_user = self.add_user(bot_name, bot=True)
        self.application_id = self.bot_user.id
        self.token = f"{self.bot_user.id}.fake.{secrets.token_urlsafe(24)}"
        # Privileged intents switched on in the (fake) developer portal.
        self.privileged = {"members": True, "message_content": True, "presences": True}
        self.guilds: dict[int, FakeGuild] = {}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, FakeMessage] = {}
        self._channel_log: dict[int, list[int]] = defaultdict(list)
        self.interactions: dict[int, FakeInteraction] = {}
        self.global_commands: list[dict[str, object]] = []
        self.guild_commands: dict[int, list[dict[str, object]]] = {}
        self.requests: Counter[str] = Counter()
        self.request_log: list[tuple[str, str, int]] = []
        self.unimplemented: list[str] = []
        self.internal_errors: list[str] = []
        self.violations: list[str] = []  # requests Discord would refuse (spec or documented limit)
        self.unchecked: list[str] = []  # request bodies the spec has no schema for
        # Called with ("METHOD /route/{template}", body, uploads) for every body the bot sends
        # (command registration aside), and with {"reason": …} for its audit-log reason, before
        # anything else reads them; what it returns is what the route sees. The pseudo-locale
        # run checks and unwraps visible text here.
        self.bot_body_hook: BodyHook | None = None
        self.audit_reasons: list[tuple[str, str]] = []  # (route, X-Audit-Log-Reason), in order
        self._time_offset = 0.0
        self._changed = asyncio.Event()
        self.gateway = Gateway(self)
        self.api_base = ""
        self.gateway_url = ""
        self.cdn_base = ""

    # -- time ----------------------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    def monotonic(self) -> float:
        """Seconds for interaction deadlines; `advance_time` moves it so tests never sleep 3 s."""
        return time.monotonic() + self._time_offset

    def advance_time(self, seconds: float) -> None:
        self._time_offset += seconds
        self.notify()

    # -- change notification -------------------------------------------------------------------

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(
        self,
        predicate: Callable[[], object],
        timeout: float = 5.0,  # noqa: ASYNC109 - callers want a bool, not a cancellation
    ) -> bool:
        """True once `predicate()` holds; False after `timeout` seconds without it holding."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            changed = self._changed
            if predicate():
                return True
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    def dispatch(
        self,
        event: str,
        data: dict[str, object],
        *,
        guild: FakeGuild | None = None,
        channel: FakeChannel | None = None,
    ) -> None:
        self.gateway.dispatch(event, data, guild=guild, channel=channel)

    # -- world building ------------------------------------------------------------------------

    def add_user(self, name: str, *, bot: bool = False, dms_closed: bool = False) -> FakeUser:
        user = FakeUser(self.ids.next(), name, bot=bot, global_name=name, dms_closed=dms_closed)
        self.users[user.id] = user
        return user

    def add_guild(
        self,
        name: str,
        owner: FakeUser | str | None = None,
        *,
        with_bot: bool = True,
        bot_permissions: int = perms.DEFAULT_BOT,
        shard: tuple[int, int] | None = None,
    ) -> FakeGuild:
        """A server; the bot is in it (with its managed role) unless `with_bot=False`.

        `shard=(shard_id, shard_count)` gives it an id on that shard (ids made on a frozen
        clock would otherwise all land on one shard)."""
        if not isinstance(owner, FakeUser):
            owner = self.add_user(owner or f"{name.split()[0].lower()}-owner")
        guild_id = self.ids.next() if shard is None else self.ids.next_on_shard(*shard)
        guild = FakeGuild(self, guild_id, name, owner)  # type: ignore[arg-type]  # a FakeDiscord
        self.guilds[guild.id] = guild
        if with_bot:
            self.add_bot_to_guild(guild, bot_permissions)
        return guild

    def add_bot_to_guild(self, guild: FakeGuild, permissions: int = perms.DEFAULT_BOT) -> None:
        """Someone invites the bot: its managed role is created on top and GUILD_CREATE is sent."""
        if not any(r.bot_id == self.bot_user.id for r in guild.roles.values()):
            top = max(r.position for r in guild.roles.values()) + 1
            role = FakeRole(self.ids.next(), guild.id, self.bot_user.username, permissions, top)
            role.bot_id = self.bot_user.id
            guild.roles[role.id] = role
        member = guild._add_member_quietly(self.bot_user)
        member.role_ids = [guild.bot_role.id]
        guild.bot_present = True
        # A guild joined at runtime has no `unavailable` key; discord.py then fires guild_join.
        payload = guild.payload(full=True)
        payload.pop("unavailable")
        self.dispatch("GUILD_CREATE", payload, guild=guild)

    def remove_bot_from_guild(self, guild: FakeGuild) -> None:
        """The bot is kicked (or left): GUILD_DELETE without `unavailable`."""
        guild.bot_present = False
        guild.members.pop(self.bot_user.id, None)
        for role in [r for r in guild.roles.values() if r.bot_id == self.bot_user.id]:
            del guild.roles[role.id]
        self.dispatch("GUILD_DELETE", {"id": str(guild.id)})

    def set_privileged_intents(
        self,
        *,
        members: bool | None = None,
        message_content: bool | None = None,
        presences: bool | None = None,
    ) -> None:
        for key, value in (("members", members), ("message_content", message_content)):
            if value is not None:
                self.privileged[key] = value
        if presences is not None:
            self.privileged["presences"] = presences

    @property
    def application_flags(self) -> int:
        flags = 0
        if self.privileged["presences"]:
            flags |= 1 << 13
        if self.privileged["members"]:
            flags |= 1 << 15
        if self.privileged["message_content"]:
            flags |= 1 << 19
        return flags

    # -- lookups -------------------------------------------------------------------------------

    def channel(self, channel_id: int | FakeChannel) -> FakeChannel | None:
        if isinstance(channel_id, FakeChannel):
            channel_id = channel_id.id
        for guild in self.guilds.values():
            found = guild.channels.get(channel_id)
            if found is not None:
                return found
        return next((c for c in self.dm_channels.values() if c.id == channel_id), None)

    def guild_of(self, channel: FakeChannel) -> FakeGuild | None:
        return self.guilds.get(channel.guild_id) if channel.guild_id else None

    def message(self, message_id: int) -> FakeMessage | None:
        return self.messages.get(message_id)

    def interaction(self, interaction_id: int) -> FakeInteraction | None:
        return self.interactions.get(interaction_id)

    def get_or_create_dm(self, user: FakeUser) -> FakeChannel:
        channel = self.dm_channels.get(user.id)
        if channel is None:
            channel = FakeChannel(self.ids.next(), DM, "", recipients=[user])
            self.dm_channels[user.id] = channel
        return channel

    def store_message(self, message: FakeMessage) -> None:
        self.messages[message.id] = message
        self._channel_log[message.channel_id].append(message.id)
        channel = self.channel(message.channel_id)
        if channel is not None and not message.ephemeral:
            channel.last_message_id = message.id
            if channel.is_thread:
                channel.message_count += 1
        self.notify()

    # -- inspection ----------------------------------------------------------------------------

    def channel_messages(
        self, channel: FakeChannel | int, *, include_ephemeral: bool = False
    ) -> list[FakeMessage]:
        """What everyone sees in the channel, oldest first (ephemeral ones only if asked)."""
        channel_id = channel if isinstance(channel, int) else channel.id
        found = (self.messages[i] for i in self._channel_log.get(channel_id, []))
        return [m for m in found if not m.deleted and (include_ephemeral or not m.ephemeral)]

    def dm_channel(self, user: FakeUser | FakeMember | int) -> FakeChannel | None:
        return self.dm_channels.get(user if isinstance(user, int) else user.id)

    def dm_messages(self, user: FakeUser | FakeMember | int) -> list[FakeMessage]:
        """What the user received from the bot in their DMs, oldest first."""
        channel = self.dm_channel(user)
        if channel is None:
            return []
        return [m for m in self.channel_messages(channel) if m.author.id == self.bot_user.id]

    def ephemeral_messages(self, user: FakeUser | FakeMember | int) -> list[FakeMessage]:
        """Every 'only you can see this' message shown to the user, oldest first."""
        user_id = user if isinstance(user, int) else user.id
        return [m for m in self.messages.values() if m.visible_to == user_id and not m.deleted]

    def pins(self, channel: FakeChannel | int) -> list[FakeMessage]:
        """Pinned messages, most recently pinned first (Discord's order)."""
        pinned = [m for m in self.channel_messages(channel) if m.pinned]
        return sorted(pinned, key=lambda m: m.pinned_at or m.timestamp, reverse=True)

    def threads(self, parent: FakeChannel | int | None = None) -> list[FakeChannel]:
        parent_id = parent if isinstance(parent, int | None) else parent.id
        return [
            c
            for g in self.guilds.values()
            for c in g.channels.values()
            if c.is_thread and (parent_id is None or c.parent_id == parent_id)
        ]

    def commands(self, guild_id: int | FakeGuild | None = None) -> list[dict[str, object]]:
        """Registered application commands: global ones, or one guild's."""
        if guild_id is None:
            return list(self.global_commands)
        gid = guild_id if isinstance(guild_id, int) else guild_id.id
        return list(self.guild_commands.get(gid, []))

    def scheduled_events(self, guild: FakeGuild | int) -> list[FakeScheduledEvent]:
        found = guild if isinstance(guild, FakeGuild) else self.guilds[guild]
        return list(found.scheduled_events.values())

    def mark_interested(
        self, guild: FakeGuild, event: FakeScheduledEvent, user: FakeUser, on: bool = True
    ) -> None:
        """A person presses (or un-presses) "Interested" on an event, as in Discord's client:
        only on an event still scheduled or active, and only a change is dispatched."""
        if event.status not in (1, 2) or (user.id in event.interested) == on:
            return
        (event.interested.add if on else event.interested.discard)(user.id)
        name = "GUILD_SCHEDULED_EVENT_USER_ADD" if on else "GUILD_SCHEDULED_EVENT_USER_REMOVE"
        data: dict[str, object] = {
            "guild_scheduled_event_id": str(event.id),
            "user_id": str(user.id),
            "guild_id": str(guild.id),
        }
        self.dispatch(name, data, guild=guild)

    def delete_event_by_hand(self, guild: FakeGuild, event: FakeScheduledEvent) -> None:
        """Someone with Manage Events deletes the event in Discord's client."""
        del guild.scheduled_events[event.id]
        self.dispatch(
            "GUILD_SCHEDULED_EVENT_DELETE", event.payload(self.users.get(event.creator_id)),
            guild=guild,
        )  # fmt: skip

    def request_count(self, method: str, template: str) -> int:
        """Requests made to one route, e.g. ('PUT', '/applications/{application_id}/commands')."""
        return self.requests[f"{method.upper()} {template}"]
