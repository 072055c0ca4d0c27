"""Errors that carry a message meant for the person who pressed the button."""

from __future__ import annotations

from collections.abc import Mapping

from bot.i18n import ENGLISH, N_, Texts


class UserFacingError(Exception):
    """An expected refusal: its message is shown to the user, ephemerally; nothing was changed.

    Services raise it for rule violations ("that group is full", "you have not been trained yet")
    so the command tree's one error handler can answer kindly without a traceback in sight.

    The message is the catalogue's English source, marked `N_`, with `{name}` placeholders whose
    values come as keyword arguments: the handler shows it in the reader's language
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

    @classmethod
    def filled(cls, template: str, params: Mapping[str, object]) -> UserFacingError:
        """The refusal `template` with `params` collected elsewhere (`InvalidValue`)."""
        refusal = cls(template)
        refusal.params = dict(params)
        refusal.message = refusal.text(ENGLISH)
        refusal.args = (refusal.message,)
        return refusal

    def text(self, tr: Texts) -> str:
        """The message in `tr`'s language, its placeholders filled."""
        if self.plural is not None and self.n is not None:
            return tr.ngettext(self.template, self.plural, self.n).format(n=self.n, **self.params)
        shown = tr.gettext(self.template)
        return shown.format(**self.params) if self.params else shown


class InvalidValue(ValueError):
    """A validator's refusal in the catalogue's words: a `ValueError`, so pydantic collects it
    as it does any other (keeping it as the error's `ctx["error"]`), and the settings service
    turns it into a `UserFacingError`, shown in the reader's language."""

    def __init__(self, template: str, /, **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params) if params else template)


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
