"""Discord-shaped API errors, so discord.py raises the exception types it would in production."""

from __future__ import annotations

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
INVALID_WEBHOOK_TOKEN = 50027
THREAD_ARCHIVED = 50083
MAX_PINS = 30003
ALREADY_ACKNOWLEDGED = 40060


class ApiError(Exception):
    """Raised by handlers; the middleware turns it into Discord's JSON error body."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def response(self) -> web.Response:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return web.json_response(body, status=self.status)


def not_found(code: int, what: str) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


def forbidden(code: int = MISSING_PERMISSIONS, message: str = "Missing Permissions") -> ApiError:
    return ApiError(403, code, message)


def invalid(field: str, message: str, code: str = "BASE_TYPE_INVALID") -> ApiError:
    """Discord's 50035 shape: errors nested by field path, which discord.py flattens into text."""
    node: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(field.split(".")):
        node = {part: node}
    return ApiError(400, INVALID_FORM_BODY, "Invalid Form Body", node)
