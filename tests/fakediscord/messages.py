"""Creating, editing and serialising messages, shared by channel routes and interaction webhooks.

Attachment bytes are kept (and served back under /attachments/...) so a test can open the .ics or
PNG the bot sent, and `Attachment.read()` in the bot works too.
"""

from __future__ import annotations

import json
import mimetypes
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import BodyPartReader, web

from .errors import CANNOT_SEND_EMPTY, ApiError, invalid
from .models import (
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FakeAttachment,
    FakeChannel,
    FakeMessage,
    FakeUser,
    iso,
)
from .permissions import Perm
from .validation import COMPONENTS_V2, validate_message

if TYPE_CHECKING:
    from .server import FakeDiscord

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
_SETTABLE_FLAGS = (1 << 2) | (1 << 12) | COMPONENTS_V2  # suppress embeds/notifications, v2
_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


@dataclass
class Upload:
    index: int
    filename: str
    data: bytes
    content_type: str | None = None


_PARSED_BODY: web.RequestKey[tuple[dict[str, Any], list[Upload]]] = web.RequestKey("body")


async def read_body(request: web.Request) -> tuple[dict[str, Any], list[Upload]]:
    """JSON body or multipart (payload_json + files[n]), as discord.py sends messages with files.

    Parsed once per request: the spec check in the server reads it before the route handler.
    """
    parsed: tuple[dict[str, Any], list[Upload]] | None = request.get(_PARSED_BODY)
    if parsed is None:
        parsed = request[_PARSED_BODY] = await _parse_body(request)
    return parsed


def replace_body(request: web.Request, body: dict[str, Any], uploads: list[Upload]) -> None:
    """What every later reader of this request (the spec check, the route) sees instead: for
    `FakeDiscord.bot_body_hook`, which may rewrite what the bot sent."""
    request[_PARSED_BODY] = (body, uploads)


async def _parse_body(request: web.Request) -> tuple[dict[str, Any], list[Upload]]:
    if request.content_type.startswith("multipart/"):
        body: dict[str, Any] = {}
        uploads: list[Upload] = []
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            name = part.name or ""
            if name == "payload_json":
                body = json.loads(await part.text())
            elif name.startswith("files["):
                data = bytes(await part.read(decode=False))
                uploads.append(Upload(int(name[6:-1]), part.filename or "file", data))
        return body, uploads
    if not request.body_exists:
        return {}, []
    return await request.json(), []


def new_attachment(
    fake: FakeDiscord, channel_id: int, filename: str, data: bytes, description: str | None = None
) -> FakeAttachment:
    if len(data) > ATTACHMENT_SIZE_LIMIT:
        raise ApiError(413, 40005, "Request entity too large")
    att_id = fake.ids.next()
    attachment = FakeAttachment(
        id=att_id,
        filename=filename,
        data=data,
        url=f"{fake.cdn_base}/attachments/{channel_id}/{att_id}/{quote(filename)}",
        content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
        description=description,
    )
    fake.attachments[att_id] = attachment
    return attachment


def build_attachments(
    fake: FakeDiscord,
    channel_id: int,
    body: dict[str, Any],
    uploads: list[Upload],
    existing: list[FakeAttachment],
) -> list[FakeAttachment] | None:
    """The message's new attachment list, or None if the request leaves attachments alone."""
    spec = body.get("attachments")
    if spec is None and not uploads:
        return None
    by_index = {u.index: u for u in uploads}
    kept = {a.id: a for a in existing}
    result: list[FakeAttachment] = []
    used: set[int] = set()
    for i, item in enumerate(spec or []):
        raw_id = int(item["id"])
        if raw_id in kept:
            result.append(kept[raw_id])
            continue
        upload = by_index.get(raw_id)
        if upload is None:
            raise invalid(f"attachments.{i}.id", "Unknown attachment id")
        used.add(raw_id)
        filename = item.get("filename") or upload.filename
        result.append(
            new_attachment(fake, channel_id, filename, upload.data, item.get("description"))
        )
    for upload in uploads:
        if upload.index not in used:
            result.append(new_attachment(fake, channel_id, upload.filename, upload.data))
    return result


def _mentions(
    fake: FakeDiscord, channel: FakeChannel, author: FakeUser, body: dict[str, Any]
) -> tuple[list[int], list[int], bool]:
    content = body.get("content") or ""
    allowed = body.get("allowed_mentions")
    parse = set(allowed.get("parse", [])) if allowed is not None else {"users", "roles", "everyone"}
    explicit_users = {int(u) for u in (allowed or {}).get("users", [])}
    explicit_roles = {int(r) for r in (allowed or {}).get("roles", [])}
    guild = fake.guild_of(channel)
    users = []
    for raw in dict.fromkeys(_USER_MENTION.findall(content)):
        uid = int(raw)
        if uid in fake.users and ("users" in parse or uid in explicit_users):
            users.append(uid)
    roles = []
    if guild is not None:
        for raw in dict.fromkeys(_ROLE_MENTION.findall(content)):
            rid = int(raw)
            if rid in guild.roles and ("roles" in parse or rid in explicit_roles):
                roles.append(rid)
    everyone = False
    if guild is not None and ("@everyone" in content or "@here" in content) and "everyone" in parse:
        member = guild.members.get(author.id)
        everyone = member is not None and bool(
            guild.permissions_for(member, channel) & Perm.MENTION_EVERYONE
        )
    return users, roles, everyone


def create_message(
    fake: FakeDiscord,
    channel: FakeChannel,
    author: FakeUser,
    body: dict[str, Any],
    uploads: list[Upload],
    *,
    webhook_id: int | None = None,
    interaction_id: int | None = None,
    interaction_metadata: dict[str, Any] | None = None,
    message_type: int = 0,
    visible_to: int | None = None,
    loading: bool = False,
) -> FakeMessage:
    """Store a new message and tell the bot (MESSAGE_CREATE) unless only one user can see it."""
    validate_message(body, len(uploads), creating=not loading)
    flags = int(body.get("flags") or 0) & (_SETTABLE_FLAGS | (FLAG_EPHEMERAL if visible_to else 0))
    if loading:
        flags |= FLAG_LOADING
    users, roles, everyone = _mentions(fake, channel, author, body)
    message = FakeMessage(
        id=fake.ids.next(),
        channel_id=channel.id,
        guild_id=channel.guild_id,
        author=author,
        content=body.get("content") or "",
        embeds=list(body.get("embeds") or []),
        components=list(body.get("components") or []),
        flags=flags,
        type=message_type,
        timestamp=fake.now(),
        tts=bool(body.get("tts")),
        mention_ids=users,
        mention_role_ids=roles,
        mention_everyone=everyone,
        webhook_id=webhook_id,
        interaction_id=interaction_id,
        interaction_metadata=interaction_metadata,
        nonce=body.get("nonce"),
    )
    ref = body.get("message_reference")
    if ref:
        target = fake.messages.get(int(ref.get("message_id", 0)))
        if (target is None or target.deleted) and ref.get("fail_if_not_exists", True):
            raise invalid("message_reference", "Unknown message", "REPLIES_UNKNOWN_MESSAGE")
        message.message_reference = {
            "type": 0,
            "message_id": str(ref.get("message_id")),
            "channel_id": str(ref.get("channel_id") or channel.id),
            **({"guild_id": str(channel.guild_id)} if channel.guild_id else {}),
        }
        if message_type == 0:
            message.type = 19
    message.attachments = build_attachments(fake, channel.id, body, uploads, []) or []
    if message.ephemeral:
        message.visible_to = visible_to
    fake.store_message(message)
    if not message.ephemeral:
        fake.dispatch(
            "MESSAGE_CREATE",
            message_payload(fake, message),
            guild=fake.guild_of(channel),
            channel=channel,
        )
    return message


def edit_message(
    fake: FakeDiscord, message: FakeMessage, body: dict[str, Any], uploads: list[Upload]
) -> FakeMessage:
    """Apply a PATCH; a deferred 'thinking' message stops loading once it is edited."""
    validate_message(body, len(uploads), creating=False)
    if "content" in body:
        message.content = body["content"] or ""
    if "embeds" in body:
        message.embeds = list(body["embeds"] or [])
    if "components" in body:
        message.components = list(body["components"] or [])
    if "flags" in body and body["flags"] is not None:
        keep = message.flags & ~_SETTABLE_FLAGS
        message.flags = keep | (int(body["flags"]) & _SETTABLE_FLAGS)
    if "allowed_mentions" in body or "content" in body:
        channel = fake.channel(message.channel_id)
        assert channel is not None
        merged = {"content": message.content, "allowed_mentions": body.get("allowed_mentions")}
        if merged["allowed_mentions"] is None:
            merged.pop("allowed_mentions")
        message.mention_ids, message.mention_role_ids, message.mention_everyone = _mentions(
            fake, channel, message.author, merged
        )
    attachments = build_attachments(fake, message.channel_id, body, uploads, message.attachments)
    if attachments is not None:
        message.attachments = attachments
    was_loading = message.loading
    message.flags &= ~FLAG_LOADING
    if not (message.content or message.embeds or message.attachments or message.components):
        raise ApiError(400, CANNOT_SEND_EMPTY, "Cannot send an empty message")
    if not was_loading:
        message.edited_timestamp = fake.now()
    fake.notify()
    if not message.ephemeral:
        channel = fake.channel(message.channel_id)
        guild = fake.guild_of(channel) if channel else None
        fake.dispatch(
            "MESSAGE_UPDATE", message_payload(fake, message), guild=guild, channel=channel
        )
    return message


def delete_message(fake: FakeDiscord, message: FakeMessage) -> None:
    message.deleted = True
    fake.notify()
    if message.ephemeral:
        return
    channel = fake.channel(message.channel_id)
    data: dict[str, Any] = {"id": str(message.id), "channel_id": str(message.channel_id)}
    if message.guild_id:
        data["guild_id"] = str(message.guild_id)
    guild = fake.guild_of(channel) if channel else None
    fake.dispatch("MESSAGE_DELETE", data, guild=guild, channel=channel)


def message_payload(fake: FakeDiscord, message: FakeMessage) -> dict[str, Any]:
    guild = fake.guilds.get(message.guild_id) if message.guild_id else None
    mentions = []
    for uid in message.mention_ids:
        user = fake.users[uid]
        entry = user.payload()
        member = guild.members.get(uid) if guild else None
        if member is not None:
            entry["member"] = member.payload(with_user=False)
        mentions.append(entry)
    data: dict[str, Any] = {
        "id": str(message.id),
        "channel_id": str(message.channel_id),
        "author": message.author.payload(),
        "content": message.content,
        "timestamp": iso(message.timestamp),
        "edited_timestamp": iso(message.edited_timestamp),
        "tts": message.tts,
        "mention_everyone": message.mention_everyone,
        "mentions": mentions,
        "mention_roles": [str(r) for r in message.mention_role_ids],
        "attachments": [a.payload() for a in message.attachments],
        "embeds": message.embeds,
        "components": message.components,
        "reactions": [],
        "pinned": message.pinned,
        "type": message.type,
        "flags": message.flags,
    }
    if guild is not None:
        data["guild_id"] = str(guild.id)
        member = guild.members.get(message.author.id)
        if member is not None and message.webhook_id is None:
            data["member"] = member.payload(with_user=False)
    if message.webhook_id is not None:
        data["webhook_id"] = str(message.webhook_id)
        data["application_id"] = str(fake.application_id)
    if message.interaction_metadata is not None:
        meta = message.interaction_metadata
        data["interaction_metadata"] = meta
        if "name" in meta:
            data["interaction"] = {
                "id": meta["id"],
                "type": meta["type"],
                "name": meta["name"],
                "user": meta["user"],
            }
    if message.message_reference is not None:
        data["message_reference"] = message.message_reference
        target = fake.messages.get(int(message.message_reference["message_id"]))
        if target is not None and not target.deleted:
            data["referenced_message"] = {
                k: v for k, v in message_payload(fake, target).items() if k != "referenced_message"
            }
    if message.nonce is not None:
        data["nonce"] = message.nonce
    thread = fake.channel(message.thread_id) if message.thread_id else None
    if thread is not None:
        data["thread"] = thread.payload()
    return data


def strip_content(
    fake: FakeDiscord, payload: dict[str, Any], message: FakeMessage
) -> dict[str, Any]:
    """REST reads without the message-content privilege see no content (except own/DM/mentions)."""
    if fake.privileged["message_content"]:
        return payload
    bot_id = fake.bot_user.id
    if message.author.id == bot_id or message.guild_id is None or bot_id in message.mention_ids:
        return payload
    return payload | {"content": "", "embeds": [], "attachments": [], "components": []}
