"""The Discord side of groups: giving and taking roles, making roles and private channels.

When Discord refuses, the coordinators need to know exactly what to change, so failures are
turned into a plain-language fix from what the bot can see of its own permissions and role.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord

from bot.app import COORDINATOR_KIND, HearthBot
from bot.errors import UserFacingError
from bot.i18n import ENGLISH, N_, Texts
from bot.i18n_discord import server_reason
from bot.outbox_kinds import message_specs

log = logging.getLogger(__name__)

UNKNOWN_MEMBER = 10007
UNKNOWN_ROLE = 10011
CHANNEL_ACCESS = discord.Permissions(
    view_channel=True, send_messages=True, read_message_history=True
)


@dataclass(frozen=True)
class Fix:
    """What a coordinator must change, as the catalogue's English (marked `N_`) and its values:
    written in each reader's language when shown (`text`)."""

    template: str
    params: tuple[tuple[str, str], ...] = ()

    def text(self, tr: Texts = ENGLISH) -> str:
        return tr.gettext(self.template).format(**dict(self.params))


@dataclass(frozen=True)
class RoleFailure:
    """Why a role change did not happen; `member_gone` means they left the server meanwhile."""

    fix: Fix
    member_gone: bool = False


def diagnose(guild: discord.Guild, role_id: int) -> Fix:
    """What a coordinator must change so the bot can give and take this role."""
    me = guild.me
    role = guild.get_role(role_id)
    if role is None:
        return Fix(
            N_(
                "the group's role no longer exists. Fix: archive the group with `/group archive` "
                "and create it again with `/group create`."
            )
        )
    if not me.guild_permissions.manage_roles:
        return Fix(
            N_(
                "I don't have the **Manage Roles** permission. Fix: Server Settings → Roles → "
                "{mine} → turn on Manage Roles."
            ),
            (("mine", me.top_role.mention),),
        )
    if role >= me.top_role:
        return Fix(
            N_(
                "the group role {role} is above my highest role {mine}. "
                "Fix: Server Settings → Roles, drag {mine} above {role}."
            ),
            (("role", role.mention), ("mine", me.top_role.mention)),
        )
    return Fix(
        N_(
            "Discord refused (missing permissions). Fix: make sure I have Manage Roles and that my "
            "role is above {role}."
        ),
        (("role", role.mention),),
    )


def check_assignable(guild: discord.Guild, role: discord.Role, tr: Texts = ENGLISH) -> None:
    """Refuse a role at creation time that joins could never hand out (`tr`: the reader's)."""
    if role.is_default() or role.managed:
        raise UserFacingError(
            N_(
                "{role} is managed by Discord or an integration, so I can't give it to "
                "members. Pick another role, or leave it out and I'll create one. "
                "Nothing was changed."
            ),
            role=role.mention,
        )
    if not guild.me.guild_permissions.manage_roles or role >= guild.me.top_role:
        raise UserFacingError(
            N_("I couldn't give out that role: {problem} Nothing was changed."),
            problem=diagnose(guild, role.id).text(tr),
        )


async def change_role(
    bot: HearthBot,
    guild: discord.Guild,
    user_id: int,
    role_id: int,
    *,
    add: bool,
    why: str,
    group_id: int,
) -> RoleFailure | None:
    """Give or take a group role; None on success. `why` (marked `N_`, with `{group}`) goes to
    Discord's audit log in the server's language."""
    reason = await server_reason(bot, guild.id, why, group=group_id)
    try:
        if add:
            await bot.http.add_role(guild.id, user_id, role_id, reason=reason)
        else:
            await bot.http.remove_role(guild.id, user_id, role_id, reason=reason)
    except discord.Forbidden:
        return RoleFailure(diagnose(guild, role_id))
    except discord.NotFound as exc:
        if exc.code == UNKNOWN_MEMBER:
            return RoleFailure(Fix(N_("they are no longer in the server.")), member_gone=True)
        return RoleFailure(diagnose(guild, role_id))
    except discord.HTTPException as exc:
        log.warning("role change failed in guild %s: %s %s", guild.id, exc.status, exc.code)
        return RoleFailure(
            Fix(
                N_("Discord had a problem (error {code}); try again."),
                (("code", str(exc.code or exc.status)),),
            )
        )
    return None


async def create_group_role(guild: discord.Guild, name: str, reason: str) -> discord.Role:
    """A plain role for the group: no permissions and not mentionable, so nobody can ping it."""
    try:
        return await guild.create_role(
            name=name[:100],
            permissions=discord.Permissions.none(),
            mentionable=False,
            reason=reason,
        )
    except discord.Forbidden:
        raise UserFacingError(
            N_(
                "I couldn't create a role for the group: I need the **Manage Roles** permission. "
                "Give it to my role (Server Settings → Roles), or pass an existing `role`. "
                "Nothing was changed."
            )
        ) from None


async def create_private_channel(
    guild: discord.Guild,
    name: str,
    group_role: discord.Role,
    staff_role_ids: list[int],
    reason: str,
) -> discord.TextChannel:
    """A text channel only the group, supporters, coordinators and the bot can see."""
    overwrites: dict[
        discord.Role | discord.Member | discord.Object, discord.PermissionOverwrite
    ] = {
        guild.default_role: discord.PermissionOverwrite(view_channel=False),
        group_role: discord.PermissionOverwrite.from_pair(CHANNEL_ACCESS, discord.Permissions()),
        guild.me: discord.PermissionOverwrite.from_pair(CHANNEL_ACCESS, discord.Permissions()),
    }
    for role_id in staff_role_ids:
        role = guild.get_role(role_id)
        if role is not None:
            overwrites[role] = discord.PermissionOverwrite.from_pair(
                CHANNEL_ACCESS, discord.Permissions()
            )
    try:
        return await guild.create_text_channel(name[:100], overwrites=overwrites, reason=reason)
    except discord.Forbidden:
        raise UserFacingError(
            N_(
                "I couldn't create the group's private channel: I need **Manage Channels** and "
                "**Manage Roles**. Give them to my role, or pass an existing `channel`. "
                "Nothing was changed."
            )
        ) from None


async def tell_coordinators(bot: HearthBot, guild: discord.Guild, text: str) -> None:
    """Problems coordinators must fix go to the log channel, or the alerts channel if unset."""
    await bot.outbox.send_now(message_specs(guild.id, COORDINATOR_KIND, bot.clock.now(), text))
