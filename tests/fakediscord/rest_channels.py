"""REST routes under /channels: the channel itself, messages, pins and permission overwrites."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import context as ctx
from .errors import (
    CANNOT_DM_USER,
    CANNOT_EDIT_OTHERS_MESSAGE,
    MAX_PINS,
    ApiError,
    forbidden,
    invalid,
)
from .guild import normalize_text_channel_name
from .messages import (
    create_message,
    delete_message,
    edit_message,
    message_payload,
    read_body,
    strip_content,
)
from .models import (
    CATEGORY,
    TEXT,
    FakeChannel,
    Overwrite,
)
from .permissions import Perm

if TYPE_CHECKING:
    from .models import FakeMessage
    from .server import FakeDiscord

routes = web.RouteTableDef()
MAX_NONCE = 25
NONCE_WINDOW = timedelta(minutes=2)  # "the past few minutes": the short end, to be safe
API = "/api/v10"
WRONG_CHANNEL_TYPE = ApiError(400, 50024, "Cannot execute action on this channel type")


def _no_content() -> web.Response:
    return web.Response(status=204)


def _channel_allowing(
    request: web.Request, needed: int, *, any_of: bool = False
) -> tuple[Any, FakeChannel, int]:
    """The route's channel once the bot is known to hold `needed` there (403 as Discord
    otherwise): the fake, the channel and the bot's permissions in it."""
    fake = ctx.fake_of(request)
    channel = ctx.channel_from(request)
    return fake, channel, ctx.require(fake, needed, channel=channel, any_of=any_of)


def _channel_changed(fake: Any, channel: FakeChannel) -> web.Response:
    """A guild channel's settings changed: CHANNEL_UPDATE, and 204."""
    guild = fake.guild_of(channel)
    assert guild is not None
    guild.channel_updated(channel)
    return _no_content()


@routes.get(API + "/channels/{channel_id}")
async def get_channel(request: web.Request) -> web.Response:
    fake, channel, _ = _channel_allowing(request, 0)
    return web.json_response(channel.payload(me=fake.bot_user.id))


def check_overwrites(
    fake: Any, channel_or_guild_perms: int, overwrites: list[dict[str, Any]]
) -> None:
    """Discord only lets a bot allow/deny permissions it has itself (admins excepted)."""
    for i, ow in enumerate(overwrites):
        wanted = int(ow.get("allow", 0)) | int(ow.get("deny", 0))
        if wanted & ~channel_or_guild_perms:
            raise ctx.deny(fake, f"overwrite {i} sets permissions the bot lacks")


def _parse_overwrites(raw: list[dict[str, Any]]) -> dict[int, Overwrite]:
    return {
        int(o["id"]): Overwrite(
            int(o["id"]), int(o.get("type", 0)), int(o.get("allow", 0)), int(o.get("deny", 0))
        )
        for o in raw
    }


@routes.patch(API + "/channels/{channel_id}")
async def edit_channel(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    channel = ctx.channel_from(request)
    body = await ctx.json_body(request)
    guild = fake.guild_of(channel)
    if guild is None:
        raise WRONG_CHANNEL_TYPE
    if channel.is_thread:
        current = ctx.require(fake, 0, channel=channel)
        moderator = bool(current & Perm.MANAGE_THREADS)
        own = channel.owner_id == fake.bot_user.id
        if ("locked" in body or "invitable" in body or not own) and not moderator:
            raise ctx.deny(fake, f"MANAGE_THREADS to edit thread {channel.name}")
        if channel.locked and body.get("archived") is False and not moderator:
            raise ctx.deny(fake, "MANAGE_THREADS to unarchive a locked thread")
        for key in ("name", "locked", "invitable", "auto_archive_duration", "rate_limit_per_user"):
            if key in body:
                setattr(channel, key, body[key])
        if "archived" in body:
            channel.archived = bool(body["archived"])
            channel.archive_timestamp = fake.now()
    else:
        current = ctx.require(fake, Perm.MANAGE_CHANNELS, channel=channel)
        if "permission_overwrites" in body:
            ctx.require(fake, Perm.MANAGE_ROLES, channel=channel)
            check_overwrites(fake, current, body["permission_overwrites"])
            channel.overwrites = _parse_overwrites(body["permission_overwrites"])
        if "name" in body:
            name = body["name"]
            channel.name = normalize_text_channel_name(name) if channel.type == TEXT else name
        for key in ("topic", "nsfw", "rate_limit_per_user", "position"):
            if key in body:
                setattr(channel, key, body[key])
        if "parent_id" in body:
            channel.parent_id = int(body["parent_id"]) if body["parent_id"] else None
    guild.channel_updated(channel)
    return web.json_response(channel.payload(me=fake.bot_user.id))


@routes.delete(API + "/channels/{channel_id}")
async def delete_channel(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    channel = ctx.channel_from(request)
    guild = fake.guild_of(channel)
    if guild is None:
        return web.json_response(channel.payload())
    ctx.require(
        fake, Perm.MANAGE_THREADS if channel.is_thread else Perm.MANAGE_CHANNELS, channel=channel
    )
    payload = channel.payload()
    guild.delete_channel(channel)
    return web.json_response(payload)


@routes.put(API + "/channels/{channel_id}/permissions/{target_id}")
async def put_overwrite(request: web.Request) -> web.Response:
    fake, channel, current = _channel_allowing(request, Perm.MANAGE_ROLES)
    body = await ctx.json_body(request)
    target = ctx.snowflake(request, "target_id")
    check_overwrites(fake, current, [body])
    channel.overwrites[target] = Overwrite(
        target, int(body.get("type", 0)), int(body.get("allow", 0)), int(body.get("deny", 0))
    )
    return _channel_changed(fake, channel)


@routes.delete(API + "/channels/{channel_id}/permissions/{target_id}")
async def delete_overwrite(request: web.Request) -> web.Response:
    fake, channel, _ = _channel_allowing(request, Perm.MANAGE_ROLES)
    channel.overwrites.pop(ctx.snowflake(request, "target_id"), None)
    return _channel_changed(fake, channel)


@routes.post(API + "/channels/{channel_id}/typing")
async def typing(request: web.Request) -> web.Response:
    channel = ctx.channel_from(request)
    needed = Perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else Perm.SEND_MESSAGES
    ctx.require(ctx.fake_of(request), needed, channel=channel)
    return _no_content()


# -- messages ----------------------------------------------------------------------------------


@routes.get(API + "/channels/{channel_id}/messages")
async def list_messages(request: web.Request) -> web.Response:
    fake, channel, _ = _channel_allowing(request, Perm.READ_MESSAGE_HISTORY)
    limit = min(int(request.query.get("limit", 50)), 100)
    found = fake.channel_messages(channel)
    if "before" in request.query:
        found = [m for m in found if m.id < int(request.query["before"])]
    if "after" in request.query:
        found = [m for m in found if m.id > int(request.query["after"])]
        found = found[:limit]
    if "around" in request.query:
        pivot = int(request.query["around"])
        older = [m for m in found if m.id <= pivot][-(limit // 2 + limit % 2) :]
        newer = [m for m in found if m.id > pivot][: limit // 2]
        found = older + newer
    found = list(reversed(found))[:limit]
    return web.json_response([strip_content(fake, message_payload(fake, m), m) for m in found])


@routes.post(API + "/channels/{channel_id}/messages")
async def send_message(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    channel = ctx.channel_from(request)
    body, uploads = await read_body(request)
    if channel.is_dm:
        user = channel.recipients[0]
        mutual = any(user.id in g.members and g.bot_present for g in fake.guilds.values())
        if user.dms_closed or not mutual:
            raise forbidden(CANNOT_DM_USER, "Cannot send messages to this user")
    elif channel.type in (CATEGORY,):
        raise WRONG_CHANNEL_TYPE
    else:
        needed = Perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else Perm.SEND_MESSAGES
        if uploads:
            needed |= Perm.ATTACH_FILES
        current = ctx.require(fake, needed, channel=channel)
        if channel.is_thread and channel.archived:
            if channel.locked and not current & Perm.MANAGE_THREADS:
                raise ctx.deny(fake, f"thread {channel.name} is locked")
            channel.archived = False
            guild = fake.guild_of(channel)
            assert guild is not None
            guild.thread_updated(channel)
        if body.get("embeds") and not current & Perm.EMBED_LINKS:
            fake.denials.append(f"EMBED_LINKS in #{channel.name} (embeds silently dropped)")
            body = body | {"embeds": []}
    earlier = _same_nonce(fake, body)
    if earlier is not None:
        return web.json_response(message_payload(fake, earlier))
    message = create_message(fake, channel, fake.bot_user, body, uploads)
    if body.get("enforce_nonce") and body.get("nonce") is not None:
        fake.nonces[(fake.bot_user.id, str(body["nonce"]))] = (message.id, message.timestamp)
    return web.json_response(message_payload(fake, message))


def _same_nonce(fake: FakeDiscord, body: dict[str, Any]) -> FakeMessage | None:
    """Discord: with `enforce_nonce` "it will be checked for uniqueness in the past few minutes.
    If another message was created by the same author with the same nonce, that message will be
    returned and no new message will be created." A nonce is at most 25 characters."""
    nonce = body.get("nonce")
    if nonce is None:
        return None
    if len(str(nonce)) > MAX_NONCE:
        raise invalid("nonce", f"Must be {MAX_NONCE} or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    if not body.get("enforce_nonce"):
        return None
    seen = fake.nonces.get((fake.bot_user.id, str(nonce)))
    if seen is None or fake.now() - seen[1] > NONCE_WINDOW:
        return None
    earlier = fake.message(seen[0])
    if earlier is not None:
        fake.nonce_repeats += 1
    return earlier


@routes.get(API + "/channels/{channel_id}/messages/pins")
async def list_pins(request: web.Request) -> web.Response:
    fake, channel, _ = _channel_allowing(request, Perm.READ_MESSAGE_HISTORY)
    limit = int(request.query.get("limit", 50))
    pins = fake.pins(channel)
    if "before" in request.query:
        before = request.query["before"]
        pins = [m for m in pins if m.pinned_at is not None and m.pinned_at.isoformat() < before]
    items = [
        {
            "pinned_at": m.pinned_at.isoformat() if m.pinned_at else None,
            "message": message_payload(fake, m),
        }
        for m in pins[:limit]
    ]
    return web.json_response({"items": items, "has_more": len(pins) > limit})


@routes.get(API + "/channels/{channel_id}/pins")
async def list_pins_legacy(request: web.Request) -> web.Response:
    fake, channel, _ = _channel_allowing(request, Perm.READ_MESSAGE_HISTORY)
    return web.json_response([message_payload(fake, m) for m in fake.pins(channel)])


async def _set_pin(request: web.Request, pinned: bool) -> web.Response:
    fake, channel, _ = _channel_allowing(
        request, Perm.PIN_MESSAGES | Perm.MANAGE_MESSAGES, any_of=True
    )
    message = ctx.message_in(request, channel)
    if pinned and not message.pinned and len(fake.pins(channel)) >= 50:
        raise ApiError(400, MAX_PINS, "Maximum number of pins reached (50)")
    if message.pinned == pinned:
        return _no_content()
    message.pinned = pinned
    message.pinned_at = fake.now() if pinned else None
    guild = fake.guild_of(channel)
    fake.dispatch("MESSAGE_UPDATE", message_payload(fake, message), guild=guild, channel=channel)
    latest = fake.pins(channel)
    data: dict[str, Any] = {
        "channel_id": str(channel.id),
        "last_pin_timestamp": latest[0].pinned_at.isoformat()
        if latest and latest[0].pinned_at
        else None,
    }
    if guild is not None:
        data["guild_id"] = str(guild.id)
    fake.dispatch("CHANNEL_PINS_UPDATE", data, guild=guild, channel=channel)
    return _no_content()


@routes.put(API + "/channels/{channel_id}/messages/pins/{message_id}")
@routes.put(API + "/channels/{channel_id}/pins/{message_id}")
async def pin(request: web.Request) -> web.Response:
    return await _set_pin(request, True)


@routes.delete(API + "/channels/{channel_id}/messages/pins/{message_id}")
@routes.delete(API + "/channels/{channel_id}/pins/{message_id}")
async def unpin(request: web.Request) -> web.Response:
    return await _set_pin(request, False)


@routes.get(API + "/channels/{channel_id}/messages/{message_id}")
async def get_message(request: web.Request) -> web.Response:
    fake, channel, _ = _channel_allowing(request, Perm.READ_MESSAGE_HISTORY)
    message = ctx.message_in(request, channel)
    return web.json_response(strip_content(fake, message_payload(fake, message), message))


@routes.patch(API + "/channels/{channel_id}/messages/{message_id}")
async def patch_message(request: web.Request) -> web.Response:
    fake, channel, _ = _channel_allowing(request, 0)
    message = ctx.message_in(request, channel)
    body, uploads = await read_body(request)
    if message.author.id != fake.bot_user.id:
        raise forbidden(
            CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit a message authored by another user"
        )
    edit_message(fake, message, body, uploads)
    return web.json_response(message_payload(fake, message))


@routes.delete(API + "/channels/{channel_id}/messages/{message_id}")
async def remove_message(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    channel = ctx.channel_from(request)
    message = ctx.message_in(request, channel)
    if message.author.id != fake.bot_user.id:
        ctx.require(fake, Perm.MANAGE_MESSAGES, channel=channel)
    delete_message(fake, message)
    return _no_content()
