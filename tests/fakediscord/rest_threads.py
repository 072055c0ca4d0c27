"""REST routes for threads: creating them (from a message or not), editing and thread members."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import context as ctx
from .errors import THREAD_ARCHIVED, ApiError, invalid
from .models import ANNOUNCEMENT, FLAG_HAS_THREAD, PRIVATE_THREAD, PUBLIC_THREAD, TEXT, FakeChannel
from .permissions import Perm
from .rest_channels import WRONG_CHANNEL_TYPE

routes = web.RouteTableDef()
API = "/api/v10"


# -- threads -----------------------------------------------------------------------------------


def _new_thread(
    fake: Any, parent: FakeChannel, body: dict[str, Any], kind: int, thread_id: int | None
) -> FakeChannel:
    now = fake.now()
    thread = FakeChannel(
        id=thread_id or fake.ids.next(),
        type=kind,
        name=str(body.get("name") or "thread")[:100],
        guild_id=parent.guild_id,
        parent_id=parent.id,
        owner_id=fake.bot_user.id,
        created_at=now,
        auto_archive_duration=int(body.get("auto_archive_duration") or 4320),
        invitable=bool(body.get("invitable", True)) if kind == PRIVATE_THREAD else True,
        rate_limit_per_user=int(body.get("rate_limit_per_user") or 0),
    )
    thread.thread_members[fake.bot_user.id] = now
    guild = fake.guild_of(parent)
    guild.channels[thread.id] = thread
    guild.thread_created(thread)
    return thread


@routes.post(API + "/channels/{channel_id}/messages/{message_id}/threads")
async def thread_from_message(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    channel = ctx.channel_from(request)
    if channel.type not in (TEXT, ANNOUNCEMENT):
        raise WRONG_CHANNEL_TYPE
    ctx.require(fake, Perm.CREATE_PUBLIC_THREADS | Perm.READ_MESSAGE_HISTORY, channel=channel)
    message = ctx.message_in(request, channel)
    if message.thread_id is not None:
        raise ApiError(400, 160004, "A thread has already been created for this message")
    body = await ctx.json_body(request)
    kind = 10 if channel.type == ANNOUNCEMENT else PUBLIC_THREAD
    thread = _new_thread(fake, channel, body, kind, message.id)
    message.thread_id = thread.id
    message.flags |= FLAG_HAS_THREAD
    return web.json_response(thread.payload(me=fake.bot_user.id))


@routes.post(API + "/channels/{channel_id}/threads")
async def thread_without_message(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    channel = ctx.channel_from(request)
    body = await ctx.json_body(request)
    kind = int(body.get("type") or PRIVATE_THREAD)
    if channel.type not in (TEXT, ANNOUNCEMENT) or (
        kind == PRIVATE_THREAD and channel.type != TEXT
    ):
        raise WRONG_CHANNEL_TYPE
    if kind not in (10, PUBLIC_THREAD, PRIVATE_THREAD):
        raise invalid("type", "Value must be one of {10, 11, 12}.")
    needed = Perm.CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else Perm.CREATE_PUBLIC_THREADS
    ctx.require(fake, needed, channel=channel)
    thread = _new_thread(fake, channel, body, kind, None)
    return web.json_response(thread.payload(me=fake.bot_user.id))


def _thread_from(request: web.Request) -> FakeChannel:
    thread = ctx.channel_from(request)
    if not thread.is_thread:
        raise WRONG_CHANNEL_TYPE
    return thread


def _members_update(fake: Any, thread: FakeChannel, added: list[int], removed: list[int]) -> None:
    guild = fake.guild_of(thread)
    data: dict[str, Any] = {
        "id": str(thread.id),
        "guild_id": str(guild.id),
        "member_count": min(len(thread.thread_members), 50),
        "added_members": [
            thread.thread_member_payload(uid)
            | {"member": guild.members[uid].payload(), "presence": None}
            for uid in added
        ],
        "removed_member_ids": [str(uid) for uid in removed],
    }
    fake.dispatch("THREAD_MEMBERS_UPDATE", data, guild=guild, channel=thread)


@routes.put(API + "/channels/{channel_id}/thread-members/{user_id}")
async def add_thread_member(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    thread = _thread_from(request)
    current = ctx.require(fake, Perm.SEND_MESSAGES_IN_THREADS, channel=thread)
    if thread.archived:
        raise ApiError(400, THREAD_ARCHIVED, "Thread is archived")
    guild = fake.guild_of(thread)
    assert guild is not None  # a thread is always in a server
    member = ctx.member_in(request, guild)
    if (
        thread.is_private_thread
        and member.id != fake.bot_user.id
        and not thread.invitable
        and not current & Perm.MANAGE_THREADS
    ):
        raise ctx.deny(fake, f"MANAGE_THREADS to add members to non-invitable thread {thread.name}")
    if member.id not in thread.thread_members:
        thread.thread_members[member.id] = fake.now()
        _members_update(fake, thread, [member.id], [])
    return web.Response(status=204)


@routes.delete(API + "/channels/{channel_id}/thread-members/{user_id}")
async def remove_thread_member(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    thread = _thread_from(request)
    user_id = ctx.snowflake(request, "user_id")
    if user_id != fake.bot_user.id:
        ctx.require(fake, Perm.MANAGE_THREADS, channel=thread)
    if thread.archived:
        raise ApiError(400, THREAD_ARCHIVED, "Thread is archived")
    if thread.thread_members.pop(user_id, None) is not None:
        _members_update(fake, thread, [], [user_id])
    return web.Response(status=204)


@routes.get(API + "/channels/{channel_id}/thread-members")
async def list_thread_members(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    thread = _thread_from(request)
    ctx.require(fake, 0, channel=thread)
    return web.json_response([thread.thread_member_payload(u) for u in thread.thread_members])


@routes.get(API + "/channels/{channel_id}/thread-members/{user_id}")
async def get_thread_member(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    thread = _thread_from(request)
    ctx.require(fake, 0, channel=thread)
    user_id = ctx.snowflake(request, "user_id")
    if user_id not in thread.thread_members:
        raise ApiError(404, 10007, "Unknown Member")
    return web.json_response(thread.thread_member_payload(user_id))
