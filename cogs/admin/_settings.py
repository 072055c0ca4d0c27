"""Showing settings the way a coordinator reads them, and checking role/channel values exist."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.errors import UserFacingError
from bot.i18n import ENGLISH, N_, Texts
from bot.services.audit import Param, Phrase, render_param
from bot.services.settings import SETTING_KEYS, GuildSettings, describe
from bot.services.text import one_line

CLEARING_WORDS = {"none", "off", ""}


def shown(guild: discord.Guild, key: str, value: Any, tr: Texts = ENGLISH) -> str:
    """A setting's value as a coordinator reads it, in `tr`'s language."""
    return render_param(value_phrase(guild, key, value), tr)


def value_phrase(guild: discord.Guild, key: str, value: Any) -> Param:
    """A setting's value as a template's value: data as written, "not set" and the like as
    catalogue phrases, so the audit trail shows it in each reader's language."""
    if value is None:
        return Phrase(N_("not set"))
    if isinstance(value, bool):
        return Phrase(N_("on")) if value else Phrase(N_("off"))
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or Phrase(N_("none"))
    if key.endswith("_role_id"):
        if guild.get_role(value):
            return f"<@&{value}>"
        return Phrase(N_("a deleted role ({id})"), id=value)
    if key.endswith("_channel_id"):
        if guild.get_channel(value):
            return f"<#{value}>"
        return Phrase(N_("a deleted channel ({id})"), id=value)
    return str(value)


def settings_text(guild: discord.Guild, settings: GuildSettings, tr: Texts) -> str:
    lines = [
        tr.gettext("**`{key}`**: {value} — {description}").format(
            key=key,
            value=shown(guild, key, getattr(settings, key), tr),
            description=tr.gettext(describe(key)),
        )
        for key in SETTING_KEYS
    ]
    return "\n".join(lines)


def key_choices(current: str, limit: int = 25, *, tr: Texts) -> list[tuple[str, str]]:
    """(label, key) pairs matching what was typed in the key or its description (English or
    the reader's)."""
    typed = current.strip().lower()
    ranked = sorted(
        (0 if key.startswith(typed) else 1 if typed in key else 2, key)
        for key in SETTING_KEYS
        if typed in key
        or typed in describe(key).lower()
        or typed in tr.gettext(describe(key)).lower()
    )
    label = tr.gettext("{key} — {description}")
    return [
        (label.format(key=key, description=tr.gettext(describe(key)))[:100], key)
        for _, key in ranked[:limit]
    ]


def resolve_entity(guild: discord.Guild, key: str, raw: str) -> str:
    """For role and channel settings: accept a mention, an id or a name; refuse unknown ones.

    Returns the text to hand to the settings parser (an id, or a clearing word).
    """
    text = one_line(raw)
    if text.lower() in CLEARING_WORDS:
        return text
    is_role = key.endswith("_role_id")
    digits = re.fullmatch(r"<[@#]&?(\d+)>|(\d+)", text)
    if digits:
        found_id = int(digits.group(1) or digits.group(2))
        found: Any = guild.get_role(found_id) if is_role else guild.get_channel(found_id)
    else:
        names = {text.lower(), text.lstrip("@#").lower()}
        pool: list[Any] = list(guild.roles) if is_role else list(guild.text_channels)
        found = next((item for item in pool if item.name.lower() in names), None)
    if found is None or (not is_role and not isinstance(found, discord.TextChannel)):
        if is_role:
            raise UserFacingError(
                N_(
                    "I can't find a role “{name}” in this server. Mention it, or give its exact "
                    "name. Nothing was changed."
                ),
                name=text[:60],
            )
        raise UserFacingError(
            N_(
                "I can't find a text channel “{name}” in this server. Mention it, or give its "
                "exact name. Nothing was changed."
            ),
            name=text[:60],
        )
    if is_role and (found.is_default() or found.managed):
        raise UserFacingError(
            N_(
                "That role can't be used: pick a role people are given, not @everyone or a "
                "bot's own role. Nothing was changed."
            )
        )
    return str(found.id)
