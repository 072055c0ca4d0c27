"""REST routes for users, DMs, guilds, roles, members, channels-in-guild and scheduled events.

Role changes follow Discord's hierarchy rule: the bot may only touch roles strictly below its own
highest role, and may only grant permissions it has itself; both fail with 50013.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from . import context as ctx
from . import permissions as perms
from .errors import UNKNOWN_USER, ApiError, invalid, not_found
from .guild import FakeGuild
from .models import CATEGORY, TEXT, FakeMember, FakeRole
from .permissions import Perm
from .rest_channels import _parse_overwrites, check_overwrites

routes = web.RouteTableDef()
API = "/api/v10"


def _guild_allowing(request: web.Request, needed: int) -> tuple[Any, FakeGuild, int]:
    """The route's guild once the bot is known to hold `needed` there (403 as Discord
    otherwise): the fake, the guild and the bot's permissions in it."""
    fake = ctx.fake_of(request)
    guild = ctx.guild_from(request)
    return fake, guild, ctx.require(fake, needed, guild=guild)


@routes.get(API + "/users/@me")
async def me(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    return web.json_response(
        fake.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0}
    )


@routes.get(API + "/users/{user_id}")
async def get_user(request: web.Request) -> web.Response:
    user = ctx.fake_of(request).users.get(ctx.snowflake(request, "user_id"))
    if user is None:
        raise not_found(UNKNOWN_USER, "User")
    return web.json_response(user.payload())


@routes.get(API + "/users/@me/guilds")
async def my_guilds(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    return web.json_response(
        [
            {
                "id": str(g.id),
                "name": g.name,
                "icon": None,
                "owner": False,
                "features": [],
                "permissions": str(g.permissions_for(fake.bot_user)),
            }
            for g in fake.guilds.values()
            if g.bot_present
        ]
    )


@routes.delete(API + "/users/@me/guilds/{guild_id}")
async def leave_guild(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    fake.remove_bot_from_guild(ctx.guild_from(request))
    return web.Response(status=204)


@routes.post(API + "/users/@me/channels")
async def open_dm(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    body = await ctx.json_body(request)
    user = fake.users.get(int(body.get("recipient_id", 0)))
    if user is None:
        raise invalid("recipient_id", "Unknown user")
    return web.json_response(fake.get_or_create_dm(user).payload())


@routes.get(API + "/guilds/{guild_id}")
async def get_guild(request: web.Request) -> web.Response:
    guild = ctx.guild_from(request)
    data = guild.payload()
    if request.query.get("with_counts") in ("true", "1", "True"):
        data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
    return web.json_response(data)


@routes.get(API + "/guilds/{guild_id}/channels")
async def guild_channels(request: web.Request) -> web.Response:
    guild = ctx.guild_from(request)
    return web.json_response([c.payload() for c in guild.channels.values() if not c.is_thread])


@routes.post(API + "/guilds/{guild_id}/channels")
async def create_channel(request: web.Request) -> web.Response:
    fake, guild, current = _guild_allowing(request, Perm.MANAGE_CHANNELS)
    body = await ctx.json_body(request)
    kind = int(body.get("type") or TEXT)
    if kind not in (TEXT, 2, CATEGORY, 5, 13, 15):
        raise invalid("type", "Value is not a valid channel type.")
    name = str(body.get("name") or "")
    if not 1 <= len(name) <= 100:
        raise invalid("name", "Must be between 1 and 100 in length.", "BASE_TYPE_BAD_LENGTH")
    parent = None
    if body.get("parent_id"):
        parent = guild.channels.get(int(body["parent_id"]))
        if parent is None or parent.type != CATEGORY:
            raise invalid("parent_id", "Category does not exist")
    overwrites = body.get("permission_overwrites") or []
    if overwrites:
        if not current & Perm.MANAGE_ROLES:
            raise ctx.deny(fake, "MANAGE_ROLES to set permission_overwrites")
        check_overwrites(fake, current, overwrites)
    channel = guild.add_channel(
        name,
        kind,
        overwrites=list(_parse_overwrites(overwrites).values()) if overwrites else None,
        topic=body.get("topic"),
        category=parent,
        position=body.get("position"),
    )
    channel.nsfw = bool(body.get("nsfw", False))
    channel.rate_limit_per_user = int(body.get("rate_limit_per_user") or 0)
    return web.json_response(channel.payload(), status=201)


@routes.get(API + "/guilds/{guild_id}/threads/active")
async def active_threads(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    guild = ctx.guild_from(request)
    me = fake.bot_user.id
    threads = [t for t in guild.threads if not t.archived and guild.permissions_for(me, t)]
    members = [t.thread_member_payload(me) for t in threads if me in t.thread_members]
    return web.json_response({"threads": [t.payload() for t in threads], "members": members})


# -- roles -------------------------------------------------------------------------------------


def _can_manage_role(fake: Any, guild: FakeGuild, role: FakeRole) -> None:
    """Hierarchy applies even to administrators; only the owner is exempt."""
    if guild.owner_id == fake.bot_user.id:
        return
    bot_top = perms.top_position(guild, guild.bot_member)
    if role.position >= bot_top:
        raise ctx.deny(
            fake,
            f"role {role.name!r} (position {role.position}) is not below the bot's top role"
            f" (position {bot_top})",
        )


def _check_grant(fake: Any, guild: FakeGuild, wanted: int) -> None:
    have = perms.base_permissions(guild, guild.bot_member)
    if wanted & ~have:
        raise ctx.deny(fake, f"granting {perms.names(wanted & ~have)} which the bot lacks")


@routes.get(API + "/guilds/{guild_id}/roles")
async def list_roles(request: web.Request) -> web.Response:
    guild = ctx.guild_from(request)
    return web.json_response([r.payload() for r in guild.roles.values()])


@routes.post(API + "/guilds/{guild_id}/roles")
async def create_role(request: web.Request) -> web.Response:
    fake, guild, _ = _guild_allowing(request, Perm.MANAGE_ROLES)
    body = await ctx.json_body(request)
    wanted = int(body.get("permissions") or 0)
    _check_grant(fake, guild, wanted)
    if len(guild.roles) >= 250:
        raise ApiError(400, 30005, "Maximum number of guild roles reached (250)")
    role = FakeRole(
        fake.ids.next(),
        guild.id,
        str(body.get("name") or "new role"),
        wanted,
        1,
        int(body.get("color") or 0),
        bool(body.get("hoist")),
        bool(body.get("mentionable")),
    )
    guild._insert_role(role, 1)
    return web.json_response(role.payload())


@routes.patch(API + "/guilds/{guild_id}/roles/{role_id}")
async def edit_role(request: web.Request) -> web.Response:
    fake, guild, _ = _guild_allowing(request, Perm.MANAGE_ROLES)
    role = ctx.role_in(request, guild)
    if role.id != guild.id:
        _can_manage_role(fake, guild, role)
    body = await ctx.json_body(request)
    if "permissions" in body and body["permissions"] is not None:
        wanted = int(body["permissions"])
        _check_grant(fake, guild, wanted & ~role.permissions)
        role.permissions = wanted
    for key in ("name", "color", "hoist", "mentionable"):
        if key in body and body[key] is not None:
            setattr(role, key, body[key])
    guild._role_updated(role)
    return web.json_response(role.payload())


@routes.delete(API + "/guilds/{guild_id}/roles/{role_id}")
async def delete_role(request: web.Request) -> web.Response:
    fake, guild, _ = _guild_allowing(request, Perm.MANAGE_ROLES)
    role = ctx.role_in(request, guild)
    if role.id == guild.id or role.managed:
        raise invalid("role_id", "Cannot delete this role")
    _can_manage_role(fake, guild, role)
    del guild.roles[role.id]
    for member in guild.members.values():
        if role.id in member.role_ids:
            member.role_ids.remove(role.id)
    fake.dispatch(
        "GUILD_ROLE_DELETE", {"guild_id": str(guild.id), "role_id": str(role.id)}, guild=guild
    )
    return web.Response(status=204)


# -- members -----------------------------------------------------------------------------------


@routes.get(API + "/guilds/{guild_id}/members")
async def list_members(request: web.Request) -> web.Response:
    guild = ctx.guild_from(request)
    if not ctx.fake_of(request).privileged["members"]:
        raise ApiError(403, 50001, "Missing Access")  # listing needs the members intent enabled
    after = int(request.query.get("after", 0))
    limit = min(int(request.query.get("limit", 1)), 1000)
    found = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
    return web.json_response([m.payload() for m in found[:limit]])


@routes.get(API + "/guilds/{guild_id}/members/{user_id}")
async def get_member(request: web.Request) -> web.Response:
    guild = ctx.guild_from(request)
    return web.json_response(ctx.member_in(request, guild).payload())


def _change_role(
    fake: Any, guild: FakeGuild, member: FakeMember, role: FakeRole, add: bool
) -> bool:
    ctx.require(fake, Perm.MANAGE_ROLES, guild=guild)
    if role.id == guild.id or role.managed:
        raise ctx.deny(fake, f"role {role.name!r} is managed or @everyone and cannot be assigned")
    _can_manage_role(fake, guild, role)
    if add == (role.id in member.role_ids):
        return False
    if add:
        member.role_ids.append(role.id)
    else:
        member.role_ids.remove(role.id)
    return True


@routes.put(API + "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
@routes.delete(API + "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
async def member_role(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    guild = ctx.guild_from(request)
    member = ctx.member_in(request, guild)
    role = ctx.role_in(request, guild)
    if _change_role(fake, guild, member, role, request.method == "PUT"):
        guild.member_updated(member)
    return web.Response(status=204)


@routes.patch(API + "/guilds/{guild_id}/members/{user_id}")
async def edit_member(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    guild = ctx.guild_from(request)
    member = ctx.member_in(request, guild)
    body = await ctx.json_body(request)
    unsupported = set(body) - {"roles", "nick"}
    if unsupported:
        fake.unimplemented.append(f"PATCH member fields {sorted(unsupported)}")
    changed = False
    if body.get("roles") is not None:
        wanted = {int(r) for r in body["roles"]}
        for role_id in wanted ^ set(member.role_ids):
            role = guild.roles.get(role_id)
            if role is None:
                raise invalid("roles", f"Unknown role {role_id}")
            changed |= _change_role(fake, guild, member, role, role_id in wanted)
    if "nick" in body:
        if member.id == fake.bot_user.id:
            ctx.require(fake, Perm.CHANGE_NICKNAME, guild=guild)
        else:
            ctx.require(fake, Perm.MANAGE_NICKNAMES, guild=guild)
            if member.id == guild.owner_id or perms.top_position(
                guild, member
            ) >= perms.top_position(guild, guild.bot_member):
                raise ctx.deny(fake, f"{member.name} is not below the bot in the role hierarchy")
        member.nick = body["nick"] or None
        changed = True
    if changed:
        guild.member_updated(member)
    return web.json_response(member.payload())


@routes.delete(API + "/guilds/{guild_id}/members/{user_id}")
async def kick(request: web.Request) -> web.Response:
    fake = ctx.fake_of(request)
    guild = ctx.guild_from(request)
    member = ctx.member_in(request, guild)
    ctx.require(fake, Perm.KICK_MEMBERS, guild=guild)
    if member.id == guild.owner_id or perms.top_position(guild, member) >= perms.top_position(
        guild, guild.bot_member
    ):
        raise ctx.deny(fake, f"{member.name} is not below the bot in the role hierarchy")
    guild.remove_member(member)
    return web.Response(status=204)
