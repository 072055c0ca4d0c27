"""Where Discord meets the catalogues (`bot/i18n.py`): commands in each member's client language,
and which language a reply or a message Hearth sends on its own is written in.

- Commands: `CommandTranslator` is discord.py's `app_commands.Translator`; the tree calls it for
  every command, group and option name and description and every choice, in every Discord
  locale, when it syncs. No cog names a translation: the strings are read from the live tree,
  for sync as for extraction (`extract_commands`, a Babel extraction method in babel.cfg).
- Replies: `await texts(interaction)`: the member's client locale when it has a catalogue
  (English has one: the source), else the server's language, else English.
- Hearth on its own: `await texts_for_guild(bot, guild_id)` (alerts, reminders, prompts: the
  server's language) and `await texts_for_member(bot, guild_id, user_id)` (a personal DM: the
  member's most recent client locale, if Hearth has seen one, else the server's language).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from bot import i18n
from bot.i18n import COMMAND_CHOICE, COMMAND_DESCRIPTION, COMMAND_NAME, Texts
from bot.services.locales import AUTO, LANGUAGE, MemberLocales, server_language

if TYPE_CHECKING:
    from bot.app import HearthBot

_CONTEXTS = {
    Where.command_name: COMMAND_NAME,
    Where.group_name: COMMAND_NAME,
    Where.parameter_name: COMMAND_NAME,
    Where.command_description: COMMAND_DESCRIPTION,
    Where.group_description: COMMAND_DESCRIPTION,
    Where.parameter_description: COMMAND_DESCRIPTION,
    Where.choice_name: COMMAND_CHOICE,
}


class CommandTranslator(app_commands.Translator):
    """Command strings from the catalogues: None (Discord's English default) where a language
    has no catalogue or no translation of that string, so a half-translated catalogue still
    syncs. Autocomplete answers are data (group names) and never pass here."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        where = _CONTEXTS.get(context.location)
        if where is None or isinstance(context.data, app_commands.ContextMenu):
            return None
        found = i18n.find(locale.value)
        return found.translated(where, string.message) if found is not None else None


# --- the strings of the command tree ------------------------------------------------------------
CommandString = tuple[str, str, str]  # (context, English, where: "/group join: option name")


def command_strings(tree: app_commands.CommandTree[Any]) -> Iterator[CommandString]:
    """Every translatable string of the tree, as the translator will be asked for them."""

    def walk(item: Any) -> Iterator[CommandString]:
        path = "/" + item.qualified_name
        yield COMMAND_NAME, item.name, f"{path}: name"
        yield COMMAND_DESCRIPTION, item.description, f"{path}: description"
        if isinstance(item, app_commands.Group):
            for child in item.commands:
                yield from walk(child)
            return
        for param in item.parameters:
            yield COMMAND_NAME, param.display_name, f"{path}: option {param.name}"
            yield COMMAND_DESCRIPTION, param.description, f"{path}: option {param.name}"
            for choice in param.choices:
                yield COMMAND_CHOICE, choice.name, f"{path}: {param.name} choice"

    for command in tree.get_commands(type=discord.AppCommandType.chat_input):
        yield from walk(command)


async def loaded_tree() -> app_commands.CommandTree[Any]:
    """The command tree as Hearth builds it, every cog loaded, on a throwaway database."""
    from bot.app import HearthBot
    from bot.config import HearthConfig

    with tempfile.TemporaryDirectory() as folder:
        config = HearthConfig.model_validate(
            {
                "database": {"path": str(Path(folder) / "extract.sqlite3")},
                "discord": {"sync_commands": False},
            }
        )
        bot = HearthBot(config, run_scheduler=False)
        try:
            await bot.setup_hook()
            return bot.tree
        finally:
            await bot.db.close()


def extract_commands(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, tuple[str, str], list[str]]]:
    """A Babel extraction method (babel.cfg): the command tree's strings, as `pgettext` calls
    with their context, each with a comment saying where it is shown."""
    tree = asyncio.run(loaded_tree())
    for context, message, where in command_strings(tree):
        yield 1, "pgettext", (context, message), [where]


# --- which language ----------------------------------------------------------------------------
def _bot(interaction: discord.Interaction) -> HearthBot:
    return interaction.client  # type: ignore[return-value]  # Hearth's client is a HearthBot


async def _server_locale(bot: HearthBot, guild_id: int | None) -> str | None:
    if guild_id is None:
        return None
    setting = (await bot.settings.get(guild_id))[LANGUAGE]
    if setting != AUTO:
        return server_language(setting, None)
    guild = bot.get_guild(guild_id)
    if guild is not None:
        return server_language(setting, guild.preferred_locale.value)
    # Another process's shard (a yes pressed in a DM): the language it noted for the server.
    return server_language(setting, await bot.guild_registry.preferred_locale(guild_id))


async def texts(interaction: discord.Interaction) -> Texts:
    """What a reply to this interaction is written in."""
    found = i18n.find(interaction.locale.value)
    if found is not None:
        return found
    return i18n.texts(await _server_locale(_bot(interaction), interaction.guild_id))


async def texts_for_guild(bot: HearthBot, guild_id: int | None) -> Texts:
    """What Hearth writes on its own in a server: alerts, reminders, prompts."""
    return i18n.texts(await _server_locale(bot, guild_id))


async def server_reason(bot: HearthBot, guild_id: int, template: str, **params: object) -> str:
    """Why Hearth changed a role, channel or pin, as Discord's audit log shows it to the
    server's moderators: in the server's language (`template` is marked `N_`)."""
    text = (await texts_for_guild(bot, guild_id)).gettext(template)
    return text.format(**params) if params else text


async def texts_for_member(bot: HearthBot, guild_id: int, user_id: int) -> Texts:
    """What a personal DM is written in: the member's client language if Hearth saw it."""
    seen = await bot.service(MemberLocales).of(guild_id, user_id)
    return i18n.texts(seen, await _server_locale(bot, guild_id))


async def record_locale(interaction: discord.Interaction) -> None:
    """Remember a member's client locale for their DMs where it is not the server's language
    (a write only when that changes; `MemberLocales`)."""
    guild_id = interaction.guild_id
    if guild_id is None or interaction.type is not discord.InteractionType.application_command:
        return
    bot = _bot(interaction)
    server = i18n.texts(await _server_locale(bot, guild_id)).language
    await bot.service(MemberLocales).seen(
        guild_id, interaction.user.id, interaction.locale.value, server
    )
