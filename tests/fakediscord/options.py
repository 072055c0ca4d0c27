"""Slash-command option payloads built from the schema the bot actually registered.

Building from the registered schema (not from the bot's Python code) means a test exercises what a
user could type: a renamed option, a missing choice or a wrong type fails here, as in the client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import FakeAttachment, FakeChannel, FakeMember, FakeRole, FakeUser

if TYPE_CHECKING:
    from .actions import UserActions
    from .guild import FakeGuild
    from .server import FakeDiscord

SUBCOMMAND, GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = (
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
)


def _error(message: str) -> AssertionError:
    from .actions import ActionError

    return ActionError(message)


def find_command(
    fake: FakeDiscord, guild: FakeGuild | None, name: str, *, kind: int = 1
) -> dict[str, Any]:
    """Guild commands shadow global ones of the same name, as in the Discord client."""
    pool = (fake.guild_commands.get(guild.id, []) if guild else []) + fake.global_commands
    for command in pool:
        if command["name"] == name and command.get("type", 1) == kind:
            return command
    names = sorted({str(c["name"]) for c in pool if c.get("type", 1) == kind})
    raise _error(f"command {name!r} (type {kind}) is not registered; registered: {names}")


def _choice(option: dict[str, Any], value: Any) -> Any:
    choices = option.get("choices")
    if not choices:
        return value
    for choice in choices:
        if value == choice["value"] or value == choice["name"]:
            return choice["value"]
    raise _error(
        f"{value!r} is not a choice of option {option['name']!r}: {[c['name'] for c in choices]}"
    )


def _convert(
    actions: UserActions,
    option: dict[str, Any],
    value: Any,
    guild: FakeGuild | None,
    channel: FakeChannel | None,
    resolved: dict[str, Any],
) -> Any:
    from .actions import _resolve_entity

    kind, name = option["type"], option["name"]
    if kind == STRING:
        if not isinstance(value, str):
            raise _error(f"option {name!r} takes text, got {value!r}")
        value = _choice(option, value)
        if not option.get("min_length", 0) <= len(value) <= option.get("max_length", 6000):
            raise _error(
                f"option {name!r} must be "
                f"{option.get('min_length', 0)}..{option.get('max_length', 6000)} characters"
            )
        return value
    if kind in (INTEGER, NUMBER):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (kind == INTEGER and not isinstance(value, int))
        ):
            raise _error(
                f"option {name!r} takes a {'whole ' if kind == INTEGER else ''}number, "
                f"got {value!r}"
            )
        value = _choice(option, value)
        if option.get("min_value") is not None and value < option["min_value"]:
            raise _error(f"option {name!r} must be at least {option['min_value']}")
        if option.get("max_value") is not None and value > option["max_value"]:
            raise _error(f"option {name!r} must be at most {option['max_value']}")
        return value
    if kind == BOOLEAN:
        if not isinstance(value, bool):
            raise _error(f"option {name!r} takes True/False, got {value!r}")
        return value
    if kind == ATTACHMENT and isinstance(value, tuple):
        value = actions.upload(channel, value[0], value[1])
    accepted: dict[int, tuple[type, ...]] = {
        USER: (FakeMember, FakeUser),
        CHANNEL: (FakeChannel,),
        ROLE: (FakeRole,),
        MENTIONABLE: (FakeMember, FakeUser, FakeRole),
        ATTACHMENT: (FakeAttachment,),
    }
    if kind not in accepted or not isinstance(value, accepted[kind]):
        raise _error(f"option {name!r} (type {kind}) cannot take {value!r}")
    if (
        isinstance(value, FakeChannel)
        and option.get("channel_types")
        and value.type not in option["channel_types"]
    ):
        raise _error(f"option {name!r} only accepts channel types {option['channel_types']}")
    if (
        kind in (USER, MENTIONABLE, CHANNEL, ROLE)
        and guild is not None
        and hasattr(value, "guild_id")
        and value.guild_id not in (None, guild.id)
    ):
        raise _error(f"{value!r} is not in this server")
    _resolve_entity(actions.fake, guild, channel, value, resolved)
    assert isinstance(value, FakeMember | FakeUser | FakeChannel | FakeRole | FakeAttachment)
    return str(value.id)


def build_options(
    actions: UserActions,
    command: dict[str, Any],
    guild: FakeGuild | None,
    channel: FakeChannel | None,
    path: str,
    values: dict[str, Any],
    *,
    focused: str | None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"id": command["id"], "name": command["name"], "type": 1}
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    schema: list[dict[str, Any]] = list(command.get("options") or [])
    options: list[dict[str, Any]] = []
    data["options"] = options
    for part in path.split()[1:]:
        sub = next(
            (o for o in schema if o["name"] == part and o["type"] in (SUBCOMMAND, GROUP)), None
        )
        if sub is None:
            subs = [o["name"] for o in schema if o["type"] in (SUBCOMMAND, GROUP)]
            raise _error(f"/{path}: {part!r} is not a subcommand here; choices: {subs}")
        entry: dict[str, Any] = {"name": part, "type": sub["type"], "options": []}
        options.append(entry)
        options = entry["options"]
        schema = list(sub.get("options") or [])
    if any(o["type"] in (SUBCOMMAND, GROUP) for o in schema):
        raise _error(f"/{path} needs a subcommand: {[o['name'] for o in schema]}")
    remaining = dict(values)
    resolved: dict[str, Any] = {}
    for option in schema:
        name = option["name"]
        if name not in remaining:
            if option.get("required") and focused is None:
                raise _error(f"/{path} needs option {name!r}")
            continue
        raw = remaining.pop(name)
        if raw is None:
            continue
        if name == focused:
            if not option.get("autocomplete"):
                raise _error(f"option {name!r} of /{path} has no autocomplete")
            options.append(
                {"name": name, "type": option["type"], "value": str(raw), "focused": True}
            )
            continue
        value = _convert(actions, option, raw, guild, channel, resolved)
        options.append({"name": name, "type": option["type"], "value": value})
    if remaining:
        raise _error(
            f"/{path} has no options {sorted(remaining)}; it has {[o['name'] for o in schema]}"
        )
    if resolved:
        data["resolved"] = resolved
    if not data["options"]:
        del data["options"]
    return data


def ignore_declared_limits(fake: FakeDiscord, path: str, option: str) -> None:
    """Play a client that ignores an option's declared lengths and bounds (an old app, or a raw
    API call), so a test can prove the service still refuses what the client would have."""
    name, *subpath = path.split()
    for command in fake.global_commands + [c for cs in fake.guild_commands.values() for c in cs]:
        if command["name"] != name or command.get("type", 1) != 1:
            continue
        options: Any = command.get("options") or []
        schema: list[dict[str, Any]] = list(options)
        for part in subpath:
            schema = next(o for o in schema if o["name"] == part).get("options") or []
        found = next(o for o in schema if o["name"] == option)
        for key in ("min_length", "max_length", "min_value", "max_value"):
            found.pop(key, None)
