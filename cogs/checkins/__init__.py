"""`/checkin`: group check-in prompts (coordinators) and private personal check-ins (members).

`/checkin` mixes member and coordinator subcommands, so each coordinator subcommand carries
`@coordinator_only()` (Discord can only hide whole top-level commands).
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import format_dt

from bot.app import HearthBot
from bot.config import MAX_ZONE_NAME
from bot.db import ROW_ID_MAX
from bot.errors import UserFacingError
from bot.features import Feature
from bot.i18n import ENGLISH, N_, Nn_, Texts
from bot.i18n_discord import texts
from bot.services.audit import Phrase
from bot.services.checkin_answers import (
    MAX_HISTORY_DAYS,
    MAX_SUMMARY_OCCURRENCES,
    CheckinAnswers,
)
from bot.services.checkin_due import CheckinSource
from bot.services.checkin_schedules import (
    AUDIT_CHECKIN_ADDED,
    AUDIT_CHECKIN_PAUSED,
    AUDIT_CHECKIN_REMOVED,
    AUDIT_CHECKIN_RESUMED,
    AUDIT_CHECKIN_TESTED,
    MAX_SNOOZE_DAYS,
    CheckinSchedules,
)
from bot.services.checkins import (
    MAX_DAYS_TEXT,
    MAX_PROMPT,
    MAX_TIME_TEXT,
    Schedule,
    describe_days,
)
from bot.tree import send_ephemeral
from cogs._pages import Page, install_pages, line_page, pager, send_all, send_paged
from cogs._ui import DailyRetention, audited, coordinator_only, guild_of
from cogs.checkins import _member
from cogs.checkins._delivery import RETENTION_KIND, Delivery
from cogs.checkins._views import DYNAMIC_ITEMS, ForgetButton, checkins, preview

log = logging.getLogger(__name__)

ScheduleId = app_commands.Range[int, 1, ROW_ID_MAX]
Days = app_commands.Range[str, 1, MAX_DAYS_TEXT]
Time = app_commands.Range[str, 1, MAX_TIME_TEXT]
Zone = app_commands.Range[str, 1, MAX_ZONE_NAME]


def _status(schedule: Schedule, tr: Texts = ENGLISH) -> str:
    if schedule.paused:
        # A stored reason is one of the English sources marked N_ where it is written.
        reason = tr.gettext(schedule.paused_reason or N_("paused"))
        return tr.gettext("⏸ paused ({reason})").format(reason=reason)
    return tr.gettext("next {when}").format(when=format_dt(schedule.next_due_at, "F"))


class Checkins(commands.Cog):
    checkin = app_commands.Group(
        name="checkin", description="Check-ins: say how you're doing", guild_only=True
    )
    schedule = app_commands.Group(
        name="schedule", description="Coordinators: group check-in prompts", parent=checkin
    )
    me = app_commands.Group(
        name="me", description="Your own private check-ins by DM", parent=checkin
    )

    def __init__(self, bot: HearthBot) -> None:
        self.bot = bot
        self.schedules = CheckinSchedules(bot.db, bot.clock, bot.settings)
        self.answers = bot.service(CheckinAnswers)
        self.delivery = Delivery(bot, self.schedules)
        self.source = CheckinSource(self.schedules)
        self.retention = DailyRetention(
            bot, RETENTION_KIND, "check-in answers",
            self.answers.guilds_with_data, self.answers.purge_older_than,
        )  # fmt: skip

    async def cog_load(self) -> None:
        install_pages(self.bot)
        self.bot.add_dynamic_items(*DYNAMIC_ITEMS)
        self.delivery.register()
        self.bot.dispatcher.add_source(self.source)
        await self.retention.start()
        self.bot.features.add(
            Feature(
                name="checkins",
                about={
                    Nn_("{n} check-in schedule", "{n} check-in schedules"): (
                        self.schedules.count_active_group
                    )
                },
            )
        )

    async def cog_unload(self) -> None:
        self.bot.remove_dynamic_items(*DYNAMIC_ITEMS)
        self.bot.dispatcher.remove_source(self.source)
        self.delivery.unregister()
        self.retention.stop()
        self.bot.features.remove("checkins")

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        await self.delivery.member_left(payload.guild_id, payload.user.id)

    # --- coordinators: group prompts -----------------------------------------------------------
    @schedule.command(name="add", description="Post a check-in prompt on a weekly schedule")
    @app_commands.describe(
        channel="Where to post the prompt",
        prompt="What to ask, e.g. “How has your week been?”",
        days="e.g. mon,wed,fri — or weekdays, weekends, daily",
        at="24-hour local time, e.g. 19:00",
        timezone="IANA zone, e.g. Europe/London (default: the server's)",
        thread="Open a thread under each prompt for replies",
    )
    @app_commands.rename(at="time")
    @coordinator_only()
    async def schedule_add(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        prompt: app_commands.Range[str, 1, MAX_PROMPT],
        days: Days,
        at: Time,
        timezone: Zone | None = None,
        thread: bool = False,
    ) -> None:
        guild = guild_of(interaction)
        needed = discord.Permissions(view_channel=True, send_messages=True)
        if thread:
            needed.create_public_threads = True
        if not channel.permissions_for(guild.me) >= needed:
            if thread:
                raise UserFacingError(
                    N_(
                        "I can't post and open threads in {channel}. Give Hearth View Channel, "
                        "Send Messages and Create Public Threads there, then try again. "
                        "Nothing was created."
                    ),
                    channel=channel.mention,
                )
            raise UserFacingError(
                N_(
                    "I can't post in {channel}. Give Hearth View Channel, Send Messages there, "
                    "then try again. Nothing was created."
                ),
                channel=channel.mention,
            )
        created = await self.schedules.add_group(
            guild.id, interaction.user.id, channel.id, prompt, days, at, timezone, thread
        )
        self.bot.dispatcher.poke(created.next_due_at)
        tr = await texts(interaction)
        set_up = (
            tr.gettext("Check-in **#{id}** is set: {channel}, {when}, with a thread for replies.")
            if thread
            else tr.gettext("Check-in **#{id}** is set: {channel}, {when}.")
        )
        await audited(
            interaction,
            AUDIT_CHECKIN_ADDED,
            Phrase(
                N_("#{id} in {channel}, {when}"),
                id=created.id,
                channel=f"<#{channel.id}>",
                when=created.when,
            ),
            set_up.format(id=created.id, channel=channel.mention, when=created.when_in(tr))
            + "\n"
            + tr.gettext("First prompt: {when} ({relative}).").format(
                when=format_dt(created.next_due_at, "F"),
                relative=format_dt(created.next_due_at, "R"),
            )
            + f"\n> {preview(created.prompt)}\n"
            + tr.gettext(
                "`/checkin schedule test {id}` posts it once now to check how it looks."
            ).format(id=created.id),
        )

    @schedule.command(name="list", description="This server's check-in prompts")
    @coordinator_only()
    async def schedule_list(self, interaction: discord.Interaction) -> None:
        await send_paged(interaction, "checkin_list")

    @schedule.command(name="pause", description="Stop posting a check-in until resumed")
    @app_commands.describe(id="The check-in's number")
    @coordinator_only()
    async def schedule_pause(self, interaction: discord.Interaction, id: ScheduleId) -> None:
        paused = await self.schedules.pause_group(guild_of(interaction).id, id)
        await audited(
            interaction,
            AUDIT_CHECKIN_PAUSED,
            Phrase(N_("#{id}"), id=id),
            (await texts(interaction))
            .gettext("Check-in #{id} is paused. `/checkin schedule resume {id}` restarts it.")
            .format(id=paused.id),
        )

    @schedule.command(name="resume", description="Start posting a paused check-in again")
    @app_commands.describe(id="The check-in's number")
    @coordinator_only()
    async def schedule_resume(self, interaction: discord.Interaction, id: ScheduleId) -> None:
        resumed = await self.schedules.resume_group(guild_of(interaction).id, id)
        self.bot.dispatcher.poke(resumed.next_due_at)
        await audited(
            interaction,
            AUDIT_CHECKIN_RESUMED,
            Phrase(N_("#{id}"), id=id),
            (await texts(interaction))
            .gettext(
                "Check-in #{id} is running again; the next prompt is {when}. Nothing missed "
                "while paused will be posted."
            )
            .format(id=resumed.id, when=format_dt(resumed.next_due_at, "F")),
        )

    @schedule.command(name="remove", description="Delete a check-in prompt schedule")
    @app_commands.describe(id="The check-in's number")
    @coordinator_only()
    async def schedule_remove(self, interaction: discord.Interaction, id: ScheduleId) -> None:
        removed = await self.schedules.remove_group(guild_of(interaction).id, id)
        await audited(
            interaction,
            AUDIT_CHECKIN_REMOVED,
            Phrase(N_("#{id} in {channel}"), id=id, channel=f"<#{removed.channel_id}>"),
            (await texts(interaction))
            .gettext(
                "Check-in #{id} is removed; no more prompts will be posted. Members keep "
                "their own past answers until retention clears them."
            )
            .format(id=removed.id),
        )

    @schedule.command(
        name="test", description="Post a check-in once now (the schedule is unchanged)"
    )
    @app_commands.describe(id="The check-in's number")
    @coordinator_only()
    async def schedule_test(self, interaction: discord.Interaction, id: ScheduleId) -> None:
        found = await self.schedules.get_group(guild_of(interaction).id, id)
        await interaction.response.defer(ephemeral=True, thinking=True)
        occurrence = await self.schedules.test_occurrence(found)
        problem = await self.delivery.post_group(occurrence)
        tr = await texts(interaction)
        if problem is not None:
            raise UserFacingError(
                N_("I couldn't post check-in #{id}: {problem}."), id=id, problem=problem.text(tr)
            )
        await audited(
            interaction,
            AUDIT_CHECKIN_TESTED,
            Phrase(N_("#{id}"), id=id),
            tr.gettext(
                "Posted check-in #{id} once in {channel}. Its schedule is unchanged (next: {when})."
            ).format(
                id=id, channel=f"<#{found.channel_id}>", when=format_dt(found.next_due_at, "F")
            ),
        )

    @checkin.command(name="summary", description="Coordinators: how many answered (counts only)")
    @app_commands.describe(id="The check-in's number", occurrences="How many recent prompts")
    @coordinator_only()
    async def summary(
        self,
        interaction: discord.Interaction,
        id: ScheduleId,
        occurrences: app_commands.Range[int, 1, MAX_SUMMARY_OCCURRENCES] = 5,
    ) -> None:
        guild = guild_of(interaction)
        found = await self.schedules.get_group(guild.id, id)
        rows = await self.answers.summary(guild.id, found.id, occurrences)
        tr = await texts(interaction)
        if not rows:
            await send_ephemeral(
                interaction, tr.gettext("Check-in #{id} hasn't been posted yet.").format(id=id)
            )
            return
        lines = [
            tr.gettext("**Check-in #{id}** — {channel}, {when}").format(
                id=id, channel=f"<#{found.channel_id}>", when=found.when_in(tr)
            )
        ]
        for row in rows:
            head = (
                tr.gettext("{when} (test): {n} answered")
                if row.is_test
                else tr.gettext("{when}: {n} answered")
            ).format(when=format_dt(row.due_at, "f"), n=row.answered)
            if row.distribution is None:
                lines.append(tr.gettext("{head} — too few answers to show").format(head=head))
            else:
                spread = " · ".join(f"{mood}: {n}" for mood, n in row.distribution.items())
                lines.append(f"{head} — {spread}")
        lines.append(
            "\n"
            + tr.gettext(
                "Moods are shown only when at least 5 people answered. Who answered, and any "
                "notes, stay private to each member."
            )
        )
        await send_all(interaction, "\n".join(lines))

    @schedule_pause.autocomplete("id")
    @schedule_resume.autocomplete("id")
    @schedule_remove.autocomplete("id")
    @schedule_test.autocomplete("id")
    @summary.autocomplete("id")
    async def _schedule_ids(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[int]]:
        if interaction.guild is None:
            return []
        typed = current.strip().lstrip("#").lower()
        tr = await texts(interaction)
        choices = []
        for s in await self.schedules.list_group(interaction.guild.id):
            channel = interaction.guild.get_channel(s.channel_id or 0)
            where = f"#{channel.name}" if channel else tr.gettext("deleted channel")
            label = f"#{s.id} {where}, {describe_days(s.days, tr)} {s.local_time}: {s.prompt}"
            if typed and typed not in label.lower():
                continue
            choices.append(app_commands.Choice(name=label[:100], value=s.id))
        return choices[:25]

    # --- members: personal check-ins and their own data ----------------------------------------
    @me.command(name="on", description="Get a private check-in by DM on the days you choose")
    @app_commands.describe(
        days="e.g. mon,wed,fri — or weekdays, weekends, daily",
        at="24-hour local time, e.g. 19:00",
        timezone="IANA zone, e.g. Europe/London (default: the server's)",
    )
    @app_commands.rename(at="time")
    async def me_on(
        self,
        interaction: discord.Interaction,
        days: Days,
        at: Time,
        timezone: Zone | None = None,
    ) -> None:
        await _member.switch_on(self, interaction, days, at, timezone)

    @me.command(name="off", description="Stop your personal check-ins")
    async def me_off(self, interaction: discord.Interaction) -> None:
        await _member.switch_off(self, interaction)

    @me.command(name="pause", description="Take a break from your check-ins for a few days")
    @app_commands.describe(days="How many days; they restart by themselves afterwards")
    async def me_pause(
        self, interaction: discord.Interaction, days: app_commands.Range[int, 1, MAX_SNOOZE_DAYS]
    ) -> None:
        await _member.snooze(self, interaction, days)

    @checkin.command(name="history", description="Your own check-in answers, with a chart")
    @app_commands.describe(days="How far back (default 30 days)")
    async def history(
        self,
        interaction: discord.Interaction,
        days: app_commands.Range[int, 1, MAX_HISTORY_DAYS] = 30,
    ) -> None:
        await _member.history(self, interaction, days)

    @checkin.command(name="delete", description="Delete all your check-in answers and notes")
    async def delete(self, interaction: discord.Interaction) -> None:
        guild = guild_of(interaction)
        count = await self.answers.count_for(guild.id, interaction.user.id)
        tr = await texts(interaction)
        if count == 0:
            await send_ephemeral(
                interaction, tr.gettext("You have no check-in answers here to delete.")
            )
            return
        await send_ephemeral(
            interaction,
            tr.ngettext(
                "This permanently deletes all {n} of your check-in answer and notes in this "
                "server. It can't be undone. Are you sure?",
                "This permanently deletes all {n} of your check-in answers and notes in this "
                "server. It can't be undone. Are you sure?",
                count,
            ).format(n=count),
            view=ForgetButton.make_view(interaction.user.id, tr),
        )


@pager("checkin_list", coordinators_only=True)
async def _list_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    """Every check-in prompt (a preview each: `/checkin schedule test` posts one in full)."""
    guild = guild_of(interaction)
    cog = checkins(interaction)
    found = await cog.schedules.list_group(guild.id)
    personal = await cog.schedules.count_personal(guild.id)
    tr = await texts(interaction)
    footer = "\n" + tr.gettext(
        "{n} member(s) have personal check-ins switched on (they stay private)."
    ).format(n=personal)
    if not found:
        return Page(
            content=tr.gettext("No check-in prompts yet. `/checkin schedule add` creates one.")
            + footer
        )
    thread = tr.gettext(" · thread")
    lines = [
        f"**#{s.id}** <#{s.channel_id}> — {s.when_in(tr)}"
        f"{thread if s.open_thread else ''} — {_status(s, tr)}\n"
        f"> {preview(s.prompt, 80)}"
        for s in found
    ]
    header = tr.gettext("**Check-in prompts** ({n})").format(n=len(found))
    shown, _ = line_page(header, lines, page, footer=footer, tr=tr)
    return shown


async def setup(bot: HearthBot) -> None:
    await bot.add_cog(Checkins(bot))
