"""The fake's state objects and their Discord payload shapes (API v10, as discord.py 2.7 reads).

Everything is a plain mutable dataclass so tests can inspect and tweak it directly; the payload
methods are the single place where the wire format lives.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .guild import FakeGuild

DISCORD_EPOCH_MS = 1420070400000

# Channel types used by the fake.
TEXT, DM, CATEGORY, ANNOUNCEMENT = 0, 1, 4, 5
VOICE, STAGE = 2, 13
PUBLIC_THREAD, PRIVATE_THREAD = 11, 12
THREAD_TYPES = (10, PUBLIC_THREAD, PRIVATE_THREAD)

# Message flags.
FLAG_HAS_THREAD, FLAG_EPHEMERAL, FLAG_LOADING = 1 << 5, 1 << 6, 1 << 7


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


class Snowflakes:
    """Increasing, timestamp-based ids, so `created_at` of anything matches the fake's clock."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._last = 0

    def next(self) -> int:
        ms = int(self._now().timestamp() * 1000)
        self._last = max((ms - DISCORD_EPOCH_MS) << 22, self._last + 1)
        return self._last

    def next_on_shard(self, shard_id: int, shard_count: int) -> int:
        """The next id whose `(id >> 22) % shard_count` is `shard_id`: a guild on that shard.

        Ids made in the same millisecond (a frozen test clock) all fall on one shard, so this
        moves the timestamp part forward by less than `shard_count` ms; later ids stay larger.
        """
        candidate = self.next()
        bump = (shard_id - (candidate >> 22)) % shard_count
        if bump:
            candidate = self._last = ((candidate >> 22) + bump) << 22
        return candidate


@dataclass(eq=False)
class FakeUser:
    id: int
    username: str
    bot: bool = False
    global_name: str | None = None
    dms_closed: bool = False

    @property
    def name(self) -> str:
        return self.username

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(eq=False)
class FakeRole:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    bot_id: int | None = None  # set on the bot's managed integration role

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    @property
    def managed(self) -> bool:
        return self.bot_id is not None

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data


@dataclass(eq=False)
class FakeMember:
    user: FakeUser
    guild: FakeGuild
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.username

    @property
    def mention(self) -> str:
        return self.user.mention

    @property
    def bot(self) -> bool:
        return self.user.bot

    @property
    def dms_closed(self) -> bool:
        return self.user.dms_closed

    @dms_closed.setter
    def dms_closed(self, value: bool) -> None:
        self.user.dms_closed = value

    @property
    def roles(self) -> list[FakeRole]:
        return [self.guild.roles[r] for r in self.role_ids if r in self.guild.roles]

    def has_role(self, role: FakeRole | int) -> bool:
        return (role if isinstance(role, int) else role.id) in self.role_ids

    def payload(self, *, with_user: bool = True, permissions: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.role_ids],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


@dataclass
class Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass(eq=False)
class FakeChannel:
    id: int
    type: int
    name: str
    guild_id: int | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    rate_limit_per_user: int = 0
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    last_message_id: int | None = None
    recipients: list[FakeUser] = field(default_factory=list)
    # Thread-only state.
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    invitable: bool = True
    auto_archive_duration: int = 1440
    created_at: datetime | None = None
    archive_timestamp: datetime | None = None
    thread_members: dict[int, datetime] = field(default_factory=dict)
    message_count: int = 0

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    @property
    def is_private_thread(self) -> bool:
        return self.type == PRIVATE_THREAD

    @property
    def is_dm(self) -> bool:
        return self.type == DM

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def members(self) -> set[int]:
        """User ids that joined the thread (empty for non-threads)."""
        return set(self.thread_members)

    def thread_member_payload(self, user_id: int) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "user_id": str(user_id),
            "join_timestamp": iso(self.thread_members[user_id]),
            "flags": 0,
        }

    def payload(self, *, permissions: int | None = None, me: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "flags": 0,
        }
        if self.type == DM:
            data["recipients"] = [u.payload() for u in self.recipients]
        else:
            data.update(
                guild_id=str(self.guild_id),
                name=self.name,
                position=self.position,
                parent_id=str(self.parent_id) if self.parent_id else None,
                topic=self.topic,
                nsfw=self.nsfw,
                rate_limit_per_user=self.rate_limit_per_user,
            )
        if self.type in (VOICE, STAGE):  # as Discord sends them: a room's audio settings
            data.update(bitrate=64000, user_limit=0, rtc_region=None)
        if self.is_thread:
            created = self.created_at or datetime.now(UTC)
            data.update(
                owner_id=str(self.owner_id),
                message_count=self.message_count,
                total_message_sent=self.message_count,
                member_count=min(len(self.thread_members), 50),
                thread_metadata={
                    "archived": self.archived,
                    "locked": self.locked,
                    "invitable": self.invitable,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": iso(self.archive_timestamp or created),
                    "create_timestamp": iso(created),
                },
            )
            if me is not None and me in self.thread_members:
                data["member"] = self.thread_member_payload(me)
        elif self.type != DM:
            data["permission_overwrites"] = [o.payload() for o in self.overwrites.values()]
        if permissions is not None:
            data["permissions"] = str(permissions)
        return data


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width/height of a PNG, so image attachments look like Discord's (which reports both)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return None


@dataclass(eq=False)
class FakeAttachment:
    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None
    ephemeral: bool = False

    @property
    def size(self) -> int:
        return len(self.data)

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
            "content_type": self.content_type,
        }
        if self.description is not None:
            data["description"] = self.description
        dims = image_size(self.data)
        if dims is not None:
            data["width"], data["height"] = dims
        if self.ephemeral:
            data["ephemeral"] = True
        return data


@dataclass(eq=False)
class FakeMessage:
    id: int
    channel_id: int
    guild_id: int | None
    author: FakeUser
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[FakeAttachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    edited_timestamp: datetime | None = None
    pinned: bool = False
    pinned_at: datetime | None = None
    tts: bool = False
    mention_ids: list[int] = field(default_factory=list)
    mention_role_ids: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    webhook_id: int | None = None
    interaction_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    thread_id: int | None = None
    visible_to: int | None = None  # ephemeral: the only user who can see it
    deleted: bool = False
    nonce: str | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        return bool(self.flags & FLAG_LOADING)


@dataclass(eq=False)
class FakeScheduledEvent:
    id: int
    guild_id: int
    name: str
    scheduled_start_time: datetime
    entity_type: int
    creator_id: int
    scheduled_end_time: datetime | None = None
    description: str | None = None
    channel_id: int | None = None
    location: str | None = None
    privacy_level: int = 2
    status: int = 1  # 1 scheduled, 2 active, 3 completed, 4 canceled
    interested: set[int] = field(default_factory=set)  # who pressed "Interested"

    def payload(self, creator: FakeUser | None = None) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "guild_id": str(self.guild_id),
            "channel_id": str(self.channel_id) if self.channel_id else None,
            "creator_id": str(self.creator_id),
            "creator": creator.payload() if creator else None,
            "name": self.name,
            "description": self.description,
            "scheduled_start_time": iso(self.scheduled_start_time),
            "scheduled_end_time": iso(self.scheduled_end_time),
            "privacy_level": self.privacy_level,
            "status": self.status,
            "entity_type": self.entity_type,
            "entity_id": None,
            "entity_metadata": {"location": self.location} if self.location else None,
            "user_count": len(self.interested),
            "image": None,
            "recurrence_rule": None,
        }


@dataclass(eq=False)
class FakeInteraction:
    """One user action delivered to the bot, and everything the bot answered to it."""

    id: int
    token: str
    type: int  # 2 command, 3 component, 4 autocomplete, 5 modal submit
    user: FakeUser
    guild_id: int | None
    channel_id: int
    data: dict[str, Any]
    dispatched_at: float  # fake monotonic seconds
    message_id: int | None = None  # the message a component was clicked on
    parent: FakeInteraction | None = None  # for modal submits: the interaction that opened it
    response_type: int | None = None
    original_id: int | None = None  # the message that @original refers to
    followup_ids: list[int] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    choices: list[dict[str, Any]] | None = None
    ephemeral: bool = False
    rejected_callbacks: list[tuple[int, int]] = field(default_factory=list)  # (type, error code)
    acknowledged_at: float | None = None  # fake monotonic seconds, when the callback was accepted

    @property
    def acknowledged(self) -> bool:
        return self.response_type is not None

    @property
    def name(self) -> str:
        """Readable label for assertion messages: '/group join', 'button agree', 'modal x'."""
        if self.type in (2, 4):
            parts = [self.data["name"]]
            options = self.data.get("options", [])
            while options and options[0].get("type") in (1, 2):
                parts.append(options[0]["name"])
                options = options[0].get("options", [])
            return "/" + " ".join(parts)
        if self.type == 3:
            return f"component {self.data['custom_id']!r}"
        return f"modal {self.data['custom_id']!r}"
