"""Discord's documented payload limits, so an oversized embed or a bad command fails in tests.

Only limits a bot can realistically trip are checked; each raises the same 50035/50006 errors that
Discord returns, naming the offending field path.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import CANNOT_SEND_EMPTY, ApiError, invalid

COMPONENTS_V2 = 1 << 15
_COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")


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
    if len(embeds) > 10:
        raise _refuse("embeds", "Must be 10 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    total = 0
    for i, embed in enumerate(embeds):
        where = f"embeds.{i}"
        _length(embed.get("title"), 256, f"{where}.title")
        _length(embed.get("description"), 4096, f"{where}.description")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            raise _refuse(f"{where}.fields", "Must be 25 or fewer in length.")
        for j, item in enumerate(fields):
            _length(item.get("name"), 256, f"{where}.fields.{j}.name", 1)
            _length(item.get("value"), 1024, f"{where}.fields.{j}.value", 1)
        footer = embed.get("footer") or {}
        author = embed.get("author") or {}
        _length(footer.get("text"), 2048, f"{where}.footer.text")
        _length(author.get("name"), 256, f"{where}.author.name")
        parts = [
            embed.get("title"),
            embed.get("description"),
            footer.get("text"),
            author.get("name"),
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
        kind = comp.get("type")
        custom_id = comp.get("custom_id")
        if custom_id is not None:
            _length(custom_id, 100, f"{path}.custom_id", 1)
            if custom_id in seen:
                raise _refuse(
                    f"{path}.custom_id",
                    "Component custom id cannot be duplicated",
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                )
            seen.add(custom_id)
        if kind == 2:
            _length(comp.get("label"), 80, f"{path}.label")
            if comp.get("style") == 5:
                if not comp.get("url"):
                    raise _refuse(f"{path}.url", "This field is required")
            elif comp.get("style") != 6 and custom_id is None:
                raise _refuse(f"{path}.custom_id", "This field is required")
        elif kind in (3, 5, 6, 7, 8):
            if custom_id is None:
                raise _refuse(f"{path}.custom_id", "This field is required")
            _length(comp.get("placeholder"), 150, f"{path}.placeholder")
            options = comp.get("options") or []
            if kind == 3 and not 1 <= len(options) <= 25:
                raise _refuse(f"{path}.options", "Must be between 1 and 25 in length.")
            for j, opt in enumerate(options):
                _length(opt.get("label"), 100, f"{path}.options.{j}.label", 1)
                _length(opt.get("value"), 100, f"{path}.options.{j}.value", 1)
                _length(opt.get("description"), 100, f"{path}.options.{j}.description")
        elif kind == 1:
            children = comp.get("components") or []
            if not 1 <= len(children) <= 5:
                raise _refuse(f"{path}.components", "Must be between 1 and 5 in length.")
        for key in ("components",):
            if isinstance(comp.get(key), list):
                count += _walk(comp[key], f"{path}.{key}", seen)
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
    _length(data.get("title"), 45, "data.title", 1)
    _length(data.get("custom_id"), 100, "data.custom_id", 1)
    rows = data.get("components") or []
    if not 1 <= len(rows) <= 5:
        raise _refuse("data.components", "Must be between 1 and 5 in length.")
    _walk(rows, "data.components", set())
    for i, row in enumerate(rows):
        inner = row.get("components") or ([row["component"]] if "component" in row else [])
        if row.get("type") == 18:
            _length(row.get("label"), 45, f"data.components.{i}.label", 1)
        for comp in inner:
            if comp.get("type") == 4:
                _length(comp.get("label"), 45, f"data.components.{i}.label")
                _length(comp.get("value"), 4000, f"data.components.{i}.value")
                _length(comp.get("placeholder"), 100, f"data.components.{i}.placeholder")


def validate_choices(choices: list[dict[str, Any]]) -> None:
    if len(choices) > 25:
        raise _refuse("data.choices", "Must be 25 or fewer in length.", "BASE_TYPE_MAX_LENGTH")
    for i, choice in enumerate(choices):
        _length(choice.get("name"), 100, f"data.choices.{i}.name", 1)
        if isinstance(choice.get("value"), str):
            _length(choice["value"], 100, f"data.choices.{i}.value")


def _validate_options(options: list[dict[str, Any]], where: str) -> None:
    if len(options) > 25:
        raise _refuse(where, "Must be 25 or fewer in length.")
    names: set[str] = set()
    seen_optional = False
    for i, opt in enumerate(options):
        path = f"{where}.{i}"
        name = opt.get("name", "")
        if not _COMMAND_NAME.match(name) or name != name.lower():
            raise _refuse(
                f"{path}.name", "Command name is invalid", "APPLICATION_COMMAND_INVALID_NAME"
            )
        if name in names:
            raise _refuse(f"{path}.name", "Option names must be unique", "DUPLICATE")
        names.add(name)
        _length(opt.get("description"), 100, f"{path}.description", 1)
        if len(opt.get("choices") or []) > 25:
            raise _refuse(f"{path}.choices", "Must be 25 or fewer in length.")
        if opt.get("type") in (1, 2):
            _validate_options(opt.get("options") or [], f"{path}.options")
        elif opt.get("required"):
            if seen_optional:
                raise _refuse(
                    f"{path}.required",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True


def validate_commands(commands: list[dict[str, Any]]) -> None:
    seen: set[tuple[int, str]] = set()
    for i, cmd in enumerate(commands):
        kind = cmd.get("type", 1)
        name = cmd.get("name", "")
        key = (kind, name)
        if key in seen:
            raise _refuse(
                f"{i}.name",
                "Application command names must be unique",
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
            )
        seen.add(key)
        if kind == 1:
            if not _COMMAND_NAME.match(name) or name != name.lower():
                raise _refuse(
                    f"{i}.name", "Command name is invalid", "APPLICATION_COMMAND_INVALID_NAME"
                )
            _length(cmd.get("description"), 100, f"{i}.description", 1)
            _validate_options(cmd.get("options") or [], f"{i}.options")
        else:
            _length(name, 32, f"{i}.name", 1)
    if sum(1 for c in commands if c.get("type", 1) == 1) > 100:
        raise _refuse("", "Maximum number of application commands reached (100)")
