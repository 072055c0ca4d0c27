"""Discord's documented limits that its OpenAPI spec leaves out, so such a request fails in tests.

The spec check (`schema`) runs first and already refuses what the spec states (an embed title
over 256, a 26th select option, a modal title over 45...). What is checked here is only what the
spec omits or states more loosely than Discord enforces: message content 2,000 (the spec says
4,000), 6,000 characters across a message's embeds, non-empty embed fields, five action rows,
five modal rows, 100-character autocomplete values, command naming rules and the 4,000-character
size of a command, 100 commands (by bulk overwrite or one at a time). Each raises the error
Discord returns (50035 naming the field path, 50006, 30032) and is marked as a violation, so the
test that sent it fails.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import CANNOT_SEND_EMPTY, MAX_COMMANDS_REACHED, ApiError, invalid

COMPONENTS_V2 = 1 << 15
_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")
_CHAT_INPUT = 1
_SUBCOMMANDS = (1, 2)
_COMMAND_SIZE = 4000
MAX_COMMANDS = 100


def _refuse(field: str, message: str, code: str = "BASE_TYPE_INVALID") -> ApiError:
    return invalid(field, message, code, violation=True)


def _length(value: Any, limit: int, field: str, minimum: int = 0) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise _refuse(field, "Must be a string.")
    if not minimum <= len(value) <= limit:
        raise _refuse(
            field, f"Must be between {minimum} and {limit} in length.", "BASE_TYPE_BAD_LENGTH"
        )


def validate_embeds(embeds: list[dict[str, Any]]) -> None:
    total = 0
    for i, embed in enumerate(embeds):
        fields = embed.get("fields") or []
        for j, item in enumerate(fields):
            _length(item.get("name"), 256, f"embeds.{i}.fields.{j}.name", 1)
            _length(item.get("value"), 1024, f"embeds.{i}.fields.{j}.value", 1)
        parts = [
            embed.get("title"),
            embed.get("description"),
            (embed.get("footer") or {}).get("text"),
            (embed.get("author") or {}).get("name"),
        ]
        parts += [f.get(k) for f in fields for k in ("name", "value")]
        total += sum(len(p) for p in parts if isinstance(p, str))
    if total > 6000:
        raise _refuse(
            "embeds", "Embed size exceeds maximum size of 6000", "MAX_EMBED_SIZE_EXCEEDED"
        )


def _walk(components: list[dict[str, Any]], where: str, seen: set[str]) -> int:
    count = 0
    for i, comp in enumerate(components):
        path = f"{where}.{i}"
        count += 1
        custom_id = comp.get("custom_id")
        if custom_id is not None:
            if custom_id in seen:
                raise _refuse(
                    f"{path}.custom_id",
                    "Component custom id cannot be duplicated",
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                )
            seen.add(custom_id)
        if comp.get("type") == 2:
            if comp.get("style") == 5:
                if not comp.get("url"):
                    raise _refuse(f"{path}.url", "This field is required", "BASE_TYPE_REQUIRED")
            elif comp.get("style") != 6 and custom_id is None:
                raise _refuse(f"{path}.custom_id", "This field is required", "BASE_TYPE_REQUIRED")
        if isinstance(comp.get("components"), list):
            count += _walk(comp["components"], f"{path}.components", seen)
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                count += _walk([comp[key]], f"{path}.{key}", seen)
    return count


def validate_components(components: list[dict[str, Any]], flags: int) -> None:
    if flags & COMPONENTS_V2:
        if _walk(components, "components", set()) > 40:
            raise _refuse("components", "Must be 40 or fewer in total.")
        return
    if len(components) > 5:
        raise _refuse("components", "Must be 5 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    for i, row in enumerate(components):
        if row.get("type") != 1:
            raise _refuse(f"components.{i}.type", "Top-level components must be action rows")
    _walk(components, "components", set())


def validate_message(body: dict[str, Any], n_files: int, *, creating: bool) -> None:
    flags = int(body.get("flags") or 0)
    _length(body.get("content"), 2000, "content")
    if flags & COMPONENTS_V2 and (body.get("content") or body.get("embeds")):
        raise _refuse("content", "Cannot send content or embeds with components v2 flag")
    validate_embeds(body.get("embeds") or [])
    validate_components(body.get("components") or [], flags)
    if creating and not (
        body.get("content")
        or body.get("embeds")
        or n_files
        or body.get("attachments")
        or body.get("components")
        or body.get("sticker_ids")
        or body.get("poll")
    ):
        raise ApiError(400, CANNOT_SEND_EMPTY, "Cannot send an empty message", violation=True)


def validate_modal(data: dict[str, Any]) -> None:
    rows = data.get("components") or []
    if len(rows) > 5:
        raise _refuse(
            "data.components", "Must be between 1 and 5 in length.", "BASE_TYPE_BAD_LENGTH"
        )
    _walk(rows, "data.components", set())


def validate_choices(choices: list[dict[str, Any]]) -> None:
    for i, choice in enumerate(choices):
        if isinstance(choice.get("value"), str):
            _length(choice["value"], 100, f"data.choices.{i}.value")


def _check_name(name: Any, field: str) -> None:
    if not isinstance(name, str) or not _COMMAND_NAME.match(name) or name != name.lower():
        raise _refuse(field, "Command name is invalid", "APPLICATION_COMMAND_INVALID_NAME")


def _check_names(item: dict[str, Any], path: str) -> None:
    """A chat-input name and each of its translations: lowercase, 1-32 word characters."""
    _check_name(item.get("name"), f"{path}.name")
    for locale, name in (item.get("name_localizations") or {}).items():
        _check_name(name, f"{path}.name_localizations.{locale}")


def _validate_options(options: list[dict[str, Any]], where: str) -> None:
    names: set[str] = set()
    seen_optional = False
    for i, opt in enumerate(options):
        path = f"{where}.{i}"
        _check_names(opt, path)
        if opt["name"] in names:
            raise _refuse(f"{path}.name", "Option names must be unique", "DUPLICATE")
        names.add(opt["name"])
        if opt.get("type") in _SUBCOMMANDS:
            _validate_options(opt.get("options") or [], f"{path}.options")
        elif opt.get("required"):
            if seen_optional:
                raise _refuse(
                    f"{path}.required",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True


def _locales(item: dict[str, Any]) -> set[str]:
    found = set(item.get("name_localizations") or {}) | set(
        item.get("description_localizations") or {}
    )
    for child in [*(item.get("options") or []), *(item.get("choices") or [])]:
        found |= _locales(child)
    return found


def _size(item: dict[str, Any], locale: str | None) -> int:
    """Characters Discord counts toward a command's 4,000 in one locale: every name,
    description and choice value, of the command and of all its options, recursively."""
    total = 0
    for key in ("name", "description"):
        text = (item.get(f"{key}_localizations") or {}).get(locale) if locale else None
        text = text if text is not None else item.get(key)
        total += len(text) if isinstance(text, str) else 0
    if "value" in item:
        total += len(str(item["value"]))
    for child in [*(item.get("options") or []), *(item.get("choices") or [])]:
        total += _size(child, locale)
    return total


def validate_commands(commands: list[dict[str, Any]]) -> None:
    seen: set[tuple[int, str]] = set()
    for i, cmd in enumerate(commands):
        kind = cmd.get("type") or _CHAT_INPUT
        key = (kind, cmd["name"])
        if key in seen:
            raise _refuse(
                f"{i}.name",
                "Application command names must be unique",
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
            )
        seen.add(key)
        if kind != _CHAT_INPUT:
            continue
        _check_names(cmd, str(i))
        _length(cmd.get("description") or "", 100, f"{i}.description", 1)
        _validate_options(cmd.get("options") or [], f"{i}.options")
        if max(_size(cmd, locale) for locale in [None, *_locales(cmd)]) > _COMMAND_SIZE:
            raise _refuse(
                str(i),
                f"Command exceeds maximum size ({_COMMAND_SIZE})",
                "APPLICATION_COMMAND_TOO_LARGE",
            )
    if _chat_inputs(commands) > MAX_COMMANDS:
        raise _refuse("", f"Maximum number of application commands reached ({MAX_COMMANDS})")


def _chat_inputs(commands: list[dict[str, Any]]) -> int:
    return sum(1 for c in commands if (c.get("type") or _CHAT_INPUT) == _CHAT_INPUT)


def validate_added_command(current: list[dict[str, Any]], new: dict[str, Any]) -> None:
    """Creating one more command (not replacing one of the same name) past the 100."""
    if _chat_inputs([*current, new]) > MAX_COMMANDS:
        raise ApiError(
            400,
            MAX_COMMANDS_REACHED,
            f"Maximum number of application commands reached ({MAX_COMMANDS})",
            violation=True,
        )
