"""Errors that carry a message meant for the person who pressed the button."""

from __future__ import annotations


class UserFacingError(Exception):
    """An expected refusal: its message is shown to the user, ephemerally; nothing was changed.

    Services raise it for rule violations ("that group is full", "you have not been trained yet")
    so the command tree's one error handler can answer kindly without a traceback in sight.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotSetUpError(UserFacingError):
    """A command needs a server setting that `/setup` has not set yet."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"Hearth hasn't been fully set up on this server yet ({what} is not set). "
            "A coordinator can run `/setup` to finish it."
        )
