"""Putting guidelines where people meet: posting and pinning copies, editing them in place when a
new version is saved, scheduled re-posts, and the optional "guidelines accepted" role.

Nothing here may crash on a server's own choices (a deleted channel or message, a permission
taken away): those are told to coordinators with `bot.alert`, and the rest carries on.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord

from bot.delivery import OutboxKind, Outgoing
from bot.errors import UserFacingError
from bot.i18n import ENGLISH, N_, Texts
from bot.i18n_discord import texts_for_guild
from bot.services.guideline_posts import (
    GuidelinePostsService,
    next_repost_after,
)
from bot.services.guidelines import GuidelinesService, GuidelineVersion
from bot.services.outbox import OutboxItem
from bot.shards import ShardScope
from cogs._ui import DynamicView
from cogs.guidelines._views import AGREE_LABEL, AgreeButton, guideline_embed, scope_label

if TYPE_CHECKING:
    from bot.app import HearthBot

log = logging.getLogger(__name__)

# Seconds between two role removals after a new version: one server's sweep must not eat the
# rate limit every other feature shares.
ROLE_PACE_SECONDS = 0.5
# At most one "I couldn't give the role" alert per server in this window, however many accept.
ROLE_ALERT_EVERY_SECONDS = 3600
MAX_PINS = 30003
UNKNOWN_CHANNEL = 10003
CHUNK_TIMEOUT_SECONDS = 20

PostChannel = discord.TextChannel | discord.Thread


@dataclass
class PostOutcome:
    message: discord.Message | discord.PartialMessage
    pinned: bool
    pin_problem: str | None = None
    replaced: int = 0


@dataclass
class RefreshReport:
    updated: int = 0
    forgotten: int = 0
    problems: list[str] = field(default_factory=list)


def agree_view(group_id: int | None, tr: Texts = ENGLISH) -> discord.ui.View:
    """The Agree button, labelled in `tr`'s language (a press keeps the label it had)."""
    view = DynamicView()
    view.add_item(AgreeButton(group_id or 0, tr.gettext(AGREE_LABEL)))
    return view


async def member_list_loaded(guild: discord.Guild) -> bool:
    """Load the member list if it isn't cached yet (Discord sends it on request only)."""
    if guild.chunked:
        return True
    try:
        await asyncio.wait_for(guild.chunk(), timeout=CHUNK_TIMEOUT_SECONDS)
    except (TimeoutError, discord.ClientException):
        log.warning("could not load the member list of guild %s", guild.id)
        return False
    return guild.chunked


class RepostSource:
    """The dispatcher's view of re-post schedules (a `DueSource`)."""

    name = "guideline reposts"

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher

    async def next_due(self, scope: ShardScope) -> datetime | None:
        return await self.publisher.posts.next_repost_due(scope)

    async def run_due(self, now: datetime, scope: ShardScope) -> None:
        await self.publisher.run_due_reposts(now, scope)


class Publisher:
    def __init__(
        self, bot: HearthBot, service: GuidelinesService, posts: GuidelinePostsService
    ) -> None:
        self.bot = bot
        self.service = service
        self.posts = posts
        self._role_alerted_at: dict[int, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # --- posting -------------------------------------------------------------------------------
    async def post_copy(
        self,
        guild: discord.Guild,
        channel: PostChannel,
        group_id: int | None,
        group_name: str | None,
        version: GuidelineVersion,
        actor_id: int,
    ) -> PostOutcome:
        """Post and pin a fresh copy; earlier copies of this scope in the channel are unpinned
        and forgotten, so each channel has one live copy to keep up to date. A posted copy is
        framed in the server's language; the text is the coordinators' own."""
        tr = await texts_for_guild(self.bot, guild.id)
        try:
            message = await channel.send(
                embed=guideline_embed(version, group_name, tr), view=agree_view(group_id, tr)
            )
        except discord.Forbidden:
            raise UserFacingError(
                N_(
                    "I can't post in {channel}: I need View Channel, Send Messages and "
                    "Embed Links there. Nothing was posted."
                ),
                channel=channel.mention,
            ) from None
        outcome = PostOutcome(message=message, pinned=False)
        await self.settle_post(
            guild, channel, group_id, message, version.version, actor_id, outcome
        )
        return outcome

    async def settle_post(
        self,
        guild: discord.Guild,
        channel: PostChannel,
        group_id: int | None,
        message: discord.Message | discord.PartialMessage,
        version: int,
        actor_id: int,
        outcome: PostOutcome,
    ) -> None:
        """After a copy is posted: remember it, pin it, and unpin and forget the earlier ones."""
        await self.posts.remember_post(
            guild.id, group_id, channel.id, message.id, version, actor_id
        )
        tr = await texts_for_guild(self.bot, guild.id)
        try:
            await message.pin(reason=tr.gettext("Hearth: boundary guidelines"))
            outcome.pinned = True
        except discord.Forbidden:
            outcome.pin_problem = tr.gettext(
                "I couldn't pin it: I need Pin Messages in {channel}."
            ).format(channel=channel.mention)
        except discord.HTTPException as exc:
            if exc.code != MAX_PINS:
                raise
            outcome.pin_problem = tr.gettext(
                "I couldn't pin it: {channel} already has 50 pins."
            ).format(channel=channel.mention)
        for old in await self.posts.posts(guild.id, group_id, channel.id):
            if old.message_id == message.id:
                continue
            await self.posts.forget_post(guild.id, old.message_id)
            outcome.replaced += 1
            try:
                await channel.get_partial_message(old.message_id).unpin(
                    reason=tr.gettext("Hearth: replaced by a fresh copy of the guidelines")
                )
            except discord.NotFound:
                pass  # deleted by hand already: nothing left to unpin
            except discord.Forbidden:
                outcome.pin_problem = tr.gettext(
                    "I couldn't unpin the earlier copy: I need Pin Messages in {channel}."
                ).format(channel=channel.mention)

    # --- keeping posted copies current -------------------------------------------------------
    async def refresh_copies(
        self,
        guild: discord.Guild,
        group_id: int | None,
        group_name: str | None,
        version: GuidelineVersion,
    ) -> RefreshReport:
        """Edit every remembered copy to the new version, and tell coordinators what failed."""
        report = RefreshReport()
        tr = await texts_for_guild(self.bot, guild.id)
        embed = guideline_embed(version, group_name, tr)
        deleted = tr.gettext("{channel}: the channel was deleted")
        for post in await self.posts.posts(guild.id, group_id):
            channel = guild.get_channel_or_thread(post.channel_id)
            if not isinstance(channel, discord.TextChannel | discord.Thread):
                await self.posts.forget_post(guild.id, post.message_id)
                report.forgotten += 1
                report.problems.append(deleted.format(channel=f"<#{post.channel_id}>"))
                continue
            try:
                await channel.get_partial_message(post.message_id).edit(
                    embed=embed, view=agree_view(group_id, tr)
                )
            except discord.NotFound as exc:
                await self.posts.forget_post(guild.id, post.message_id)
                report.forgotten += 1
                if exc.code == UNKNOWN_CHANNEL:
                    report.problems.append(deleted.format(channel=channel.mention))
                else:
                    log.info(
                        "guidelines copy %s in guild %s was deleted; forgotten",
                        post.message_id,
                        guild.id,
                    )
                continue
            except discord.Forbidden:
                report.problems.append(
                    tr.gettext(
                        "{channel}: I no longer have permission to see or edit my copy there"
                    ).format(channel=channel.mention)
                )
                continue
            await self.posts.post_updated(guild.id, post.message_id, version.version)
            report.updated += 1
        if report.problems:
            lines = "\n".join(f"- {problem}" for problem in report.problems)
            await self.bot.alert(
                guild,
                tr.gettext(
                    "I couldn't update every posted copy of {scope} to version "
                    "{version}:\n{problems}\nCopies in deleted channels are forgotten; for "
                    "permission problems, give me access again or post a fresh copy with "
                    "`/guidelines post`."
                ).format(
                    scope=scope_label(group_name, tr), version=version.version, problems=lines
                ),
            )
        return report

    # --- scheduled re-posts ------------------------------------------------------------------
    async def run_due_reposts(self, now: datetime, scope: ShardScope) -> None:
        while batch := await self.posts.due_reposts(now, scope):
            for schedule in batch:
                settings = await self.bot.settings.get(schedule.guild_id)
                following = next_repost_after(
                    schedule.next_due_at,
                    now,
                    schedule.every_days,
                    schedule.local_time,
                    ZoneInfo(settings.timezone),
                )
                # Claiming writes the post into the outbox (`Repost` below sends it).
                await self.posts.claim_repost(schedule, following)

    # --- the optional "guidelines accepted" role ---------------------------------------------
    async def grant_role(self, member: discord.Member) -> bool:
        """Give the server's role to a member who accepted its current version; False if that
        failed (coordinators are told, at most once an hour)."""
        settings = await self.bot.settings.get(member.guild.id)
        if settings.guidelines_role_id is None:
            return True
        role = member.guild.get_role(settings.guidelines_role_id)
        tr = await texts_for_guild(self.bot, member.guild.id)
        if role is None:
            await self._role_alert(
                member.guild,
                tr.gettext(
                    "The guidelines role set in `guidelines_role_id` no longer exists, so I "
                    "couldn't give it to members who accepted. Set another with `/admin set`."
                ),
            )
            return False
        if role in member.roles:
            return True
        try:
            await member.add_roles(role, reason=tr.gettext("Accepted the server guidelines"))
        except discord.Forbidden:
            await self._role_alert(
                member.guild,
                tr.gettext(
                    "I couldn't give {role} to a member who accepted the guidelines: I need "
                    "Manage Roles, and my role must be above it."
                ).format(role=role.mention),
            )
            return False
        except discord.NotFound:
            return False  # the member left meanwhile
        return True

    def start_role_sweep(self, guild: discord.Guild, version: GuidelineVersion) -> None:
        task = asyncio.get_running_loop().create_task(self._sweep_role(guild, version))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sweep_role(self, guild: discord.Guild, version: GuidelineVersion) -> None:
        """Take the role from everyone who has not accepted the new version, one by one."""
        settings = await self.bot.settings.get(guild.id)
        role = guild.get_role(settings.guidelines_role_id) if settings.guidelines_role_id else None
        if role is None:
            return
        tr = await texts_for_guild(self.bot, guild.id)
        if not await member_list_loaded(guild):
            await self.bot.alert(
                guild,
                tr.gettext(
                    "Version {version} of the server guidelines is out, but I couldn't load "
                    "the member list to take {role} from those who haven't accepted it yet."
                ).format(version=version.version, role=role.mention),
            )
            return
        why = tr.gettext("Server guidelines version {version} not accepted yet")
        try:
            for member in list(role.members):
                if await self.service.has_accepted(guild.id, None, version.version, member.id):
                    continue
                try:
                    await member.remove_roles(role, reason=why.format(version=version.version))
                except discord.NotFound:
                    continue  # left the server meanwhile
                await asyncio.sleep(ROLE_PACE_SECONDS)
        except discord.Forbidden:
            await self.bot.alert(
                guild,
                tr.gettext(
                    "Version {version} of the server guidelines is out, but I couldn't take "
                    "{role} from members who haven't accepted it yet: I need Manage Roles, "
                    "and my role must be above it."
                ).format(version=version.version, role=role.mention),
            )
        except Exception:
            log.exception("guidelines role sweep failed in guild %s", guild.id)

    async def _role_alert(self, guild: discord.Guild, text: str) -> None:
        now = self.bot.clock.now().timestamp()
        last = self._role_alerted_at.get(guild.id)
        if last is not None and now - last < ROLE_ALERT_EVERY_SECONDS:
            return
        self._role_alerted_at[guild.id] = now
        await self.bot.alert(guild, text)

    def close(self) -> None:
        for task in self._tasks:
            task.cancel()


class Repost(OutboxKind):
    """A scheduled re-post from the outbox: posted, pinned, the earlier copy unpinned."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher
        self.bot = publisher.bot

    async def _scope(self, item: OutboxItem) -> tuple[discord.Guild, str | None] | None:
        guild = self.bot.get_guild(item.guild_id)
        if guild is None:
            return None  # the bot left the server; its data is purged after the retention window
        group_id = item.payload["group_id"]
        name = (
            None
            if group_id is None
            else await self.publisher.service.group_name(guild.id, group_id)
        )
        return guild, name

    async def render(self, item: OutboxItem) -> Outgoing | None:
        scope = await self._scope(item)
        if scope is None:
            return None
        guild, group_name = scope
        channel = guild.get_channel_or_thread(item.channel_id or 0)
        if not isinstance(channel, discord.TextChannel | discord.Thread):
            await self._stop(item, guild, group_name)
            return None
        version = await self.publisher.service.current(guild.id, item.payload["group_id"])
        if version is None:
            return None
        tr = await texts_for_guild(self.bot, guild.id)
        return Outgoing(
            channel_ids=(channel.id,),
            embeds=[dict(guideline_embed(version, group_name, tr).to_dict())],
            components=agree_view(item.payload["group_id"], tr).to_components(),
        )

    async def sent(self, item: OutboxItem, channel_id: int, message_id: int) -> None:
        scope = await self._scope(item)
        if scope is None:
            return
        guild, group_name = scope
        channel = guild.get_channel_or_thread(channel_id)
        version = await self.publisher.service.current(guild.id, item.payload["group_id"])
        if not isinstance(channel, discord.TextChannel | discord.Thread) or version is None:
            return
        message = channel.get_partial_message(message_id)
        outcome = PostOutcome(message=message, pinned=False)
        await self.publisher.settle_post(
            guild, channel, item.payload["group_id"], message, version.version,
            item.payload["created_by"], outcome,
        )  # fmt: skip
        if outcome.pin_problem:
            tr = await texts_for_guild(self.bot, guild.id)
            await self.bot.alert(
                guild,
                tr.gettext("I re-posted {scope} in {channel}.").format(
                    scope=scope_label(group_name, tr), channel=channel.mention
                )
                + " "
                + outcome.pin_problem,
            )

    async def refused(
        self, item: OutboxItem, error: discord.HTTPException, outgoing: Outgoing
    ) -> None:
        scope = await self._scope(item)
        if scope is None:
            return
        guild, group_name = scope
        if isinstance(error, discord.NotFound):
            await self._stop(item, guild, group_name)
            return
        tr = await texts_for_guild(self.bot, guild.id)
        await self.bot.alert(
            guild,
            tr.gettext(
                "Scheduled re-post of {scope}: I can't post in "
                "{channel}: I need View Channel, Send Messages and Embed Links there. "
                "Nothing was posted."
            ).format(scope=scope_label(group_name, tr), channel=f"<#{item.channel_id}>"),
        )

    async def _stop(self, item: OutboxItem, guild: discord.Guild, group_name: str | None) -> None:
        await self.publisher.posts.stop_repost(item.payload["schedule_id"])
        tr = await texts_for_guild(self.bot, guild.id)
        await self.bot.alert(
            guild,
            tr.gettext(
                "I stopped re-posting {scope} in {channel}: the channel was deleted."
            ).format(scope=scope_label(group_name, tr), channel=f"<#{item.channel_id}>"),
        )
