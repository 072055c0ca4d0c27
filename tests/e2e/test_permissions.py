"""Every coordinator-only command refuses a member and changes nothing — including commands
features add later: the list is read from the live command tree, never written down here.

Discord hides these commands from members by default, but an old client or a role changed a
moment ago can still send them, so the test plays such a client: it strips the registered
`default_member_permissions` before invoking, and the bot's own run-time check must refuse.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.app import HearthBot
from cogs._ui import requires_coordinator
from tests.harness import Harness, bot_of
from tests.helpers import dump, greeted

AnyCommand = app_commands.Command[Any, ..., Any]
Kind = discord.AppCommandOptionType


def _admin_by_default(command: Any) -> bool:
    root = getattr(command, "root_parent", None) or command
    defaults = root.default_permissions
    return defaults is not None and defaults.manage_guild


def coordinator_commands(bot: HearthBot) -> list[tuple[str, Any]]:
    """(path, command) for every coordinator-only slash command and context menu."""
    found: list[tuple[str, Any]] = []

    def walk(item: Any) -> None:
        if isinstance(item, app_commands.Group):
            for child in item.commands:
                walk(child)
        elif requires_coordinator(item) or _admin_by_default(item):
            found.append((item.qualified_name, item))

    for command in bot.tree.get_commands(type=discord.AppCommandType.chat_input):
        walk(command)
    for kind in (discord.AppCommandType.user, discord.AppCommandType.message):
        for menu in bot.tree.get_commands(type=kind):
            if _admin_by_default(menu):
                found.append((menu.name, menu))
    return sorted(found, key=lambda item: item[0])


def dummy_options(hearth: Harness, command: AnyCommand) -> dict[str, Any]:
    """A value of the right type for every required option (members, roles, channels, files)."""
    values: dict[str, Any] = {}
    for param in command.parameters:
        if not param.required:
            continue
        if param.choices:
            values[param.display_name] = param.choices[0].value
        elif param.type is Kind.string:
            values[param.display_name] = "x" * max(1, int(param.min_value or 1))
        elif param.type in (Kind.integer, Kind.number):
            low = param.min_value if param.min_value is not None else 1
            values[param.display_name] = int(low) if param.type is Kind.integer else float(low)
        elif param.type is Kind.boolean:
            values[param.display_name] = True
        elif param.type in (Kind.user, Kind.mentionable):
            values[param.display_name] = hearth.supporter
        elif param.type is Kind.role:
            values[param.display_name] = hearth.supporter_role
        elif param.type is Kind.channel:
            values[param.display_name] = hearth.alerts
        elif param.type is Kind.attachment:
            values[param.display_name] = ("dummy.txt", b"dummy")
        else:
            raise AssertionError(f"/{command.qualified_name}: no dummy for {param.type}")
    return values


async def test_every_coordinator_command_refuses_a_member_and_changes_nothing(
    hearth: Harness,
) -> None:
    bot = bot_of(hearth)
    commands = coordinator_commands(bot)
    names = {path for path, _ in commands}
    assert {"setup", "admin settings", "admin set", "admin audit", "admin export"} <= names
    assert "admin permissions" in names

    # The owner's join greeting writes to the store; let it land before the first dump.
    await greeted(hearth)
    for registered in hearth.fake.global_commands:  # an old client ignores these
        registered["default_member_permissions"] = None
    target = await hearth.say(hearth.supporter, hearth.general, "a message to act on")

    failures: list[str] = []
    for path, command in commands:
        before = await dump(bot.db)
        try:
            if isinstance(command, app_commands.ContextMenu):
                is_user = command.type is discord.AppCommandType.user
                reply = await hearth.context_menu(
                    hearth.member, hearth.general, path, hearth.supporter if is_user else target
                )
            else:
                reply = await hearth.slash(
                    hearth.member, hearth.general, path, **dummy_options(hearth, command)
                )
        except AssertionError as exc:
            failures.append(f"/{path}: could not be invoked: {exc}")
            continue
        if "Only coordinators" not in reply.text:
            failures.append(f"/{path}: a member was not refused; they saw {reply.text[:200]!r}")
        elif not reply.ephemeral:
            failures.append(f"/{path}: the refusal was not private")
        if await dump(bot.db) != before:
            failures.append(f"/{path}: the database changed although the member was refused")
    assert not failures, "\n".join(failures)
    assert not hearth.messages(hearth.log) and not hearth.messages(hearth.alerts)
