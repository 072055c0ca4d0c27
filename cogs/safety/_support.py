"""The support-request flow: a private thread with the on-duty supporters, claim and close.

Who can see a request: the member, the supporters on duty when it was opened, and the
coordinators, all added to a private, non-invitable thread. The note a member writes is posted
in the thread only; Hearth's database keeps ids, times and state.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Final

import discord
from discord.utils import format_dt

from bot.app import HearthBot
from bot.errors import NotSetUpError, UserFacingError
from bot.i18n import N_, Texts
from bot.i18n_discord import texts, texts_for_guild, texts_for_member
from bot.outbox_kinds import AlertPost
from bot.services.crisis import CrisisService, crisis_text
from bot.services.outbox import OutboxItem
from bot.services.support import (
    CLAIM_ALERT_MINUTES,
    MAX_NOTE,
    UNCLAIMED_TIMER,
    OnDuty,
    Source,
    SupportRequest,
    SupportService,
)
from bot.tree import NO_MENTIONS, send_ephemeral
from cogs._routes import PersistentButton
from cogs._ui import DynamicView, hearth, is_coordinator

log = logging.getLogger(__name__)

MAX_ADDED_COORDINATORS = 25
TAKE_LABEL = N_("I'll take this")
CLOSE_LABEL = N_("Close")
ARCHIVE_MINUTES: Final = 10080  # a week: a quiet request should not vanish overnight


def support_service(bot: HearthBot) -> SupportService:
    return bot.service(SupportService)


async def _thread(guild: discord.Guild, thread_id: int | None) -> discord.Thread | None:
    if thread_id is None:
        return None
    thread = guild.get_thread(thread_id)
    if thread is not None:
        return thread
    try:
        fetched = await guild.fetch_channel(thread_id)
    except discord.HTTPException:
        return None
    return fetched if isinstance(fetched, discord.Thread) else None


def _names(on_duty: list[OnDuty]) -> str:
    return ", ".join(f"<@{duty.user_id}>" for duty in on_duty)


async def coordinator_ids(guild: discord.Guild, role_id: int | None) -> list[int]:
    """Coordinators to add to a thread: the coordinator role, or members with Manage Server.

    Hearth doesn't chunk servers at start-up, so the member list is fetched once when needed.
    """
    if not guild.chunked:
        await guild.chunk()
    role = guild.get_role(role_id) if role_id else None
    people = (
        role.members
        if role is not None
        else [m for m in guild.members if m.guild_permissions.manage_guild]
    )
    return [m.id for m in people if not m.bot][:MAX_ADDED_COORDINATORS]


async def can_support(bot: HearthBot, guild: discord.Guild, user_id: int) -> bool:
    """A supporter (role or on duty now) or a coordinator may take a request."""
    member = guild.get_member(user_id)
    if member is None:
        try:
            member = await guild.fetch_member(user_id)
        except discord.HTTPException:
            return False
    settings = await bot.settings.get(guild.id)
    if member.guild_permissions.manage_guild:
        return True
    role_ids = {role.id for role in member.roles}
    if {settings.supporter_role_id, settings.coordinator_role_id} & role_ids:
        return True
    on_duty = await support_service(bot).supporters_on_duty(guild.id)
    return any(duty.user_id == user_id for duty in on_duty)


def request_view(request: SupportRequest, tr: Texts, *, claim: bool = True) -> discord.ui.View:
    """The request's buttons, labelled in `tr`'s language (a press keeps the label it had)."""
    view = DynamicView()
    if claim:
        view.add_item(ClaimButton(request.guild_id, request.id, tr.gettext(TAKE_LABEL)))
    view.add_item(CloseButton(request.guild_id, request.id, tr.gettext(CLOSE_LABEL)))
    return view


async def open_request(
    bot: HearthBot,
    guild: discord.Guild,
    user_id: int,
    source: Source,
    note: str | None,
    tr: Texts,
) -> tuple[str, SupportRequest]:
    """Open a request and tell the right people; returns the honest text for the member, in
    `tr`'s language (what the coordinators and supporters see is in theirs)."""
    settings = await bot.settings.get(guild.id)
    server = await texts_for_guild(bot, guild.id)
    channel = (
        guild.get_channel(settings.support_channel_id) if settings.support_channel_id else None
    )
    if not isinstance(channel, discord.TextChannel):
        await bot.alert(
            guild,
            server.gettext(
                "{member} asked to talk to a peer supporter, but no support channel is set "
                "(or it is gone). Please reach out to them, and set one with `/setup`."
            ).format(member=f"<@{user_id}>"),
        )
        raise NotSetUpError("the support channel")
    request = await support_service(bot).open(guild.id, user_id, source)
    now = bot.clock.now()
    on_duty = await support_service(bot).supporters_on_duty(guild.id)
    thread = await _open_thread(bot, guild, channel, request, on_duty, note, settings, server)
    due = now + timedelta(minutes=settings[CLAIM_ALERT_MINUTES])
    await bot.timers.schedule(guild.id, UNCLAIMED_TIMER, str(request.id), due, {})
    bot.dispatcher.poke(due)
    if not on_duty:
        if thread is not None:
            alert = server.gettext(
                "{member} asked to talk to a peer supporter and no one is on duty right now "
                "in {thread}. Could a coordinator reach out?"
            )
        else:
            alert = server.gettext(
                "{member} asked to talk to a peer supporter and no one is on duty right now. "
                "Could a coordinator reach out?"
            )
        thread_mention = thread.mention if thread else ""
        await bot.alert(guild, alert.format(member=f"<@{user_id}>", thread=thread_mention))
        starts = await support_service(bot).next_shift(guild.id)
        when = (
            tr.gettext("The next shift starts {when} ({relative}).").format(
                when=format_dt(starts, "F"), relative=format_dt(starts, "R")
            )
            if starts
            else tr.gettext("No upcoming shift is scheduled yet.")
        )
        if thread is not None:
            told = tr.gettext(
                "Thank you for asking. I'm sorry: **no peer supporter is on duty right now.** "
                "{when} I've told the coordinators, and they can see your request in {thread}."
            )
        else:
            told = tr.gettext(
                "Thank you for asking. I'm sorry: **no peer supporter is on duty right now.** "
                "{when} I've told the coordinators, and they can see your request."
            )
        resources = await bot.service(CrisisService).resources(guild.id)
        return (
            told.format(when=when, thread=thread_mention)
            + "\n\n"
            + crisis_text(resources, in_server=True, tr=tr)
        ), request
    if thread is None:
        return tr.gettext(
            "Thank you for asking. I couldn't open a private thread here, so I've messaged the "
            "supporters on duty ({supporters}) directly; one of them will reach out to you "
            "by DM soon. Only they and the coordinators know you asked."
        ).format(supporters=_names(on_duty)), request
    return tr.gettext(
        "Thank you for asking. I've opened a private thread for you in {thread}. On duty now: "
        "{supporters}. Someone will reply there soon. Only you, they and the "
        "coordinators can see it."
    ).format(thread=thread.mention, supporters=_names(on_duty)), request


async def _open_thread(
    bot: HearthBot,
    guild: discord.Guild,
    channel: discord.TextChannel,
    request: SupportRequest,
    on_duty: list[OnDuty],
    note: str | None,
    settings: Any,
    server: Texts,
) -> discord.Thread | None:
    """The private thread with everyone who should see it, or None (supporters DMed instead)."""
    try:
        thread = await channel.create_thread(
            name=server.gettext("Support request {number}").format(number=request.id),
            type=discord.ChannelType.private_thread,
            invitable=False,
            auto_archive_duration=ARCHIVE_MINUTES,
        )
    except discord.HTTPException as exc:
        log.warning("could not open a support thread in guild %s: %s", guild.id, exc.code)
        await _dm_supporters(bot, guild, request, on_duty, note)
        await bot.alert(
            guild,
            server.gettext(
                "I couldn't open a private thread in {channel} for a support request "
                "(missing permission?). Run `/setup` to check my permissions."
            ).format(channel=f"<#{channel.id}>"),
        )
        return None
    await support_service(bot).set_thread(guild.id, request.id, thread.id)
    wanted = [request.user_id, *(d.user_id for d in on_duty)]
    wanted += await coordinator_ids(guild, settings.coordinator_role_id)
    for user_id in dict.fromkeys(wanted):
        try:
            await thread.add_user(discord.Object(user_id))
        except discord.HTTPException as exc:
            log.warning("could not add a member to support thread %s: %s", thread.id, exc.code)
    ping = (
        server.gettext(
            "{supporters}: {member} would like to talk to a peer supporter. "
            "Press **{take}** so only one of you answers."
        )
        if on_duty
        else server.gettext(
            "{member} would like to talk to a peer supporter. No one is on duty "
            "right now; coordinators, could one of you reply?"
        )
    ).format(
        supporters=_names(on_duty),
        member=f"<@{request.user_id}>",
        take=server.gettext(TAKE_LABEL),
    )
    await thread.send(
        ping,
        view=request_view(request, server),
        allowed_mentions=discord.AllowedMentions(
            users=[discord.Object(d.user_id) for d in on_duty], roles=False, everyone=False
        ),
    )
    if note:
        await thread.send(
            server.gettext("**Their note:** {note}").format(note=note[:MAX_NOTE]),
            allowed_mentions=NO_MENTIONS,
        )
    return thread


async def _dm_supporters(
    bot: HearthBot,
    guild: discord.Guild,
    request: SupportRequest,
    on_duty: list[OnDuty],
    note: str | None,
) -> None:
    for duty in on_duty:
        tr = await texts_for_member(bot, guild.id, duty.user_id)
        text = tr.gettext(
            "{member} in **{server}** would like to talk to a peer supporter. "
            "Press **{take}**, then reach out to them by DM."
        ).format(member=f"<@{request.user_id}>", server=guild.name, take=tr.gettext(TAKE_LABEL))
        if note:
            text += "\n" + tr.gettext("**Their note:** {note}").format(note=note[:MAX_NOTE])
        await bot.dm(guild.id, duty.user_id, text, view=request_view(request, tr))


class UnclaimedAlert(AlertPost):
    """Tell coordinators once that a request is still waiting (unless claimed or closed)."""

    async def text(self, item: OutboxItem) -> str | None:
        try:
            request = await support_service(self.bot).get(item.guild_id, item.payload["request_id"])
        except UserFacingError:
            return None
        # user_id 0: the member deleted their data since; there is no one left to reach out to.
        if request.state != "open" or request.claimed_by is not None or request.user_id == 0:
            return None
        settings = await self.bot.settings.get(item.guild_id)
        tr = await texts_for_guild(self.bot, item.guild_id)
        minutes = settings[CLAIM_ALERT_MINUTES]
        if request.thread_id:
            text = tr.ngettext(
                "A support request from {member} in {thread} has not been taken for "
                "{n} minute. Could someone reach out?",
                "A support request from {member} in {thread} has not been taken for "
                "{n} minutes. Could someone reach out?",
                minutes,
            )
        else:
            text = tr.ngettext(
                "A support request from {member} has not been taken for "
                "{n} minute. Could someone reach out?",
                "A support request from {member} has not been taken for "
                "{n} minutes. Could someone reach out?",
                minutes,
            )
        return text.format(
            member=f"<@{request.user_id}>", thread=f"<#{request.thread_id}>", n=minutes
        )


class ClaimButton(PersistentButton, route="hearth:support:claim:{guild}:{id}"):
    def __init__(self, guild_id: int, request_id: int, label: str | None = None) -> None:
        super().__init__(
            self.button(
                guild_id,
                request_id,
                label=label or TAKE_LABEL,
                style=discord.ButtonStyle.primary,
            )
        )
        self.guild_id = guild_id
        self.request_id = request_id

    @classmethod
    def from_route(cls, item: discord.ui.Item[Any], *values: int | str) -> ClaimButton:
        return cls(int(values[0]), int(values[1]), getattr(item, "label", None))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = hearth(interaction)
        guild = bot.get_guild(self.guild_id)
        if guild is None or not await can_support(bot, guild, interaction.user.id):
            raise UserFacingError(
                N_("Only peer supporters and coordinators can take a support request.")
            )
        tr = await texts(interaction)
        server = await texts_for_guild(bot, guild.id)
        request = await support_service(bot).claim(
            self.guild_id, self.request_id, interaction.user.id
        )
        await bot.timers.cancel(UNCLAIMED_TIMER, str(request.id))
        # The message stays in the language it was sent in: its Close keeps its label.
        close = CLOSE_LABEL
        if interaction.message is not None:
            for row in interaction.message.components:
                for child in getattr(row, "children", []):
                    if getattr(child, "custom_id", None) == CloseButton.custom_id_for(
                        request.guild_id, request.id
                    ):
                        close = getattr(child, "label", None) or close
        view = DynamicView()
        view.add_item(CloseButton(request.guild_id, request.id, close))
        await interaction.response.edit_message(view=view)
        await interaction.followup.send(
            tr.gettext("It's yours. Thank you for taking it."),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        thread = await _thread(guild, request.thread_id)
        if thread is not None:
            await thread.send(
                server.gettext("{supporter} is taking this and will be with you shortly.").format(
                    supporter=f"<@{interaction.user.id}>"
                ),
                allowed_mentions=NO_MENTIONS,
            )
        else:
            member = await texts_for_member(bot, guild.id, request.user_id)
            await bot.dm(
                guild.id,
                request.user_id,
                member.gettext(
                    "{supporter}, a peer supporter in **{server}**, has taken your "
                    "request and will reach out to you by DM shortly."
                ).format(supporter=f"<@{interaction.user.id}>", server=guild.name),
            )


class CloseButton(PersistentButton, route="hearth:support:close:{guild}:{id}"):
    def __init__(self, guild_id: int, request_id: int, label: str | None = None) -> None:
        super().__init__(
            self.button(
                guild_id,
                request_id,
                label=label or CLOSE_LABEL,
                style=discord.ButtonStyle.secondary,
            )
        )
        self.guild_id = guild_id
        self.request_id = request_id

    @classmethod
    def from_route(cls, item: discord.ui.Item[Any], *values: int | str) -> CloseButton:
        return cls(int(values[0]), int(values[1]), getattr(item, "label", None))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = hearth(interaction)
        guild = bot.get_guild(self.guild_id)
        request = await support_service(bot).get(self.guild_id, self.request_id)
        allowed = guild is not None and (
            interaction.user.id == request.user_id
            or await can_support(bot, guild, interaction.user.id)
            or (interaction.guild is not None and await is_coordinator(interaction))
        )
        if not allowed or guild is None:
            raise UserFacingError(
                N_(
                    "Only the member who asked, a supporter or a coordinator can close this "
                    "request."
                )
            )
        request = await support_service(bot).close(
            self.guild_id, self.request_id, interaction.user.id
        )
        await bot.timers.cancel(UNCLAIMED_TIMER, str(request.id))
        await interaction.response.defer(ephemeral=True, thinking=True)
        thread = await _thread(guild, request.thread_id)
        if thread is not None:
            try:
                server = await texts_for_guild(bot, guild.id)
                await thread.send(
                    server.gettext(
                        "This request was closed by {closer}. Anyone can use "
                        "`/support` again at any time."
                    ).format(closer=f"<@{interaction.user.id}>"),
                    allowed_mentions=NO_MENTIONS,
                )
                await thread.edit(archived=True, locked=True)
            except discord.HTTPException as exc:
                log.warning("could not archive support thread %s: %s", thread.id, exc.code)
        await send_ephemeral(interaction, (await texts(interaction)).gettext("Closed. Thank you."))
