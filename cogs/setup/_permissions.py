"""The bot's own permission check: what is missing, and why Hearth needs each thing.

Shared by `/setup` and `/admin permissions`. A coordinator who reads "Manage Roles is missing"
needs to know what breaks without it to decide whether to grant it, so every line says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

from bot.services.settings import GuildSettings

# (permission flags, any one of which is enough; the name shown; why Hearth needs it)
SERVER_NEEDS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (
        ("manage_roles",),
        "Manage Roles",
        "to give and take group roles and the guidelines role, and to create roles in /setup",
    ),
    (
        ("manage_channels",),
        "Manage Channels",
        "to create the private log and alerts channels and group channels",
    ),
    (
        ("send_messages",),
        "Send Messages",
        "to post group panels, rotas, alerts and the audit trail",
    ),
    (("embed_links",), "Embed Links", "so panels and rotas show as cards, not bare text"),
    (
        ("manage_messages", "pin_messages"),
        "Manage Messages (or Pin Messages)",
        "to pin group panels and rotas where members can find them",
    ),
    (
        ("create_private_threads",),
        "Create Private Threads",
        "to open private support threads between a member and a supporter",
    ),
    (
        ("send_messages_in_threads",),
        "Send Messages in Threads",
        "to speak in those support threads",
    ),
    (
        ("manage_events", "create_events"),
        "Manage Events (or Create Events)",
        "to show group sessions in Discord's Events list, and move or cancel them there",
    ),
)

CHANNEL_NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "log": (("view_channel", "View Channel"), ("send_messages", "Send Messages")),
    "alerts": (("view_channel", "View Channel"), ("send_messages", "Send Messages")),
    "support": (
        ("view_channel", "View Channel"),
        ("send_messages", "Send Messages"),
        ("create_private_threads", "Create Private Threads"),
        ("send_messages_in_threads", "Send Messages in Threads"),
    ),
}

CHANNEL_WHY = {
    "log": "to post the audit trail there",
    "alerts": "to tell coordinators about uncovered shifts and support requests",
    "support": "to open private support threads there",
}


@dataclass(frozen=True)
class Problem:
    what: str
    why: str


def _channel_id(settings: GuildSettings, kind: str) -> int | None:
    channel_id: int | None = getattr(settings, f"{kind}_channel_id")
    return channel_id


def check_permissions(guild: discord.Guild, settings: GuildSettings) -> list[Problem]:
    """Everything the bot lacks in this server and its configured channels, with reasons."""
    me = guild.me
    granted = me.guild_permissions
    problems = [
        Problem(name, why)
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
                    f"the {kind} channel",
                    "it was set but no longer exists; pick another one in /setup",
                )
            )
            continue
        here = channel.permissions_for(me)
        lacking = [name for flag, name in needs if not getattr(here, flag)]
        if lacking:
            problems.append(
                Problem(f"{', '.join(lacking)} in {channel.mention}", CHANNEL_WHY[kind])
            )
    role_id = settings.guidelines_role_id
    role = guild.get_role(role_id) if role_id else None
    if role is not None and role >= me.top_role:
        problems.append(
            Problem(
                f"a role above {role.mention}",
                "to give it to members who accept the guidelines: drag Hearth's role above it "
                "in Server Settings → Roles",
            )
        )
    return problems


def describe_problems(problems: list[Problem]) -> str:
    if not problems:
        return "**My permissions:** all good ✅"
    lines = ["**My permissions:** some are missing ⚠️ A server admin can grant them:"]
    lines += [f"- **{problem.what}** — {problem.why}" for problem in problems]
    return "\n".join(lines)
