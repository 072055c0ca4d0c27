"""The bot's own permission check: what is missing, and why Hearth needs each thing.

Shared by `/setup` and `/admin permissions`. A coordinator who reads "Manage Roles is missing"
needs to know what breaks without it to decide whether to grant it, so every line says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.i18n import N_, Texts
from bot.services.settings import GuildSettings

# (permission flags, any one of which is enough; the name shown; why Hearth needs it)
SERVER_NEEDS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (
        ("manage_roles",),
        N_("Manage Roles"),
        N_("to give and take group roles and the guidelines role, and to create roles in /setup"),
    ),
    (
        ("manage_channels",),
        N_("Manage Channels"),
        N_("to create the private log and alerts channels and group channels"),
    ),
    (
        ("send_messages",),
        N_("Send Messages"),
        N_("to post group panels, rotas, alerts and the audit trail"),
    ),
    (("embed_links",), N_("Embed Links"), N_("so panels and rotas show as cards, not bare text")),
    (
        ("manage_messages", "pin_messages"),
        N_("Manage Messages (or Pin Messages)"),
        N_("to pin group panels and rotas where members can find them"),
    ),
    (
        ("create_private_threads",),
        N_("Create Private Threads"),
        N_("to open private support threads between a member and a supporter"),
    ),
    (
        ("send_messages_in_threads",),
        N_("Send Messages in Threads"),
        N_("to speak in those support threads"),
    ),
    (
        ("manage_events", "create_events"),
        N_("Manage Events (or Create Events)"),
        N_("to show group sessions in Discord's Events list, and move or cancel them there"),
    ),
)

CHANNEL_NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "log": (("view_channel", N_("View Channel")), ("send_messages", N_("Send Messages"))),
    "alerts": (("view_channel", N_("View Channel")), ("send_messages", N_("Send Messages"))),
    "support": (
        ("view_channel", N_("View Channel")),
        ("send_messages", N_("Send Messages")),
        ("create_private_threads", N_("Create Private Threads")),
        ("send_messages_in_threads", N_("Send Messages in Threads")),
    ),
}

CHANNEL_WHY = {
    "log": N_("to post the audit trail there"),
    "alerts": N_("to tell coordinators about uncovered shifts and support requests"),
    "support": N_("to open private support threads there"),
}

CHANNEL_GONE = {
    "log": N_("the log channel"),
    "alerts": N_("the alerts channel"),
    "support": N_("the support channel"),
}


@dataclass(frozen=True)
class Problem:
    what: str
    why: str


def _channel_id(settings: GuildSettings, kind: str) -> int | None:
    channel_id: int | None = getattr(settings, f"{kind}_channel_id")
    return channel_id


def check_permissions(guild: discord.Guild, settings: GuildSettings, tr: Texts) -> list[Problem]:
    """Everything the bot lacks in this server and its configured channels, with reasons,
    in `tr`'s language."""
    me = guild.me
    granted = me.guild_permissions
    problems = [
        Problem(tr.gettext(name), tr.gettext(why))
        for flags, name, why in SERVER_NEEDS
        if not any(getattr(granted, flag) for flag in flags)
    ]
    for kind, needs in CHANNEL_NEEDS.items():
        channel_id = _channel_id(settings, kind)
        if channel_id is None:
            continue
        channel = guild.get_channel(channel_id)
        if not isinstance(channel, discord.TextChannel):
            problems.append(
                Problem(
                    tr.gettext(CHANNEL_GONE[kind]),
                    tr.gettext("it was set but no longer exists; pick another one in /setup"),
                )
            )
            continue
        here = channel.permissions_for(me)
        lacking = [tr.gettext(name) for flag, name in needs if not getattr(here, flag)]
        if lacking:
            problems.append(
                Problem(
                    tr.gettext("{permissions} in {channel}").format(
                        permissions=", ".join(lacking), channel=channel.mention
                    ),
                    tr.gettext(CHANNEL_WHY[kind]),
                )
            )
    role_id = settings.guidelines_role_id
    role = guild.get_role(role_id) if role_id else None
    if role is not None and role >= me.top_role:
        problems.append(
            Problem(
                tr.gettext("a role above {role}").format(role=role.mention),
                tr.gettext(
                    "to give it to members who accept the guidelines: drag Hearth's role above "
                    "it in Server Settings → Roles"
                ),
            )
        )
    return problems


def describe_problems(problems: list[Problem], tr: Texts) -> str:
    if not problems:
        return tr.gettext("**My permissions:** all good ✅")
    lines = [tr.gettext("**My permissions:** some are missing ⚠️ A server admin can grant them:")]
    lines += [
        tr.gettext("- **{what}** — {why}").format(what=problem.what, why=problem.why)
        for problem in problems
    ]
    return "\n".join(lines)
