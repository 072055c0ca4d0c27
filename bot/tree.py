"""The command tree and the one error handler every interaction goes through.

Expected refusals (`UserFacingError`, failed checks, bad option values) show their message.
Anything else shows a short, kind message with an error code; the traceback goes to the log only,
tagged with the same code so a coordinator's report can be matched to it. Replies are ephemeral
and mention no one.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.i18n import ENGLISH, Texts
from bot.i18n_discord import record_locale, texts

log = logging.getLogger("bot.errors")

NO_MENTIONS = discord.AllowedMentions.none()


def error_code() -> str:
    return "E-" + secrets.token_hex(3).upper()


def _unwrap(error: BaseException) -> BaseException:
    """Find the error worth describing: the original of an invoke error, a transformer's refusal."""
    if isinstance(error, app_commands.CommandInvokeError):
        error = error.original
    if isinstance(error, app_commands.TransformerError) and isinstance(
        error.__cause__, UserFacingError
    ):
        error = error.__cause__
    return error


def _describe_expected(error: BaseException, tr: Texts) -> str | None:
    """The message for a refusal the user can act on, or None for a real fault."""
    if isinstance(error, UserFacingError):
        return error.text(tr)
    if isinstance(error, app_commands.NoPrivateMessage):
        return tr.gettext("That command only works inside a server, not in DMs.")
    if isinstance(error, app_commands.MissingPermissions | app_commands.MissingAnyRole):
        return tr.gettext("Only coordinators can use that command.")
    if isinstance(error, app_commands.CommandOnCooldown):
        return tr.gettext("Please wait {seconds} seconds before trying that again.").format(
            seconds=f"{error.retry_after:.0f}"
        )
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = ", ".join(perm.replace("_", " ") for perm in error.missing_permissions)
        return tr.gettext(
            "I don't have the permissions I need for that ({missing}). A coordinator can fix this."
        ).format(missing=missing)
    if isinstance(error, app_commands.TransformerError):
        if error.type is discord.AppCommandOptionType.user and isinstance(
            error.value, discord.User
        ):
            # Discord lets a person pick anyone by id; a command about members needs a member.
            return tr.gettext(
                "“{name}” isn't a member of this server, so I can't do that for them. Nothing "
                "was changed."
            ).format(name=error.value.display_name)
        return tr.gettext("“{value}” isn't a valid value for that option.").format(
            value=error.value
        )
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or tr.gettext("You can't use that command here.")
    return None


async def send_ephemeral(interaction: discord.Interaction, content: str, **kwargs: Any) -> None:
    """Reply privately whether or not the interaction was already answered."""
    kwargs.setdefault("allowed_mentions", NO_MENTIONS)
    if interaction.response.is_done():
        await interaction.followup.send(content, ephemeral=True, **kwargs)
    else:
        await interaction.response.send_message(content, ephemeral=True, **kwargs)


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Answer the user for any failure in a command, button, select or modal."""
    error = _unwrap(error)
    try:
        tr = await texts(interaction)
    except Exception:  # the handler of last resort must answer, if only in English
        tr = ENGLISH
    message = _describe_expected(error, tr)
    if message is None:
        code = error_code()
        where = (
            interaction.command.qualified_name if interaction.command else _component(interaction)
        )
        log.error(
            "unexpected error %s in %s (guild %s)",
            code,
            where,
            interaction.guild_id,
            exc_info=(type(error), error, error.__traceback__),
        )
        message = tr.gettext(
            "Sorry, something went wrong on my side and nothing was changed. "
            "If it keeps happening, please tell a coordinator the code **{code}**."
        ).format(code=code)
    if interaction.type is discord.InteractionType.autocomplete:
        return
    try:
        await send_ephemeral(interaction, message)
    except discord.HTTPException as exc:
        # The interaction expired or was answered by a modal; the user can't be told here.
        log.warning("could not deliver an error reply (%s %s)", exc.status, exc.code)
    except Exception as exc:  # the last line of defence must never raise (e.g. shutting down)
        log.warning("could not deliver an error reply (%s)", type(exc).__name__)


def _component(interaction: discord.Interaction) -> str:
    data: Mapping[str, object] = interaction.data or {}
    custom_id = str(data.get("custom_id", "?"))
    return f"component {custom_id.split(':', 1)[0]}"


class HearthTree(app_commands.CommandTree[Any]):
    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        """Note the member's client language for their DMs (`bot.i18n_discord`): before the
        command runs, so a `/mydata delete` deletes it too; a write only when it changed."""
        await record_locale(interaction)
        return True

    async def on_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        await report_error(interaction, error)
