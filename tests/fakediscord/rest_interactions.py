"""Application info, command registration, interaction callbacks and interaction webhooks.

Discord's interaction rules are enforced: one acknowledgement per interaction (then 40060), the
first one within 3 s of dispatch (else 10062), callback types valid for the interaction type, and
webhook tokens valid for 15 minutes. After a deferred "thinking" response, the first followup
replaces the thinking message (as on Discord) instead of adding a new one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from . import context as ctx
from .errors import (
    ALREADY_ACKNOWLEDGED,
    INVALID_WEBHOOK_TOKEN,
    UNKNOWN_COMMAND,
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    ApiError,
    fields_under,
    invalid,
    not_found,
)
from .messages import (
    Upload,
    create_message,
    delete_message,
    edit_message,
    message_payload,
    read_body,
)
from .models import FLAG_EPHEMERAL, FakeInteraction, FakeMessage
from .validation import (
    validate_added_command,
    validate_choices,
    validate_commands,
    validate_message,
    validate_modal,
)

routes = web.RouteTableDef()
API = "/api/v10"
RESPONSE_DEADLINE = 3.0
TOKEN_LIFETIME = 15 * 60
_ALLOWED_CALLBACKS = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}

Handler = Callable[[web.Request], Awaitable[web.Response]]


def _commands_route(method: str, tail: str) -> Callable[[Handler], Handler]:
    """A route for the application's commands, under both scopes Discord has for them: global
    (`/commands…`) and one guild's (`/guilds/{guild_id}/commands…`)."""

    def register(handler: Handler) -> Handler:
        for scope in ("/guilds/{guild_id}", ""):
            path = f"{API}/applications/{{application_id}}{scope}/commands{tail}"
            routes.route(method, path)(handler)
        return handler

    return register


def app_info(fake: Any) -> dict[str, Any]:
    return {
        "id": str(fake.application_id),
        "name": fake.bot_user.username,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "owner": fake.app_owner.payload(),
        "team": None,
        "flags": fake.application_flags,
        "bot": fake.bot_user.payload(),
        "redirect_uris": [],
        "interactions_endpoint_url": None,
        "integration_types_config": {"0": {}},
    }


@routes.get(API + "/oauth2/applications/@me")
@routes.get(API + "/applications/@me")
async def get_app(request: web.Request) -> web.Response:
    return web.json_response(app_info(ctx.fake_of(request)))


# -- commands ----------------------------------------------------------------------------------


def _command_list(request: web.Request) -> tuple[list[dict[str, Any]], int | None]:
    fake = ctx.fake_of(request)
    if ctx.snowflake(request, "application_id") != fake.application_id:
        raise ApiError(403, 50001, "Missing Access")
    if "guild_id" not in request.match_info:
        return fake.global_commands, None
    guild_id = ctx.snowflake(request, "guild_id")
    if guild_id not in fake.guilds or not fake.guilds[guild_id].bot_present:
        raise ApiError(403, 50001, "Missing Access")
    return fake.guild_commands.setdefault(guild_id, []), guild_id


def _stored(
    fake: Any, incoming: dict[str, Any], existing: dict[str, Any] | None, guild_id: int | None
) -> dict[str, Any]:
    command: dict[str, Any] = {
        "type": 1,
        "default_member_permissions": None,
        "nsfw": False,
        "integration_types": [0],
        "contexts": None,
        "description": "",
    } | incoming
    changed = existing is None or any(existing.get(k) != v for k, v in command.items())
    command["id"] = existing["id"] if existing else str(fake.ids.next())
    command["application_id"] = str(fake.application_id)
    command["version"] = str(fake.ids.next()) if changed else existing["version"]  # type: ignore[index]  # None only when changed
    if guild_id is not None:
        command["guild_id"] = str(guild_id)
    return command


@_commands_route("GET", "")
async def list_commands(request: web.Request) -> web.Response:
    return web.json_response(_command_list(request)[0])


@_commands_route("PUT", "")
async def bulk_overwrite(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    current, guild_id = _command_list(request)
    incoming = await request.json()  # a list of commands: the spec check refused anything else
    validate_commands(incoming)
    by_key = {(c.get("type", 1), c["name"]): c for c in current}
    result = [
        _stored(fake, c, by_key.get((c.get("type", 1), c["name"])), guild_id) for c in incoming
    ]
    current[:] = result
    return web.json_response(result)


@_commands_route("POST", "")
async def upsert_command(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    current, guild_id = _command_list(request)
    body = await request.json()
    validate_commands([body])
    key = (body.get("type", 1), body["name"])
    existing = next((c for c in current if (c.get("type", 1), c["name"]) == key), None)
    command = _stored(fake, body, existing, guild_id)
    if existing is not None:
        current[current.index(existing)] = command
    else:
        validate_added_command(current, command)
        current.append(command)
    return web.json_response(command, status=200 if existing else 201)


def _command_from(request: web.Request) -> tuple[list[dict[str, Any]], dict[str, Any], int | None]:
    current, guild_id = _command_list(request)
    wanted = request.match_info["command_id"]
    command = next((c for c in current if c["id"] == wanted), None)
    if command is None:
        raise not_found(UNKNOWN_COMMAND, "application command")
    return current, command, guild_id


@_commands_route("GET", "/{command_id}")
async def get_command(request: web.Request) -> web.Response:
    return web.json_response(_command_from(request)[1])


@_commands_route("PATCH", "/{command_id}")
async def edit_command(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    current, command, guild_id = _command_from(request)
    merged = {
        k: v for k, v in command.items() if k not in ("id", "application_id", "version", "guild_id")
    }
    merged |= await request.json()
    validate_commands([merged])
    updated = _stored(fake, merged, command, guild_id)
    current[current.index(command)] = updated
    return web.json_response(updated)


@_commands_route("DELETE", "/{command_id}")
async def delete_command(request: web.Request) -> web.Response:
    current, command, _ = _command_from(request)
    current.remove(command)
    return web.Response(status=204)


# -- interaction responses ---------------------------------------------------------------------


def _metadata(
    fake: Any, inter: FakeInteraction, *, followup_of: int | None = None
) -> dict[str, Any]:
    owners = {"0": str(inter.guild_id)} if inter.guild_id else {"1": str(inter.user.id)}
    meta: dict[str, Any] = {
        "id": str(inter.id),
        "type": inter.type,
        "user": inter.user.payload(),
        "authorizing_integration_owners": owners,
    }
    if inter.type == 2:
        meta["name"] = inter.name.lstrip("/")
        meta["command_type"] = inter.data.get("type", 1)
    if inter.message_id is not None:
        meta["interacted_message_id"] = str(inter.message_id)
    if followup_of is not None:
        meta["original_response_message_id"] = str(followup_of)
    return meta


def _interaction_message(
    fake: Any,
    inter: FakeInteraction,
    body: dict[str, Any],
    uploads: list[Upload],
    *,
    loading: bool = False,
    followup: bool = False,
) -> FakeMessage:
    channel = fake.channel(inter.channel_id)
    if channel is None:
        raise not_found(10003, "Channel")
    original_kind = (
        20 if inter.type == 2 and inter.data.get("type", 1) == 1 else 23 if inter.type == 2 else 0
    )
    return create_message(
        fake,
        channel,
        fake.bot_user,
        body,
        uploads,
        webhook_id=fake.application_id,
        interaction_id=inter.id,
        interaction_metadata=_metadata(
            fake, inter, followup_of=inter.original_id if followup else None
        ),
        message_type=0 if followup else original_kind,
        visible_to=inter.user.id,
        loading=loading,
    )


def _component_message(fake: Any, inter: FakeInteraction) -> FakeMessage:
    source = inter if inter.message_id is not None else inter.parent
    message: FakeMessage | None = (
        fake.messages.get(source.message_id) if source and source.message_id else None
    )
    if message is None:
        raise invalid("type", "Interaction has no message to update")
    return message


def _callback_response(fake: Any, inter: FakeInteraction, ctype: int) -> dict[str, Any]:
    info: dict[str, Any] = {"id": str(inter.id), "type": inter.type}
    result: dict[str, Any] = {"interaction": info}
    message = fake.messages.get(inter.original_id) if inter.original_id else None
    if ctype in (4, 5, 7) and message is not None:
        info.update(
            response_message_id=str(message.id),
            response_message_loading=message.loading,
            response_message_ephemeral=message.ephemeral,
        )
        result["resource"] = {"type": ctype, "message": message_payload(fake, message)}
    else:
        result["resource"] = {"type": ctype}
    return result


@routes.post(API + "/interactions/{interaction_id}/{token}/callback")
async def callback(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    inter = fake.interactions.get(ctx.snowflake(request, "interaction_id"))
    if inter is None or inter.token != request.match_info["token"]:
        raise not_found(UNKNOWN_INTERACTION, "interaction")
    body, uploads = await read_body(request)
    ctype = int(body.get("type", 0))
    if inter.acknowledged:
        inter.rejected_callbacks.append((ctype, ALREADY_ACKNOWLEDGED))
        raise ApiError(400, ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged.")
    if fake.monotonic() - inter.dispatched_at > RESPONSE_DEADLINE:
        inter.rejected_callbacks.append((ctype, UNKNOWN_INTERACTION))
        raise not_found(UNKNOWN_INTERACTION, "interaction")
    if ctype not in _ALLOWED_CALLBACKS.get(inter.type, set()):
        raise invalid(
            "type",
            f"Interaction callback type {ctype} is invalid for interaction type {inter.type}",
        )
    data = body.get("data") or {}
    if ctype == 4:
        with fields_under("data"):
            message = _interaction_message(fake, inter, data, uploads)
        inter.original_id = message.id
        inter.ephemeral = message.ephemeral
    elif ctype == 5:
        message = _interaction_message(
            fake, inter, {"flags": data.get("flags", 0)}, [], loading=True
        )
        inter.original_id = message.id
        inter.ephemeral = message.ephemeral
    elif ctype == 6:
        inter.original_id = _component_message(fake, inter).id
    elif ctype == 7:
        message = _component_message(fake, inter)
        with fields_under("data"):
            validate_message(data, len(uploads), creating=False)
            edit_message(fake, message, data, uploads)
        inter.original_id = message.id
    elif ctype == 8:
        validate_choices(data.get("choices") or [])
        inter.choices = list(data.get("choices") or [])
    elif ctype == 9:
        validate_modal(data)
        inter.modal = data
    inter.response_type = ctype
    inter.acknowledged_at = fake.monotonic()
    fake.notify()
    if request.query.get("with_response") in ("1", "true", "True"):
        return web.json_response(_callback_response(fake, inter, ctype))
    return web.Response(status=204)


def _webhook_interaction(request: web.Request) -> FakeInteraction:
    fake = ctx.fake_of(request)
    token = request.match_info["token"]
    inter = fake.interactions_by_token.get(token)
    if inter is None or ctx.snowflake(request, "webhook_id") != fake.application_id:
        raise not_found(UNKNOWN_WEBHOOK, "Webhook")
    if fake.monotonic() - inter.dispatched_at > TOKEN_LIFETIME:
        raise ApiError(401, INVALID_WEBHOOK_TOKEN, "Invalid Webhook Token")
    if not inter.acknowledged:
        raise not_found(UNKNOWN_WEBHOOK, "Webhook")
    return inter


@routes.post(API + "/webhooks/{webhook_id}/{token}")
async def followup(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    inter = _webhook_interaction(request)
    body, uploads = await read_body(request)
    original = fake.messages.get(inter.original_id) if inter.original_id else None
    if original is not None and original.loading and inter.response_type == 5:
        keep = original.flags & FLAG_EPHEMERAL
        edit_message(fake, original, body | {"flags": None}, uploads)
        original.flags |= keep
        message = original
    else:
        message = _interaction_message(fake, inter, body, uploads, followup=True)
        inter.followup_ids.append(message.id)
    fake.notify()
    if request.query.get("wait") in ("1", "true", "True"):
        return web.json_response(message_payload(fake, message))
    return web.Response(status=204)


def _webhook_message(request: web.Request, inter: FakeInteraction) -> FakeMessage:
    fake = ctx.fake_of(request)
    raw = request.match_info["message_id"]
    message_id = inter.original_id if raw == "@original" else int(raw)
    allowed = {inter.original_id, *inter.followup_ids}
    message = (
        fake.messages.get(message_id) if message_id is not None and message_id in allowed else None
    )
    if message is None or message.deleted:
        raise not_found(UNKNOWN_MESSAGE, "Message")
    return message


@routes.get(API + "/webhooks/{webhook_id}/{token}/messages/{message_id}")
async def get_webhook_message(request: web.Request) -> web.Response:
    inter = _webhook_interaction(request)
    return web.json_response(
        message_payload(ctx.fake_of(request), _webhook_message(request, inter))
    )


@routes.patch(API + "/webhooks/{webhook_id}/{token}/messages/{message_id}")
async def edit_webhook_message(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    inter = _webhook_interaction(request)
    message = _webhook_message(request, inter)
    body, uploads = await read_body(request)
    keep = message.flags & FLAG_EPHEMERAL
    edit_message(fake, message, body, uploads)
    message.flags |= keep
    return web.json_response(message_payload(fake, message))


@routes.delete(API + "/webhooks/{webhook_id}/{token}/messages/{message_id}")
async def delete_webhook_message(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    inter = _webhook_interaction(request)
    delete_message(fake, _webhook_message(request, inter))
    return web.Response(status=204)
