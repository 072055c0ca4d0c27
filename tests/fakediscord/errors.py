"""Discord-shaped API errors, so discord.py raises the exception types it would in production."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

# The JSON error codes the fake emits; named so tests and handlers can refer to them.
UNKNOWN_GUILD = 10004
UNKNOWN_CHANNEL = 10003
UNKNOWN_MEMBER = 10007
UNKNOWN_MESSAGE = 10008
UNKNOWN_ROLE = 10011
UNKNOWN_WEBHOOK = 10015
UNKNOWN_USER = 10013
UNKNOWN_INTERACTION = 10062
UNKNOWN_COMMAND = 10063
UNKNOWN_EVENT = 10070
MISSING_ACCESS = 50001
CANNOT_SEND_EMPTY = 50006
CANNOT_DM_USER = 50007
CANNOT_EDIT_OTHERS_MESSAGE = 50005
MISSING_PERMISSIONS = 50013
INVALID_FORM_BODY = 50035
INVALID_JSON = 50109
INVALID_WEBHOOK_TOKEN = 50027
THREAD_ARCHIVED = 50083
MAX_PINS = 30003
MAX_COMMANDS_REACHED = 30032
ALREADY_ACKNOWLEDGED = 40060


# One refusal inside an Invalid Form Body: the field path (keys and list indices), code, message.
FormError = tuple[tuple[str, ...], str, str]


class ApiError(Exception):
    """Raised by handlers; the middleware turns it into Discord's JSON error body.

    `violation` marks a request Discord would refuse for its shape or size (the spec or a
    documented limit), as opposed to a refusal about the world (unknown id, missing permission);
    the fake records those so the test that sent one fails.
    """

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        errors: dict[str, Any] | None = None,
        *,
        violation: bool = False,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.violation = violation

    def response(self) -> web.Response:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return web.json_response(body, status=self.status)

    def summary(self) -> str:
        """One line per refused field, e.g. `embeds.0.title: Must be 256 or fewer in length.`"""
        lines: list[str] = []

        def walk(node: dict[str, Any], path: list[str]) -> None:
            for key, value in node.items():
                if key == "_errors":
                    where = ".".join(path) or "(body)"
                    lines.extend(f"{where}: {e['message']} ({e['code']})" for e in value)
                else:
                    walk(value, [*path, key])

        walk(self.errors or {}, [])
        return "; ".join(lines) or self.message


def not_found(code: int, what: str) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


def forbidden(code: int = MISSING_PERMISSIONS, message: str = "Missing Permissions") -> ApiError:
    return ApiError(403, code, message)


def form_errors(items: list[FormError], *, violation: bool = False) -> ApiError:
    """Discord's 50035 shape: every refusal nested under its field path, list indices as keys."""
    root: dict[str, Any] = {}
    for path, code, message in items:
        node = root
        for part in path:
            node = node.setdefault(part, {})
        found = node.setdefault("_errors", [])
        if {"code": code, "message": message} not in found:
            found.append({"code": code, "message": message})
    return ApiError(400, INVALID_FORM_BODY, "Invalid Form Body", root, violation=violation)


def invalid(
    field: str, message: str, code: str = "BASE_TYPE_INVALID", *, violation: bool = False
) -> ApiError:
    """One refused field, named by its dotted path (`embeds.0.title`; "" for the whole body)."""
    path = tuple(field.split(".")) if field else ()
    return form_errors([(path, code, message)], violation=violation)


@contextmanager
def fields_under(key: str) -> Iterator[None]:
    """Name refused fields of a nested body (an interaction response's `data`) by full path."""
    try:
        yield
    except ApiError as exc:
        if exc.errors is None:
            raise
        nested = {key: exc.errors}
        raise ApiError(exc.status, exc.code, exc.message, nested, violation=exc.violation) from None
