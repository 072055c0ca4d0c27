"""The server languages a coordinator can pick, in `/setup` and `/admin set language`."""

from __future__ import annotations

from discord import app_commands

from bot.i18n import available_languages, language_name
from bot.services.locales import AUTO


def language_choices() -> list[app_commands.Choice[str]]:
    """`auto` and every language Hearth has a catalogue for, each named in its own words."""
    return [
        app_commands.Choice(name="the server's Discord language (automatic)", value=AUTO),
        *(
            app_commands.Choice(name=language_name(code), value=code)
            for code in available_languages()
        ),
    ]
