"""Glue shared by the cogs: the coordinator check, error-routed views and modals, notices."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError
from bot.i18n import N_
from bot.i18n_discord import texts
from bot.services.audit import Param, Phrase
from bot.services.group_names import NAME_MAX as GROUP_NAME_MAX
from bot.services.text import split_text
from bot.services.timers import Timer
from bot.tree import NO_MENTIONS, report_error, send_ephemeral

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

T = TypeVar("T")
CogT = TypeVar("CogT", bound=commands.Cog)

# A group's name as members type or pick it; every command taking one declares the limit that
# `bot.services.groups` stores.
GroupName = app_commands.Range[str, 1, GROUP_NAME_MAX]


def hearth(interaction: discord.Interaction) -> HearthBot:
    return interaction.client  # type: ignore[return-value]  # Hearth's client is a HearthBot


def own_cog(interaction: discord.Interaction, kind: type[CogT], unavailable: str) -> CogT:
    """A feature's own cog, typed, for its persistent buttons and pages (which outlive any one
    cog object); other features are reached through `bot.features`, never through this."""
    cog = hearth(interaction).get_cog(kind.__cog_name__)
    if not isinstance(cog, kind):
        raise UserFacingError(unavailable)
    return cog


async def is_coordinator(interaction: discord.Interaction) -> bool:
    """Manage Server, or the server's coordinator role, both re-checked at run time.

    Discord's default permissions only hide commands, and only per top-level command; a member
    with an old client or a changed role must still be refused, so every admin action checks.
    """
    member = interaction.user
    if interaction.guild is None or not isinstance(member, discord.Member):
        return False
    if interaction.permissions.manage_guild or member.guild_permissions.manage_guild:
        return True
    settings = await hearth(interaction).settings.get(interaction.guild.id)
    role_id = settings.coordinator_role_id
    return role_id is not None and any(role.id == role_id for role in member.roles)


NOT_COORDINATOR = N_(
    "Only coordinators can do that (the coordinator role or Manage Server). Nothing was changed."
)


class NotCoordinator(app_commands.CheckFailure):
    """A failed check shows its own message (bot/tree.py), so it is written in the reader's
    language when raised."""

    def __init__(self, message: str = NOT_COORDINATOR) -> None:
        super().__init__(message)


async def _coordinator_predicate(interaction: discord.Interaction) -> bool:
    if interaction.guild is None:
        raise app_commands.NoPrivateMessage()
    if not await is_coordinator(interaction):
        raise NotCoordinator((await texts(interaction)).gettext(NOT_COORDINATOR))
    return True


def coordinator_only() -> Callable[[T], T]:
    """Mark one subcommand as coordinators-only (runtime check).

    Discord's default permissions apply per top-level command only, so a group that mixes
    member and coordinator subcommands relies on this check; wholly administrative groups use
    `CoordinatorGroup`, which is also hidden from members by default.
    """
    return app_commands.check(_coordinator_predicate)


class CoordinatorGroup(app_commands.Group):
    """A wholly administrative command group: hidden by default and re-checked at run time."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default_permissions", discord.Permissions(manage_guild=True))
        kwargs.setdefault("guild_only", True)
        super().__init__(**kwargs)

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        return await _coordinator_predicate(interaction)


def requires_coordinator(command: app_commands.Command[Any, ..., Any]) -> bool:
    """Whether a command is coordinators-only, so tests can check every such command refuses."""
    if _coordinator_predicate in command.checks:
        return True
    parent = command.parent
    while parent is not None:
        if isinstance(parent, CoordinatorGroup):
            return True
        parent = parent.parent
    return False


async def require_coordinator(interaction: discord.Interaction) -> None:
    """The same check for buttons and modals, which have no decorator."""
    await _coordinator_predicate(interaction)


ItemT = TypeVar("ItemT")
# discord.py types an item's callback as a coroutine function, so the decorated one must stay one.
InteractionCallback = Callable[[ItemT, discord.Interaction], Coroutine[Any, Any, None]]


def routed_errors(callback: InteractionCallback[ItemT]) -> InteractionCallback[ItemT]:
    """Send a persistent item's failures through the one error handler.

    discord.py only logs exceptions raised by a `DynamicItem`'s callback, so the person who
    pressed the button would see "This interaction failed". Decorate `callback` with this.
    """

    @functools.wraps(callback)
    async def wrapper(self: ItemT, interaction: discord.Interaction) -> None:
        try:
            await callback(self, interaction)
        except Exception as exc:
            await report_error(interaction, exc)

    return wrapper


class DynamicView(discord.ui.View):
    """A message's components, every one a `DynamicItem`.

    Presses are routed by custom_id to the item classes registered at start-up (so they work
    after a restart), never to this object, and errors by `routed_errors`. It is therefore
    finished from birth, and discord.py does not keep it: an unfinished view on a private reply
    is held with a 15-minute timer task, one per reply, which at a busy server's rate is
    hundreds of thousands of objects for the garbage collector to walk while members wait.
    """

    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.stop()

    def add_item(self, item: discord.ui.Item[Any]) -> DynamicView:
        if not isinstance(item, discord.ui.DynamicItem):
            raise TypeError(f"{type(item).__name__} is not a DynamicItem; it would never fire")
        super().add_item(item)
        return self


class HearthModal(discord.ui.Modal):
    async def on_error(  # type: ignore[override]  # as discord.py's Modal: no item argument
        self, interaction: discord.Interaction, error: Exception
    ) -> None:
        await report_error(interaction, error)


async def deliver_notices(interaction: discord.Interaction) -> None:
    """Show notices held while the member's DMs were closed, now that we can reach them."""
    if interaction.response.type in {
        discord.InteractionResponseType.modal,
        discord.InteractionResponseType.autocomplete_result,
        None,
    }:
        return
    bot = hearth(interaction)
    if not bot.notices.may_have_pending(interaction.user.id):
        return
    notices = await bot.notices.take(interaction.user.id)
    if not notices:
        return
    tr = await texts(interaction)
    text = tr.gettext("While I couldn't reach you by DM:") + "\n\n" + "\n\n".join(notices)
    try:
        for part in split_text(text):
            await interaction.followup.send(part, ephemeral=True, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.warning("could not deliver held notices (%s); keeping them", exc.code)
        for notice in notices:
            await bot.notices.hold(interaction.guild_id or 0, interaction.user.id, notice)


class DailyRetention:
    """A feature's daily sweep of members' data kept longer than each server keeps data.

    One timer of `kind` stands for the next sweep; each sweep deletes, server by server, what is
    older than that server's `retention_days` (`purge(guild_id, cutoff)` says how many rows went),
    then schedules the next one a day later, even when a server failed.
    """

    def __init__(
        self,
        bot: HearthBot,
        kind: str,
        what: str,
        guilds: Callable[[], Awaitable[Iterable[int]]],
        purge: Callable[[int, datetime], Awaitable[int]],
    ) -> None:
        self.bot, self.kind, self.what = bot, kind, what
        self._guilds, self._purge = guilds, purge

    async def start(self) -> None:
        """In `cog_load`: handle the timer, and plan the first sweep unless one is planned."""
        self.bot.dispatcher.register_timer(self.kind, self.sweep)
        if not await self.bot.timers.pending(self.kind):
            await self.schedule(self.bot.clock.now())

    def stop(self) -> None:
        self.bot.dispatcher.unregister_timer(self.kind)

    async def sweep(self, timer: Timer, now: datetime) -> None:
        try:
            for guild_id in await self._guilds():
                keep = (await self.bot.settings.get(guild_id)).retention_days
                removed = await self._purge(guild_id, now - timedelta(days=keep))
                if removed:
                    log.info("retention removed %d %s in guild %s", removed, self.what, guild_id)
        finally:
            await self.schedule(now + timedelta(days=1))

    async def schedule(self, due_at: datetime) -> None:
        await self.bot.timers.schedule(0, self.kind, "daily", due_at)
        self.bot.dispatcher.poke(due_at)


def guild_of(interaction: discord.Interaction) -> discord.Guild:
    if interaction.guild is None:
        raise UserFacingError(N_("That only works inside a server, not in DMs."))
    return interaction.guild


async def name_choices(
    interaction: discord.Interaction, names: Callable[[int], Awaitable[Iterable[str]]]
) -> list[app_commands.Choice[str]]:
    """Autocomplete offering a server's names (groups, rotas) as they are; none in DMs.

    `names(guild_id)` is the feature's own search, which already matches what was typed.
    """
    if interaction.guild_id is None:
        return []
    return [
        app_commands.Choice(name=name, value=name) for name in await names(interaction.guild_id)
    ]


async def record_audit(
    interaction: discord.Interaction,
    action: str,
    detail: str | tuple[str, str] | Phrase | None = None,
    /,
    **params: Param,
) -> None:
    """Record what the person behind `interaction` did in the audit trail (and its log channel):
    `await record_audit(interaction, AUDIT_GROUP_REOPENED, N_("{name}"), name=group.name)`, the
    detail a catalogue template and its values, so each reader sees it in their language."""
    bot = hearth(interaction)
    await bot.audit(guild_of(interaction), interaction.user.id, action, detail, **params)


async def audited(
    interaction: discord.Interaction,
    action: str,
    detail: Phrase | None,
    reply: str,
    **kwargs: Any,
) -> None:
    """Record a coordinator's change in the audit log (and its log channel), then tell them,
    privately, what now holds: every admin action ends this way. `detail` is a template and its
    values (`Phrase`), so each reader of the trail sees it in their language."""
    await record_audit(interaction, action, detail)
    await send_ephemeral(interaction, reply, **kwargs)


__all__ = [
    "CoordinatorGroup",
    "DailyRetention",
    "DynamicView",
    "GroupName",
    "HearthModal",
    "audited",
    "coordinator_only",
    "deliver_notices",
    "guild_of",
    "hearth",
    "is_coordinator",
    "name_choices",
    "record_audit",
    "require_coordinator",
    "requires_coordinator",
    "routed_errors",
    "send_ephemeral",
    "split_text",
]
