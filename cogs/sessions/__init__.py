"""`/group sessions`: the meetings a peer group holds, with Going / Can't make it answers.

Coordinators (runtime-checked): add, move, cancel, places. Everyone: list (with the answer
buttons), reminders. The commands hang under `/group`, which the groups feature owns; the
buttons are persistent `DynamicItem`s, so an old list keeps working after a restart.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import format_dt

from bot.app import HearthBot
from bot.errors import UserFacingError
from bot.features import Feature
from bot.i18n import Nn_
from bot.services import session_events
from bot.services.groups import GroupService, GroupSummary
from bot.services.rota import RotaService
from bot.services.rota.parsing import MAX_DURATION_TEXT, MAX_REPEAT_WEEKS, MAX_START_TEXT
from bot.services.rota.rotas import MAX_NAME as MAX_ROTA_NAME
from bot.services.session_facilitators import ALERT, CHECK, MAX_ALERT_HOURS, alert_outbox
from bot.services.session_notices import NOTICE, REMINDER, reminder_outbox
from bot.services.session_upkeep import SessionUpkeep
from bot.services.sessions import (
    AUDIT_SESSION_FACILITATION_SET,
    AUDIT_SESSION_PLACES_SET,
    AUDIT_SESSION_ROOM_SET,
    AUDIT_SESSIONS_ADDED,
    AUDIT_SESSIONS_CANCELLED,
    AUDIT_SESSIONS_MOVED,
    MAX_PLACES,
    MAX_REASON,
    MAX_SESSION_TEXT,
    Change,
    SessionService,
    session_number,
)
from bot.tree import send_ephemeral
from cogs._pages import install_pages, send_all, send_paged
from cogs._ui import (
    DailyRetention,
    GroupName,
    audited,
    coordinator_only,
    guild_of,
    is_coordinator,
    name_choices,
)
from cogs.sessions._delivery import FacilitatorAlert, SessionNotice, SessionReminder
from cogs.sessions._events import mirror
from cogs.sessions._timers import RETENTION_KIND, SessionTimers
from cogs.sessions._views import CantButton, GoingButton

Start = app_commands.Range[str, 1, MAX_START_TEXT]
Duration = app_commands.Range[str, 1, MAX_DURATION_TEXT]
Weeks = app_commands.Range[int, 1, MAX_REPEAT_WEEKS]
Reason = app_commands.Range[str, 1, MAX_REASON]
SessionRef = app_commands.Range[str, 1, MAX_SESSION_TEXT]
Places = app_commands.Range[int, 0, MAX_PLACES]
RotaName = app_commands.Range[str, 1, MAX_ROTA_NAME]
AlertHours = app_commands.Range[int, 1, MAX_ALERT_HOURS]
# Options several commands take, worded once.
SESSION_OPTION = "The session (pick from the suggestions)"
REASON_OPTION = "Told to the people going (optional)"
log = logging.getLogger(__name__)
UPCOMING = Nn_("{n} upcoming session", "{n} upcoming sessions")  # its /about count


class SessionCommands(app_commands.Group):
    def __init__(self, bot: HearthBot) -> None:
        super().__init__(
            name="sessions", description="A group's meetings: plan them, say you'll come"
        )
        self.bot = bot
        self.service = bot.service(SessionService)
        self.upkeep = bot.service(SessionUpkeep)
        self.groups = bot.service(GroupService)

    async def _zone(self, guild_id: int) -> tuple[ZoneInfo, list[int]]:
        settings = await self.bot.settings.get(guild_id)
        return ZoneInfo(settings.timezone), settings.reminder_hours

    async def _group_names(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await name_choices(
            interaction, lambda guild_id: self.groups.names(guild_id, current, which="all")
        )

    async def _sessions(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        zone, _ = await self._zone(interaction.guild_id)
        found = await self.service.choices(interaction.guild_id, current)
        return [
            app_commands.Choice(
                name=f"#{s.id} {s.group_name[:60]} · {s.starts_at.astimezone(zone):%a %d %b %H:%M}",
                value=str(s.id),
            )
            for s in found
        ]

    async def _group(self, interaction: discord.Interaction, name: str) -> GroupSummary:
        return await self.groups.find(guild_of(interaction).id, name)

    async def _finish(
        self,
        interaction: discord.Interaction,
        change: Change,
        audit: tuple[str, str],
        text: str,
        *,
        poke_now: bool = True,
    ) -> None:
        """After sessions were added, moved or cancelled: wake the dispatcher for their timers
        (and, for a move or cancel, the notices), audit, mirror the changed sessions as Discord
        events, then answer (with the fix, if any)."""
        if change.first_due is not None:
            self.bot.dispatcher.poke(change.first_due)
        if poke_now:
            self.bot.dispatcher.poke(self.bot.clock.now())
        guild = guild_of(interaction)
        await self.bot.audit(guild, interaction.user.id, *audit)
        fix = await mirror(self.bot, guild, change.sessions)
        await send_ephemeral(interaction, text + (f"\n\n{fix}" if fix else ""))

    @app_commands.command(name="add", description="Coordinators: plan a session, once or weekly")
    @app_commands.describe(
        group="The group that meets",
        start="In the server's time zone: `2026-03-03 19:00` or `tue 19:00`",
        duration="How long, like `90m` or `1h30m`",
        repeat_weeks="How many weekly sessions to plan (1 = just this one)",
    )
    @coordinator_only()
    async def add(
        self,
        interaction: discord.Interaction,
        group: GroupName,
        start: Start,
        duration: Duration,
        repeat_weeks: Weeks = 1,
    ) -> None:
        guild = guild_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await self.groups.find(guild.id, group)
        zone, hours = await self._zone(guild.id)
        change = await self.service.add(
            guild.id, found.id, interaction.user.id, start, duration, repeat_weeks, zone, hours
        )
        first, many = change.sessions[0], len(change.sessions)
        what = f"{many} weekly sessions" if many > 1 else "a session"
        await self._finish(
            interaction,
            change,
            (AUDIT_SESSIONS_ADDED, f"{found.name} #{first.id} ×{many}"),
            f"Planned {what} for **{found.name}**, the first {format_dt(first.starts_at, 'F')} "
            "until "
            f"{format_dt(first.ends_at, 't')} (#{first.id}). Members answer in `/group sessions "
            "list`.",
            poke_now=False,
        )

    @app_commands.command(
        name="move", description="Coordinators: move a session (or the rest of its series)"
    )
    @app_commands.describe(
        session=SESSION_OPTION,
        start="The new start, in the server's time zone",
        rest_of_series="Also move every later session of its weekly series",
        reason=REASON_OPTION,
    )
    @coordinator_only()
    async def move(
        self,
        interaction: discord.Interaction,
        session: SessionRef,
        start: Start,
        rest_of_series: bool = False,
        reason: Reason | None = None,
    ) -> None:
        guild_id = guild_of(interaction).id
        await interaction.response.defer(ephemeral=True, thinking=True)
        zone, hours = await self._zone(guild_id)
        change = await self.service.move(
            guild_id, session_number(session), start, rest_of_series, reason, zone, hours
        )
        first = change.sessions[0]
        await self._finish(
            interaction,
            change,
            (AUDIT_SESSIONS_MOVED, f"#{first.id} ×{len(change.sessions)}"),
            f"Moved {len(change.sessions)} session(s) of **{first.group_name}**; the first is "
            f"now {format_dt(first.starts_at, 'F')}. {change.told} notice(s) are on their way to "
            "the "
            "people going.",
        )

    @app_commands.command(
        name="cancel", description="Coordinators: cancel a session (or the rest of its series)"
    )
    @app_commands.describe(
        session=SESSION_OPTION,
        rest_of_series="Also cancel every later session of its weekly series",
        reason=REASON_OPTION,
    )
    @coordinator_only()
    async def cancel(
        self,
        interaction: discord.Interaction,
        session: SessionRef,
        rest_of_series: bool = False,
        reason: Reason | None = None,
    ) -> None:
        guild_id = guild_of(interaction).id
        await interaction.response.defer(ephemeral=True, thinking=True)
        change = await self.service.cancel(
            guild_id, session_number(session), rest_of_series, reason
        )
        first = change.sessions[0]
        await self._finish(
            interaction,
            change,
            (AUDIT_SESSIONS_CANCELLED, f"#{first.id} ×{len(change.sessions)}"),
            f"Cancelled {len(change.sessions)} session(s) of **{first.group_name}**, from "
            f"{format_dt(first.starts_at, 'F')}. {change.told} notice(s) are on their way to the "
            "people going.",
        )

    @app_commands.command(
        name="places", description="Coordinators: how many places each session of a group has"
    )
    @app_commands.describe(group="The group", places="Places per session (0 = no limit)")
    @coordinator_only()
    async def places(
        self, interaction: discord.Interaction, group: GroupName, places: Places
    ) -> None:
        found = await self._group(interaction, group)
        value = await self.upkeep.set_places(found.guild_id, found.id, places)
        limit = f"{value} places" if value else "no limit on places"
        await audited(
            interaction,
            AUDIT_SESSION_PLACES_SET,
            f"{found.name}: {value or 'no limit'}",
            f"**{found.name}** sessions now have {limit}. Answers already given stand.",
        )

    @app_commands.command(
        name="room", description="Coordinators: hold a group's session events in a voice channel"
    )
    @app_commands.describe(
        group="The group", channel="A voice or stage channel (leave empty: the group's own channel)"
    )
    @coordinator_only()
    async def room(
        self,
        interaction: discord.Interaction,
        group: GroupName,
        channel: discord.VoiceChannel | discord.StageChannel | None = None,
    ) -> None:
        found = await self._group(interaction, group)
        await self.upkeep.set_room(found.guild_id, found.id, channel.id if channel else None)
        where = f"<#{channel.id}>" if channel else "the group's own channel"
        await audited(
            interaction,
            AUDIT_SESSION_ROOM_SET,
            f"{found.name}: {where}",
            f"Events for **{found.name}** sessions planned from now on are held in {where}.",
        )

    @app_commands.command(
        name="facilitation", description="Coordinators: a facilitator for each session, by rota"
    )
    @app_commands.describe(
        group="The group",
        rota="The rota supporters claim sessions on (leave empty to stop)",
        alert_hours="Alert coordinators this long before a session nobody claimed",
        opens_only_with_facilitator="Cancel a session nobody claimed by its start",
    )
    @coordinator_only()
    async def facilitation(
        self,
        interaction: discord.Interaction,
        group: GroupName,
        rota: RotaName | None = None,
        alert_hours: AlertHours = 24,
        opens_only_with_facilitator: bool = False,
    ) -> None:
        found = await self._group(interaction, group)
        linked = (
            None
            if rota is None
            else await self.bot.service(RotaService).find_rota(found.guild_id, rota)
        )
        await self.upkeep.set_facilitation(
            found.guild_id, found.id, linked.id if linked else None, alert_hours,
            opens_only_with_facilitator, interaction.user.id,
        )  # fmt: skip
        if linked is None:
            text = f"**{found.name}** sessions no longer get a facilitator slot."
        else:
            rule = (
                " A session nobody claims by its start is cancelled, and the people going told."
                if opens_only_with_facilitator
                else ""
            )
            text = (
                f"Each **{found.name}** session planned from now on gets a slot on "
                f"**{linked.name}** for supporters to claim (`/rota claim`, with the usual "
                f"training, caps and rest). Coordinators are alerted {alert_hours}h before a "
                f"session nobody has claimed.{rule}"
            )
        detail = "off" if linked is None else f"{linked.name}, {alert_hours}h"
        await audited(interaction, AUDIT_SESSION_FACILITATION_SET, detail, text)

    @app_commands.command(name="who", description="Who is going to a session (its facilitator)")
    @app_commands.describe(session=SESSION_OPTION)
    async def who(self, interaction: discord.Interaction, session: SessionRef) -> None:
        guild = guild_of(interaction)
        found = await self.service.get(guild.id, session_number(session))
        header = f"**{found.group_name}** {format_dt(found.starts_at, 'F')} — {found.going} going"
        if interaction.user.id in await self.service.facilitators(found.id):
            people = await self.service.going(found.id)
            names = ", ".join(f"<@{user_id}>" for user_id in people) or "nobody yet"
            await send_all(interaction, f"{header}: {names}")
        elif await is_coordinator(interaction):
            await interaction.response.send_message(
                f"{header}. Only the session's facilitator sees who, to keep it private.",
                ephemeral=True,
            )
        else:
            raise UserFacingError(
                "Only the session's facilitator can see who is going. "
                "`/group sessions list` shows how many."
            )

    @app_commands.command(
        name="list", description="A group's upcoming sessions; say whether you're coming"
    )
    @app_commands.describe(group="The group")
    async def list_sessions(self, interaction: discord.Interaction, group: GroupName) -> None:
        found = await self._group(interaction, group)
        await send_paged(interaction, "sessions", str(found.id))

    @app_commands.command(name="reminders", description="Turn your session reminders on or off")
    @app_commands.describe(on="True: remind me before sessions I'm going to")
    async def reminders(self, interaction: discord.Interaction, on: bool) -> None:
        await self.upkeep.set_reminders(guild_of(interaction).id, interaction.user.id, on)
        text = (
            "Session reminders are **on**: I'll DM you before sessions you're going to."
            if on
            else "Session reminders are **off**. You'll still hear if a session you're going "
            "to is cancelled or moved."
        )
        await interaction.response.send_message(text, ephemeral=True)

    add.autocomplete("group")(_group_names)
    places.autocomplete("group")(_group_names)
    list_sessions.autocomplete("group")(_group_names)
    move.autocomplete("session")(_sessions)
    who.autocomplete("session")(_sessions)
    facilitation.autocomplete("group")(_group_names)
    room.autocomplete("group")(_group_names)
    cancel.autocomplete("session")(_sessions)


class Sessions(commands.Cog):
    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.sessions = SessionCommands(bot)
        self.timers = SessionTimers(bot, self.sessions.service)
        upkeep = self.sessions.upkeep
        self.retention = DailyRetention(
            bot, RETENTION_KIND, "session answers",
            upkeep.guilds_with_answers, upkeep.forget_past_answers,
        )  # fmt: skip

    async def cog_load(self) -> None:
        install_pages(self.bot)
        self.bot.add_dynamic_items(GoingButton, CantButton)
        self.bot.outbox.register(REMINDER, SessionReminder(self.bot))
        self.bot.outbox.register(NOTICE, SessionNotice(self.bot))
        self.bot.dispatcher.register_timer_outbox(REMINDER, reminder_outbox)
        self.bot.outbox.register(ALERT, FacilitatorAlert(self.bot))
        self.bot.dispatcher.register_timer_outbox(ALERT, alert_outbox)
        self.bot.dispatcher.register_timer(CHECK, self.timers.opens_only_with_facilitator)
        self.bot.features.add(
            Feature(name="sessions", about={UPCOMING: self.sessions.upkeep.count_upcoming})
        )
        await self.retention.start()
        group = self.bot.tree.get_command("group")
        if not isinstance(group, app_commands.Group):
            raise RuntimeError("/group sessions needs the groups feature loaded first")
        group.add_command(self.sessions)

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(GoingButton, CantButton)
        self.bot.outbox.unregister(REMINDER)
        self.bot.outbox.unregister(NOTICE)
        self.bot.dispatcher.unregister_timer(REMINDER)
        self.bot.outbox.unregister(ALERT)
        self.bot.dispatcher.unregister_timer(ALERT)
        self.bot.dispatcher.unregister_timer(CHECK)
        self.retention.stop()
        self.bot.features.remove("sessions")
        group = self.bot.tree.get_command("group")
        if isinstance(group, app_commands.Group):
            group.remove_command("sessions")

    @commands.Cog.listener()
    async def on_scheduled_event_delete(self, event: discord.ScheduledEvent) -> None:
        await session_events.forget_event(self.bot.db, event.guild_id, event.id)

    @commands.Cog.listener()
    async def on_scheduled_event_user_add(
        self, event: discord.ScheduledEvent, user: discord.User
    ) -> None:
        await self._interested(event, user, True)

    @commands.Cog.listener()
    async def on_scheduled_event_user_remove(
        self, event: discord.ScheduledEvent, user: discord.User
    ) -> None:
        await self._interested(event, user, False)

    async def _interested(
        self, event: discord.ScheduledEvent, user: discord.User, on: bool
    ) -> None:
        session = await session_events.by_event(self.bot.db, event.guild_id, event.id)
        if session is None or user.bot:
            return
        why = await session_events.interested(self.sessions.service, session, user.id, on)
        if why is not None:
            log.info("Interested on session %s did not count as going", session.id)


async def setup(bot: HearthBot) -> None:
    await bot.add_cog(Sessions(bot))
