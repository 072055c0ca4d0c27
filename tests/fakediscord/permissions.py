"""Permission arithmetic as Discord does it, so a missing grant fails here as in production.

Order (Discord's documented algorithm): guild owner and ADMINISTRATOR get everything; otherwise
@everyone's permissions OR every role's; then channel overwrites for @everyone, the member's roles
(denies then allows, aggregated) and finally the member. Without VIEW_CHANNEL a member has no
permission in the channel at all. Threads take their parent's permissions; a private thread is only
visible to its members and to those with MANAGE_THREADS.
"""

from __future__ import annotations

from enum import IntFlag
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .guild import FakeGuild
    from .models import FakeChannel, FakeMember


class Perm(IntFlag):
    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_AUDIT_LOG = 1 << 7
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    SEND_TTS_MESSAGES = 1 << 12
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CONNECT = 1 << 20
    SPEAK = 1 << 21
    CHANGE_NICKNAME = 1 << 26
    MANAGE_NICKNAMES = 1 << 27
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_EVENTS = 1 << 33
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38
    MODERATE_MEMBERS = 1 << 40
    CREATE_EVENTS = 1 << 44
    PIN_MESSAGES = 1 << 51


ALL = (1 << 52) - 1

# Discord's defaults for @everyone in a new server (the parts that matter to a text bot).
DEFAULT_EVERYONE = (
    Perm.VIEW_CHANNEL
    | Perm.CREATE_INSTANT_INVITE
    | Perm.CHANGE_NICKNAME
    | Perm.SEND_MESSAGES
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.CREATE_PRIVATE_THREADS
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.ADD_REACTIONS
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.READ_MESSAGE_HISTORY
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.CONNECT
    | Perm.SPEAK
)

# What an operator typically grants Hearth in the invite link: enough to run groups, not admin.
DEFAULT_BOT = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS
    | Perm.MANAGE_ROLES
    | Perm.MANAGE_CHANNELS
    | Perm.MANAGE_MESSAGES
    | Perm.PIN_MESSAGES
    | Perm.MANAGE_THREADS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.CREATE_PRIVATE_THREADS
    | Perm.MANAGE_EVENTS
    | Perm.CREATE_EVENTS
    | Perm.USE_APPLICATION_COMMANDS
)


def has(perms: int, needed: int) -> bool:
    return perms & needed == needed


def base_permissions(guild: FakeGuild, member: FakeMember) -> int:
    if member.id == guild.owner_id:
        return ALL
    perms = guild.everyone_role.permissions
    for role_id in member.role_ids:
        role = guild.roles.get(role_id)
        if role is not None:
            perms |= role.permissions
    return ALL if perms & Perm.ADMINISTRATOR else perms


def _apply_overwrites(
    guild: FakeGuild, member: FakeMember, channel: FakeChannel, perms: int
) -> int:
    overwrites = channel.overwrites
    everyone = overwrites.get(guild.id)
    if everyone is not None:
        perms = (perms & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for role_id in member.role_ids:
        ow = overwrites.get(role_id)
        if ow is not None and ow.type == 0:
            allow |= ow.allow
            deny |= ow.deny
    perms = (perms & ~deny) | allow
    own = overwrites.get(member.id)
    if own is not None and own.type == 1:
        perms = (perms & ~own.deny) | own.allow
    return perms


def channel_permissions(guild: FakeGuild, member: FakeMember, channel: FakeChannel | None) -> int:
    perms = base_permissions(guild, member)
    if perms == ALL or channel is None:
        return perms
    target = channel
    if channel.is_thread:
        parent = guild.channels.get(channel.parent_id or 0)
        if parent is None:
            return 0
        target = parent
    perms = _apply_overwrites(guild, member, target, perms)
    if not perms & Perm.VIEW_CHANNEL:
        return 0
    if channel.is_thread:
        if (
            channel.is_private_thread
            and member.id not in channel.thread_members
            and not perms & Perm.MANAGE_THREADS
        ):
            return 0
    elif not perms & Perm.SEND_MESSAGES:
        perms &= ~(Perm.SEND_TTS_MESSAGES | Perm.MENTION_EVERYONE | Perm.EMBED_LINKS)
        perms &= ~Perm.ATTACH_FILES
    return perms


def top_position(guild: FakeGuild, member: FakeMember) -> int:
    """The member's highest role position; the owner outranks everything."""
    if member.id == guild.owner_id:
        return 1 << 30
    positions = [guild.roles[r].position for r in member.role_ids if r in guild.roles]
    return max(positions, default=0)


def names(perms: int) -> str:
    """Readable list for error messages, e.g. 'MANAGE_ROLES|SEND_MESSAGES'."""
    return "|".join(p.name or "?" for p in Perm if perms & p) or "none"
