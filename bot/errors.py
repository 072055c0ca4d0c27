"""Errors that carry a message meant for the person who pressed the button."""

from __future__ import annotations

from bot.i18n import ENGLISH, N_, Day, Texts


class UserFacingError(Exception):
    """An expected refusal: its message is shown to the user, ephemerally; nothing was changed.

    Services raise it for rule violations ("that group is full", "you have not been trained yet")
    so the command tree's one error handler can answer kindly without a traceback in sight.

    The message is the catalogue's English source, marked `N_`, with `{name}` placeholders whose
    values come as keyword arguments (a `Day` is written in the reader's language too): the
    handler shows it in the reader's language
    (`text(tr)`), so a service needs no idea who reads it. `plural` and `n` choose a plural
    form from the catalogue. `message` is the English text, for logs and for callers that
    pass the refusal on.
    """

    def __init__(
        self, template: str, /, *, plural: str | None = None, n: int | None = None, **params: object
    ) -> None:
        self.template = template
        self.plural = plural
        self.n = n
        self.params = params
        self.message = self.text(ENGLISH)
        super().__init__(self.message)

    def text(self, tr: Texts) -> str:
        """The message in `tr`'s language, its placeholders filled."""
        params = {
            name: value.text(tr) if isinstance(value, Day) else value
            for name, value in self.params.items()
        }
        if self.plural is not None and self.n is not None:
            return tr.ngettext(self.template, self.plural, self.n).format(n=self.n, **params)
        shown = tr.gettext(self.template)
        return shown.format(**params) if params else shown


class NotSetUpError(UserFacingError):
    """A command needs a server setting that `/setup` has not set yet."""

    def __init__(self, what: str) -> None:
        super().__init__(
            N_(
                "Hearth hasn't been fully set up on this server yet ({what} is not set). "
                "A coordinator can run `/setup` to finish it."
            ),
            what=what,
        )
