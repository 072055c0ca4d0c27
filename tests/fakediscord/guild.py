"""A fake server that tests build and change as an admin would, sending Discord's gateway events.

Every mutating method here is synchronous (tests read naturally) and, when the bot is in the guild
and connected, queues the matching gateway event (GUILD_ROLE_CREATE, GUILD_MEMBER_ADD, ...), so the
bot learns about it exactly as in production.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import permissions as perms
from .actions import DEFAULT_LOCALE
from .models import (
    CATEGORY,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    TEXT,
    FakeChannel,
    FakeMember,
    FakeRole,
    FakeScheduledEvent,
    FakeUser,
    Overwrite,
    iso,
)

if TYPE_CHECKING:
    from .server import FakeDiscord

# Keys are FakeRole | FakeMember | FakeUser | int; a Mapping's key type is invariant, so a dict
# keyed by one of them would not match that union.
OverwriteSpec = Mapping[Any, "tuple[int, int] | Overwrite"] | Iterable[Overwrite]


def normalize_text_channel_name(name: str) -> str:
    """Discord lower-cases text channel names and turns spaces into dashes; bots must cope."""
    return re.sub(r"[\s-]+", "-", name.strip().lower())


class FakeGuild:
    def __init__(self, fake: FakeDiscord, guild_id: int, name: str, owner: FakeUser) -> None:
        self.fake = fake
        self.id = guild_id
        self.name = name
        self.owner_id = owner.id
        self.roles: dict[int, FakeRole] = {}
        self.members: dict[int, FakeMember] = {}
        self.channels: dict[int, FakeChannel] = {}
        self.scheduled_events: dict[int, FakeScheduledEvent] = {}
        self.bot_present = False
        # The server's language (Server Settings → Overview); the pseudo-locale run's own.
        self.preferred_locale = DEFAULT_LOCALE
        self.roles[guild_id] = FakeRole(guild_id, guild_id, "@everyone", perms.DEFAULT_EVERYONE, 0)
        self._add_member_quietly(owner)

    # -- lookups -------------------------------------------------------------------------------

    @property
    def everyone_role(self) -> FakeRole:
        return self.roles[self.id]

    @property
    def owner(self) -> FakeMember:
        return self.members[self.owner_id]

    @property
    def bot_member(self) -> FakeMember:
        return self.members[self.fake.bot_user.id]

    @property
    def bot_role(self) -> FakeRole:
        return next(r for r in self.roles.values() if r.bot_id == self.fake.bot_user.id)

    def role(self, name: str) -> FakeRole:
        return next(r for r in self.roles.values() if r.name == name)

    def member(self, name: str) -> FakeMember:
        return next(m for m in self.members.values() if m.name == name)

    def channel(self, name: str) -> FakeChannel:
        return next(c for c in self.channels.values() if c.name == name)

    @property
    def text_channels(self) -> list[FakeChannel]:
        return [c for c in self.channels.values() if c.type == TEXT]

    @property
    def threads(self) -> list[FakeChannel]:
        return [c for c in self.channels.values() if c.is_thread]

    def permissions_for(
        self, who: FakeMember | FakeUser | int, channel: FakeChannel | None = None
    ) -> int:
        member = self.members[who if isinstance(who, int) else who.id]
        return perms.channel_permissions(self, member, channel)

    def member_role_ids(self, who: FakeMember | FakeUser | int) -> list[int]:
        return list(self.members[who if isinstance(who, int) else who.id].role_ids)

    # -- roles ---------------------------------------------------------------------------------

    def add_role(
        self,
        name: str,
        permissions: int = 0,
        position: int | None = None,
        *,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
    ) -> FakeRole:
        """Add a role; without `position` it sits just below the bot's role, which can manage it."""
        if position is None:
            position = (
                self.bot_role.position
                if self._has_bot_role()
                else max(r.position for r in self.roles.values()) + 1
            )
        return self._insert_role(
            FakeRole(
                self.fake.ids.next(), self.id, name, int(permissions), 0, color, hoist, mentionable
            ),
            max(1, position),
        )

    def _has_bot_role(self) -> bool:
        return any(r.bot_id for r in self.roles.values())

    def _insert_role(self, role: FakeRole, position: int) -> FakeRole:
        shifted = []
        for other in self.roles.values():
            if other.id != self.id and other.position >= position:
                other.position += 1
                shifted.append(other)
        role.position = position
        self.roles[role.id] = role
        self.fake.dispatch(
            "GUILD_ROLE_CREATE", {"guild_id": str(self.id), "role": role.payload()}, guild=self
        )
        for other in shifted:
            self._role_updated(other)
        return role

    def _role_updated(self, role: FakeRole) -> None:
        self.fake.dispatch(
            "GUILD_ROLE_UPDATE", {"guild_id": str(self.id), "role": role.payload()}, guild=self
        )

    def set_role_permissions(self, role: FakeRole, permissions: int) -> None:
        role.permissions = int(permissions)
        self._role_updated(role)

    def set_bot_permissions(self, permissions: int) -> None:
        """Change what the bot's own role grants (as an admin editing its integration role).

        The bot also holds @everyone's permissions (Discord's defaults include sending messages
        and creating threads); narrow `everyone_role` too to take those away.
        """
        self.set_role_permissions(self.bot_role, permissions)

    def move_role(self, role: FakeRole, position: int) -> None:
        role.position = position
        self._role_updated(role)

    # -- members -------------------------------------------------------------------------------

    def _add_member_quietly(
        self, user: FakeUser, roles: Iterable[FakeRole | int] = ()
    ) -> FakeMember:
        member = FakeMember(
            user, self, [r if isinstance(r, int) else r.id for r in roles], None, self.fake.now()
        )
        self.members[user.id] = member
        self.fake.users[user.id] = user
        return member

    def add_member(
        self,
        name: str | None = None,
        roles: Iterable[FakeRole | int] = (),
        *,
        bot: bool = False,
        nick: str | None = None,
        user: FakeUser | None = None,
        dms_closed: bool = False,
    ) -> FakeMember:
        """A person joins the server (GUILD_MEMBER_ADD if the bot is listening)."""
        if user is None:
            if name is None:
                raise ValueError("add_member needs a name or a user")
            user = self.fake.add_user(name, bot=bot, dms_closed=dms_closed)
        member = self._add_member_quietly(user, roles)
        member.nick = nick
        self.fake.dispatch(
            "GUILD_MEMBER_ADD", {"guild_id": str(self.id), **member.payload()}, guild=self
        )
        return member

    def remove_member(self, member: FakeMember | FakeUser) -> None:
        """A person leaves (GUILD_MEMBER_REMOVE)."""
        gone = self.members.pop(member.id)
        for channel in self.threads:
            channel.thread_members.pop(member.id, None)
        self.fake.dispatch(
            "GUILD_MEMBER_REMOVE",
            {"guild_id": str(self.id), "user": gone.user.payload()},
            guild=self,
        )

    def set_member_roles(self, member: FakeMember, roles: Iterable[FakeRole | int]) -> None:
        """An admin changes someone's roles by hand (GUILD_MEMBER_UPDATE)."""
        member.role_ids = [r if isinstance(r, int) else r.id for r in roles]
        self.member_updated(member)

    def member_updated(self, member: FakeMember) -> None:
        self.fake.dispatch(
            "GUILD_MEMBER_UPDATE", {"guild_id": str(self.id), **member.payload()}, guild=self
        )

    # -- channels ------------------------------------------------------------------------------

    def _overwrites(self, spec: OverwriteSpec | None) -> dict[int, Overwrite]:
        result: dict[int, Overwrite] = {}
        if spec is None:
            return result
        if isinstance(spec, Mapping):
            for target, value in spec.items():
                if isinstance(value, Overwrite):
                    result[value.id] = value
                    continue
                target_id = target if isinstance(target, int) else target.id
                kind = 0 if target_id in self.roles else 1
                allow, deny = value
                result[target_id] = Overwrite(target_id, kind, int(allow), int(deny))
        else:
            for ow in spec:
                result[ow.id] = ow
        return result

    def add_channel(
        self,
        name: str,
        type: int = TEXT,
        *,
        overwrites: OverwriteSpec | None = None,
        topic: str | None = None,
        category: FakeChannel | None = None,
        position: int | None = None,
    ) -> FakeChannel:
        if type == TEXT:
            name = normalize_text_channel_name(name)
        ows = self._overwrites(overwrites)
        if category is not None and overwrites is None:
            ows = {
                k: Overwrite(v.id, v.type, v.allow, v.deny) for k, v in category.overwrites.items()
            }
        if position is None:
            position = sum(1 for c in self.channels.values() if not c.is_thread)
        channel = FakeChannel(
            id=self.fake.ids.next(),
            type=type,
            name=name,
            guild_id=self.id,
            position=position,
            parent_id=category.id if category else None,
            topic=topic,
            overwrites=ows,
        )
        self.channels[channel.id] = channel
        self.fake.dispatch("CHANNEL_CREATE", channel.payload(), guild=self, channel=channel)
        return channel

    def add_text_channel(
        self,
        name: str,
        overwrites: OverwriteSpec | None = None,
        *,
        topic: str | None = None,
        category: FakeChannel | None = None,
    ) -> FakeChannel:
        """`overwrites` maps a role/member (or id) to (allow, deny) permission ints."""
        return self.add_channel(name, TEXT, overwrites=overwrites, topic=topic, category=category)

    def add_category(self, name: str, overwrites: OverwriteSpec | None = None) -> FakeChannel:
        return self.add_channel(name, CATEGORY, overwrites=overwrites)

    def add_thread(
        self,
        parent: FakeChannel,
        name: str,
        *,
        private: bool = False,
        owner: FakeMember | None = None,
        members: Iterable[FakeMember | FakeUser] = (),
        archived: bool = False,
    ) -> FakeChannel:
        """A thread a person opened; members listed here (and the owner) have joined it."""
        owner = owner or self.owner
        now = self.fake.now()
        thread = FakeChannel(
            id=self.fake.ids.next(),
            type=PRIVATE_THREAD if private else PUBLIC_THREAD,
            name=name,
            guild_id=self.id,
            parent_id=parent.id,
            owner_id=owner.id,
            created_at=now,
            archived=archived,
            invitable=not private,
        )
        thread.thread_members = {owner.id: now, **{m.id: now for m in members}}
        self.channels[thread.id] = thread
        self.thread_created(thread)
        return thread

    def thread_created(self, thread: FakeChannel) -> None:
        payload = thread.payload(me=self.fake.bot_user.id) | {"newly_created": True}
        self.fake.dispatch("THREAD_CREATE", payload, guild=self, channel=thread)

    def thread_updated(self, thread: FakeChannel) -> None:
        payload = thread.payload(me=self.fake.bot_user.id)
        self.fake.dispatch("THREAD_UPDATE", payload, guild=self, channel=thread)

    def delete_channel(self, channel: FakeChannel) -> None:
        """An admin deletes a channel or thread (CHANNEL_DELETE / THREAD_DELETE)."""
        self.fake.dispatch(
            "THREAD_DELETE" if channel.is_thread else "CHANNEL_DELETE",
            channel.payload()
            if not channel.is_thread
            else {
                "id": str(channel.id),
                "guild_id": str(self.id),
                "parent_id": str(channel.parent_id),
                "type": channel.type,
            },
            guild=self,
            channel=channel,
        )
        self.channels.pop(channel.id, None)
        if not channel.is_thread:
            for thread in [t for t in self.threads if t.parent_id == channel.id]:
                self.channels.pop(thread.id, None)

    def channel_updated(self, channel: FakeChannel) -> None:
        if channel.is_thread:
            self.thread_updated(channel)
        else:
            self.fake.dispatch("CHANNEL_UPDATE", channel.payload(), guild=self, channel=channel)

    def set_preferred_locale(self, locale: str) -> None:
        """An owner changes the server's language (GUILD_UPDATE)."""
        self.preferred_locale = locale
        self.fake.dispatch("GUILD_UPDATE", self.payload(), guild=self)

    # -- payloads ------------------------------------------------------------------------------

    def payload(self, *, full: bool = False, bot_id: int | None = None) -> dict[str, Any]:
        """REST shape; `full=True` adds what GUILD_CREATE carries (channels, threads, members)."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "roles": [r.payload() for r in sorted(self.roles.values(), key=lambda r: r.position)],
            "emojis": [],
            "stickers": [],
            "features": [],
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.preferred_locale,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "vanity_url_code": None,
            "premium_progress_bar_enabled": False,
        }
        if not full:
            return data
        me = bot_id if bot_id is not None else self.fake.bot_user.id
        bot_member = self.members.get(me)
        visible_threads = [
            t
            for t in self.threads
            if not t.archived and bot_member is not None and self.permissions_for(bot_member, t)
        ]
        data.update(
            unavailable=False,
            large=False,
            member_count=len(self.members),
            joined_at=iso(bot_member.joined_at if bot_member else None),
            channels=[c.payload() for c in self.channels.values() if not c.is_thread],
            threads=[t.payload(me=me) for t in visible_threads],
            # Without the presences intent Discord only sends the bot itself here; the rest
            # arrive through member chunking (REQUEST_GUILD_MEMBERS), as discord.py expects.
            members=[bot_member.payload()] if bot_member else [],
            presences=[],
            voice_states=[],
            stage_instances=[],
            guild_scheduled_events=[
                e.payload(self.fake.users.get(e.creator_id)) for e in self.scheduled_events.values()
            ],
            soundboard_sounds=[],
        )
        return data

    def __repr__(self) -> str:
        return f"<FakeGuild {self.name!r} id={self.id}>"
