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
from bot.i18n import N_, Nn_, Texts
from bot.i18n_discord import texts
from bot.services import session_events
from bot.services.audit import Param, Phrase
from bot.services.groups import NO_LIMIT, GroupService, GroupSummary
from bot.services.rota import RotaService
from bot.services.rota.parsing import MAX_DURATION_TEXT, MAX_REPEAT_WEEKS, MAX_START_TEXT
from bot.services.rota.rotas import MAX_NAME as MAX_ROTA_NAME
from bot.services.session_facilitators import ALERT, CHECK, MAX_ALERT_HOURS, alert_outbox
from bot.services.session_input import MAX_REASON, session_number
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
    MAX_SESSION_TEXT,
    Change,
    SessionService,
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
    record_audit,
)
from cogs.sessions import _replies as replies
from cogs.sessions._delivery import FacilitatorAlert, SessionNotice, SessionReminder
from cogs.sessions._events import mirror
from cogs.sessions._timers import RETENTION_KIND, SessionTimers
from cogs.sessions._views import CantButton, GoingButton, short_time

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
OWN_CHANNEL = N_("the group's own channel")
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
        tr = await texts(interaction)
        return [
            app_commands.Choice(
                name=f"#{s.id} {s.group_name[:60]} · {short_time(s.starts_at, zone, tr)}",
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
        audit: tuple[str, str | None],
        text: str,
        tr: Texts,
        *,
        poke_now: bool = True,
    ) -> None:
        """After sessions were added, moved or cancelled: wake the dispatcher for their timers
        (and, for a move or cancel, the notices), audit, mirror the changed sessions as Discord
        events, then answer (with the fix, if any). `audit`: the action, and the group's name
        where the trail names it."""
        if change.first_due is not None:
            self.bot.dispatcher.poke(change.first_due)
        if poke_now:
            self.bot.dispatcher.poke(self.bot.clock.now())
        guild = guild_of(interaction)
        (action, group), first, many = audit, change.sessions[0].id, len(change.sessions)
        shape = N_("{group} #{id} ×{n}") if group else N_("#{id} ×{n}")
        await record_audit(interaction, action, shape, group=group or "", id=first, n=many)
        fix = await mirror(self.bot, guild, change.sessions, tr)
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
        tr = await texts(interaction)
        await self._finish(
            interaction,
            change,
            (AUDIT_SESSIONS_ADDED, found.name),
            replies.planned(tr, change, found.name),
            tr,
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
        tr = await texts(interaction)
        await self._finish(
            interaction,
            change,
            (AUDIT_SESSIONS_MOVED, None),
            replies.moved(tr, change),
            tr,
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
        tr = await texts(interaction)
        await self._finish(
            interaction,
            change,
            (AUDIT_SESSIONS_CANCELLED, None),
            replies.cancelled(tr, change),
            tr,
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
        tr = await texts(interaction)
        await audited(
            interaction,
            AUDIT_SESSION_PLACES_SET,
            Phrase(N_("{group}: {places}"), group=found.name, places=value or NO_LIMIT),
            replies.places_set(tr, found.name, value),
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
        tr = await texts(interaction)
        where = f"<#{channel.id}>" if channel else tr.gettext(OWN_CHANNEL)
        room: Param = f"<#{channel.id}>" if channel else Phrase(OWN_CHANNEL)
        await audited(
            interaction,
            AUDIT_SESSION_ROOM_SET,
            Phrase(N_("{group}: {room}"), group=found.name, room=room),
            tr.gettext(
                "Events for **{group}** sessions planned from now on are held in {where}."
            ).format(group=found.name, where=where),
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
        text = replies.facilitation_set(
            await texts(interaction), found.name, linked.name if linked else None, alert_hours,
            opens_only_with_facilitator,
        )  # fmt: skip
        detail = Phrase(N_("off"))
        if linked is not None:
            detail = Phrase(N_("{rota}, {hours}h"), rota=linked.name, hours=alert_hours)
        await audited(interaction, AUDIT_SESSION_FACILITATION_SET, detail, text)

    @app_commands.command(name="who", description="Who is going to a session (its facilitator)")
    @app_commands.describe(session=SESSION_OPTION)
    async def who(self, interaction: discord.Interaction, session: SessionRef) -> None:
        guild = guild_of(interaction)
        found = await self.service.get(guild.id, session_number(session))
        tr = await texts(interaction)
        header = tr.gettext("**{group}** {starts} — {going} going").format(
            group=found.group_name, starts=format_dt(found.starts_at, "F"), going=found.going
        )
        if interaction.user.id in await self.service.facilitators(found.id):
            people = await self.service.going(found.id)
            names = ", ".join(f"<@{user_id}>" for user_id in people) or tr.gettext("nobody yet")
            await send_all(interaction, f"{header}: {names}")
        elif await is_coordinator(interaction):
            await interaction.response.send_message(
                tr.gettext(
                    "{header}. Only the session's facilitator sees who, to keep it private."
                ).format(header=header),
                ephemeral=True,
            )
        else:
            raise UserFacingError(
                N_(
                    "Only the session's facilitator can see who is going. "
                    "`/group sessions list` shows how many."
                )
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
        text = replies.reminders_set(await texts(interaction), on)
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
