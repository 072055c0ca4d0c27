"""Shared helpers for REST handlers: find things by URL parameter and check the bot's rights."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import permissions as perms
from .errors import (
    MISSING_ACCESS,
    UNKNOWN_CHANNEL,
    UNKNOWN_GUILD,
    UNKNOWN_MEMBER,
    UNKNOWN_MESSAGE,
    UNKNOWN_ROLE,
    ApiError,
    forbidden,
    invalid,
    not_found,
)

if TYPE_CHECKING:
    from .guild import FakeGuild
    from .models import FakeChannel, FakeMember, FakeMessage, FakeRole
    from .server import FakeDiscord

FAKE_KEY: web.AppKey[FakeDiscord] = web.AppKey("fakediscord")


def fake_of(request: web.Request) -> FakeDiscord:
    return request.app[FAKE_KEY]


def snowflake(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if raw == "@me":
        return fake_of(request).bot_user.id
    try:
        return int(raw)
    except ValueError:
        raise invalid(name, f'Value "{raw}" is not snowflake.', "NUMBER_TYPE_COERCE") from None


def guild_from(request: web.Request) -> FakeGuild:
    fake = fake_of(request)
    guild = fake.guilds.get(snowflake(request, "guild_id"))
    if guild is None or not guild.bot_present:
        raise not_found(UNKNOWN_GUILD, "Guild")
    return guild


def channel_from(request: web.Request) -> FakeChannel:
    fake = fake_of(request)
    channel = fake.channel(snowflake(request, "channel_id"))
    if channel is None:
        raise not_found(UNKNOWN_CHANNEL, "Channel")
    guild = fake.guild_of(channel)
    if guild is not None and not guild.bot_present:
        raise forbidden(MISSING_ACCESS, "Missing Access")
    return channel


def message_in(request: web.Request, channel: FakeChannel) -> FakeMessage:
    message = fake_of(request).messages.get(snowflake(request, "message_id"))
    if message is None or message.deleted or message.ephemeral or message.channel_id != channel.id:
        raise not_found(UNKNOWN_MESSAGE, "Message")
    return message


def member_in(request: web.Request, guild: FakeGuild, key: str = "user_id") -> FakeMember:
    member = guild.members.get(snowflake(request, key))
    if member is None:
        raise not_found(UNKNOWN_MEMBER, "Member")
    return member


def role_in(request: web.Request, guild: FakeGuild) -> FakeRole:
    role = guild.roles.get(snowflake(request, "role_id"))
    if role is None:
        raise not_found(UNKNOWN_ROLE, "Role")
    return role


def bot_channel_perms(fake: FakeDiscord, channel: FakeChannel) -> int:
    if channel.is_dm:
        return perms.ALL
    guild = fake.guild_of(channel)
    assert guild is not None
    return guild.permissions_for(fake.bot_user, channel)


def require(
    fake: FakeDiscord,
    needed: int,
    *,
    channel: FakeChannel | None = None,
    guild: FakeGuild | None = None,
    any_of: bool = False,
) -> int:
    """The bot's permissions (channel-level if a channel is given); 403 as Discord if lacking.

    Without VIEW_CHANNEL Discord answers 50001 Missing Access rather than 50013. Each refusal is
    recorded in `fake.denials` with the missing permission names, since Discord's own message
    does not say which one was missing.
    """
    if channel is not None and channel.is_dm:
        return perms.ALL
    if guild is None:
        assert channel is not None
        guild = fake.guild_of(channel)
    assert guild is not None
    current = guild.permissions_for(fake.bot_user, channel)
    if channel is not None and not current & perms.Perm.VIEW_CHANNEL:
        fake.denials.append(f"VIEW_CHANNEL in #{channel.name}")
        raise forbidden(MISSING_ACCESS, "Missing Access")
    ok = bool(current & needed) if any_of else perms.has(current, needed)
    if not ok:
        where = f" in #{channel.name}" if channel is not None else f" in {guild.name}"
        fake.denials.append(perms.names(needed & ~current) + where)
        raise forbidden()
    return current


def deny(fake: FakeDiscord, reason: str) -> ApiError:
    """A 50013 for rules beyond plain flags (role hierarchy, granting what the bot lacks)."""
    fake.denials.append(reason)
    return forbidden()


async def json_body(request: web.Request) -> dict[str, Any]:
    from .messages import read_body  # messages imports this module

    data = (await read_body(request))[0]
    return data if isinstance(data, dict) else {"_list": data}
