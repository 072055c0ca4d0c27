"""REST routes for guild scheduled events, validated as Discord does (no past start times)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from . import context as ctx
from .errors import UNKNOWN_EVENT, invalid, not_found
from .guild import FakeGuild
from .models import FakeScheduledEvent
from .permissions import Perm

routes = web.RouteTableDef()
API = "/api/v10"


# -- scheduled events --------------------------------------------------------------------------


def _event_from(request: web.Request, guild: FakeGuild) -> FakeScheduledEvent:
    event = guild.scheduled_events.get(ctx.snowflake(request, "event_id"))
    if event is None:
        raise not_found(UNKNOWN_EVENT, "Guild Scheduled Event")
    return event


def _time(body: dict[str, Any], key: str) -> datetime | None:
    raw = body.get(key)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(raw)
    except (TypeError, ValueError):
        raise invalid(key, "Could not parse timestamp.", "DATE_TIME_TYPE_PARSE") from None


def _apply_event(
    fake: Any, guild: FakeGuild, event: FakeScheduledEvent, body: dict[str, Any], creating: bool
) -> None:
    if "name" in body:
        if not 1 <= len(body["name"] or "") <= 100:
            raise invalid("name", "Must be between 1 and 100 in length.", "BASE_TYPE_BAD_LENGTH")
        event.name = body["name"]
    if "description" in body:
        if len(body["description"] or "") > 1000:
            raise invalid("description", "Must be 1000 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
        event.description = body["description"]
    for key in ("scheduled_start_time", "scheduled_end_time"):
        if key in body:
            setattr(event, key, _time(body, key))
    if "entity_type" in body:
        event.entity_type = int(body["entity_type"])
    if "channel_id" in body:
        event.channel_id = int(body["channel_id"]) if body["channel_id"] else None
    if "entity_metadata" in body:
        event.location = (body["entity_metadata"] or {}).get("location")
    if event.entity_type == 3:
        if not event.location or event.scheduled_end_time is None or event.channel_id is not None:
            raise invalid(
                "entity_metadata", "External events need a location, an end time and no channel"
            )
    elif event.channel_id is None or event.channel_id not in guild.channels:
        raise invalid("channel_id", "Stage/voice events need an existing channel")
    moved = creating or "scheduled_start_time" in body
    if moved and event.scheduled_start_time <= fake.now():
        raise invalid(
            "scheduled_start_time",
            "Cannot schedule event in the past.",
            "GUILD_SCHEDULED_EVENT_SCHEDULED_START_TIME_IN_PAST",
        )
    if (
        event.scheduled_end_time is not None
        and event.scheduled_end_time <= event.scheduled_start_time
    ):
        raise invalid("scheduled_end_time", "End time must be after start time.")


@routes.get(API + "/guilds/{guild_id}/scheduled-events")
async def list_events(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    guild = ctx.guild_from(request)
    return web.json_response(
        [e.payload(fake.users.get(e.creator_id)) for e in guild.scheduled_events.values()]
    )


@routes.post(API + "/guilds/{guild_id}/scheduled-events")
async def create_event(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    guild = ctx.guild_from(request)
    ctx.require(fake, Perm.CREATE_EVENTS | Perm.MANAGE_EVENTS, guild=guild, any_of=True)
    body = await ctx.json_body(request)
    start = _time(body, "scheduled_start_time")
    if start is None or "entity_type" not in body:
        raise invalid("scheduled_start_time", "This field is required")
    event = FakeScheduledEvent(
        fake.ids.next(), guild.id, "", start, int(body["entity_type"]), fake.bot_user.id
    )
    event.name = ""
    _apply_event(fake, guild, event, {"name": body.get("name", "")} | body, creating=True)
    guild.scheduled_events[event.id] = event
    payload = event.payload(fake.bot_user)
    fake.dispatch("GUILD_SCHEDULED_EVENT_CREATE", payload, guild=guild)
    return web.json_response(payload)


@routes.get(API + "/guilds/{guild_id}/scheduled-events/{event_id}")
async def get_event(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    event = _event_from(request, ctx.guild_from(request))
    return web.json_response(event.payload(fake.users.get(event.creator_id)))


def _event_to_change(request: web.Request) -> tuple[Any, FakeGuild, FakeScheduledEvent]:
    """The event an edit or delete names, once the bot's right to change it is checked: its
    own events need Create or Manage Events, anyone else's Manage Events."""
    fake = ctx.fake_of(request)
    guild = ctx.guild_from(request)
    event = _event_from(request, guild)
    if event.creator_id == fake.bot_user.id:
        ctx.require(fake, Perm.CREATE_EVENTS | Perm.MANAGE_EVENTS, guild=guild, any_of=True)
    else:
        ctx.require(fake, Perm.MANAGE_EVENTS, guild=guild)
    return fake, guild, event


_STATUS_MOVES = {(1, 2), (1, 4), (2, 3)}


@routes.patch(API + "/guilds/{guild_id}/scheduled-events/{event_id}")
async def edit_event(request: web.Request) -> web.Response:
    fake, guild, event = _event_to_change(request)
    body = await ctx.json_body(request)
    if "status" in body and body["status"] != event.status:
        if (event.status, int(body["status"])) not in _STATUS_MOVES:
            raise invalid("status", "Invalid scheduled event status transition")
        event.status = int(body["status"])
    if event.status in (3, 4) and set(body) - {"status"}:
        raise invalid("status", "Cannot edit a finished or canceled event")
    _apply_event(fake, guild, event, body, creating=False)
    payload = event.payload(fake.users.get(event.creator_id))
    fake.dispatch("GUILD_SCHEDULED_EVENT_UPDATE", payload, guild=guild)
    return web.json_response(payload)


@routes.delete(API + "/guilds/{guild_id}/scheduled-events/{event_id}")
async def delete_event(request: web.Request) -> web.Response:
    fake, guild, event = _event_to_change(request)
    del guild.scheduled_events[event.id]
    fake.dispatch(
        "GUILD_SCHEDULED_EVENT_DELETE", event.payload(fake.users.get(event.creator_id)), guild=guild
    )
    return web.Response(status=204)
