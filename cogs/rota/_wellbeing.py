"""Supporters' wellbeing: stepping back (`/rota away`, `/rota back`, `/rota breaks`), the
debrief follow-up's I'll reach out button, and the outbox kinds that send their messages
(training renewal DMs and the weekly digest are rendered in `cogs.rota._renewals`, whose digest
converter stays out of the service because it renders and splits the digest's text while
consuming its timer)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.utils import format_dt

from bot.delivery import Outgoing
from bot.errors import UserFacingError
from bot.i18n import ENGLISH, Texts
from bot.i18n_discord import texts, texts_for_guild, texts_for_member
from bot.outbox_kinds import AlertPost, DirectMessage
from bot.services.outbox import OutboxItem
from bot.services.rota import breaks, followups, renewals
from bot.services.rota.load import (
    DEFAULT_LOAD_WEEKS,
    MAX_LOAD_WEEKS,
    Load,
    LoadReport,
)
from bot.services.rota.models import Slot
from bot.services.text import split_text
from bot.tree import NO_MENTIONS, send_ephemeral
from cogs._pages import Page, line_page, pager, send_all, send_paged
from cogs._routes import PersistentButton
from cogs._ui import (
    DynamicView,
    coordinator_only,
    guild_of,
    hearth,
    require_coordinator,
)
from cogs.rota._common import (
    RotaCogPart,
    guild_id_of,
    local_day,
    rota,
    rota_of,
    server_name,
    zone_of,
)
from cogs.rota._renewals import RenewalReminder, digest_outbox_for

if TYPE_CHECKING:
    from bot.app import HearthBot

DateOption = app_commands.Range[str, 1, breaks.DATE_LENGTH]


def _local_day(moment: datetime, zone: ZoneInfo, tr: Texts) -> str:
    return local_day(moment.astimezone(zone), tr)


def freed_alerts(why: str, freed: list[Slot], tr: Texts = ENGLISH) -> list[str]:
    """The coordinators' one alert listing shifts a supporter handed back (split if long).
    `why` is a whole sentence already in `tr`'s language ("{who} left the server")."""
    lines = [
        tr.gettext("• **{rota}** {starts} (now {claimed}/{needed}, slot #{slot})").format(
            rota=slot.rota_name,
            starts=format_dt(slot.starts_at, "F"),
            claimed=len(slot.claimers),
            needed=slot.needed,
            slot=slot.id,
        )
        for slot in freed
    ]
    head = tr.gettext("🔔 {why}, so these shifts are open again:").format(why=why)
    return split_text(head + "\n" + "\n".join(lines))


def _window(away: breaks.Away, zone: ZoneInfo, tr: Texts, *, own: bool = False) -> str:
    start = _local_day(away.starts_at, zone, tr)
    if away.ends_at is None:
        if own:
            return tr.gettext("from {start} until you say").format(start=start)
        return tr.gettext("from {start} until they say").format(start=start)
    return tr.gettext("from {start}, back on {end}").format(
        start=start, end=_local_day(away.ends_at, zone, tr)
    )


@pager("rota_breaks", coordinators_only=True)
async def _breaks_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    bot = hearth(interaction)
    tr = await texts(interaction)
    guild_id = guild_id_of(interaction)
    zone = await zone_of(bot, guild_id)
    found = await rota_of(bot).list_breaks(guild_id)
    if not found:
        return Page(content=tr.gettext("Nobody is stepping back from the rota right now."))
    lines = [f"<@{away.user_id}> — {_window(away, zone, tr)}" for away in found]
    shown, _ = line_page(
        tr.gettext("**On a break** ({count}) — dates only; no reason is ever asked").format(
            count=len(found)
        ),
        lines,
        page,
        tr=tr,
    )
    return shown


# --- a fair share -------------------------------------------------------------------------------
def _hours(hours: float) -> str:
    return f"{hours:.1f}".removesuffix(".0") + " h"


def load_figures(load: Load, weeks: int, tr: Texts = ENGLISH) -> str:
    """One supporter's figures, the same words for coordinators and in their own `/rota mine`."""
    past = tr.ngettext(
        "last {weeks} wk: {n} shift ({hours})", "last {weeks} wk: {n} shifts ({hours})",
        load.past_shifts,
    ).format(weeks=weeks, n=load.past_shifts, hours=_hours(load.past_hours))  # fmt: skip
    late = tr.ngettext("{n} late cover", "{n} late covers", load.late_covers).format(
        n=load.late_covers
    )
    ahead = tr.gettext("ahead: {count} ({hours})").format(
        count=load.ahead_shifts, hours=_hours(load.ahead_hours)
    )
    return f"{past}, {late} · {ahead}"


async def load_report(
    bot: HearthBot, guild_id: int, weeks: int, user_id: int | None = None
) -> LoadReport:
    settings = await bot.settings.get(guild_id)
    return await rota_of(bot).supporter_load(guild_id, weeks, ZoneInfo(settings.timezone),
        settings.max_shifts_per_week, user_id,
    )  # fmt: skip


@pager("rota_load", coordinators_only=True)
async def _load_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    bot = hearth(interaction)
    tr = await texts(interaction)
    weeks = int(arg)
    report = await load_report(bot, guild_id_of(interaction), weeks)
    if not report.loads:
        return Page(
            content=tr.gettext(
                "No shifts were claimed in the last {weeks} week(s) or ahead yet."
            ).format(weeks=weeks)
        )
    settings = await bot.settings.get(guild_id_of(interaction))
    lines = []
    for one in report.loads:
        flags = []
        if one.at_cap_for_long:
            flags.append(
                tr.gettext("⚠️ at the weekly cap ({cap}) {streak} weeks running").format(
                    cap=settings.max_shifts_per_week, streak=one.cap_streak
                )
            )
        if report.most_late_cover == one.user_id:
            flags.append(
                tr.gettext("⚠️ took most of the late cover ({count} of {total})").format(
                    count=one.late_covers, total=report.late_total
                )
            )
        lines.append(
            f"<@{one.user_id}> — {load_figures(one, weeks, tr)}"
            + "".join(f"\n  {f}" for f in flags)
        )
    header = tr.gettext("**Supporters' load**, {since} to {until}").format(
        since=_local_day(report.since, ZoneInfo(settings.timezone), tr),
        until=_local_day(report.until - timedelta(days=1), ZoneInfo(settings.timezone), tr),
    )
    footer = tr.gettext("A late cover is a shift taken less than a day before it started.")
    shown, _ = line_page(header, lines, page, footer=footer, tr=tr)
    return shown


class WelcomeBack(DirectMessage):
    async def render(self, item: OutboxItem) -> Outgoing | None:
        assert item.user_id is not None
        tr = await texts_for_member(self.bot, item.guild_id, item.user_id)
        return Outgoing(
            user_id=item.user_id,
            content=tr.gettext(
                "🌿 Your break from the rota in **{server}** has ended — welcome back, and no "
                "rush. `/rota view` shows shifts whenever you're ready, and `/rota away` is there "
                "if you need more time."
            ).format(server=server_name(self.bot, item.guild_id, tr)),
        )


# --- debrief follow-ups ------------------------------------------------------------------------
async def ask_for_followup(bot: HearthBot, guild_id: int, user_id: int, tr: Texts = ENGLISH) -> str:
    """A supporter's yes after a shift: record it, alert coordinators; what to tell them."""
    now = bot.clock.now()
    followup = await rota_of(bot).ask_followup(guild_id, user_id)
    bot.dispatcher.poke(now + followups.FOLLOWUP_AFTER)
    if await bot.outbox.send_now([followups.alert_spec(followup, now, again=False)]):
        return tr.gettext(
            "Thank you for saying. I've asked the coordinators to check in with you; one of "
            "them will be in touch soon."
        )
    return tr.gettext(
        "Thank you for saying. I couldn't reach the coordinators just now; I'll remind them "
        "tomorrow. If you'd like to talk sooner, please message one directly."
    )


class FollowupAlert(AlertPost):
    """The ask (and the one re-alert a day on), with I'll reach out; none once taken."""

    async def text(self, item: OutboxItem) -> str | None:
        try:
            followup = await rota_of(self.bot).get_followup(
                item.guild_id, item.payload["followup_id"]
            )
        except UserFacingError:  # the supporter deleted their data since
            return None
        if followup.taken_by is not None:
            return None
        tr = await texts_for_guild(self.bot, item.guild_id)
        if item.payload.get("again"):
            return tr.gettext(
                "⏰ A day ago {who} asked for a coordinator to check in with them after a "
                "shift, and nobody has said they'll reach out yet. Could one of you? Press "
                "**I'll reach out** so they hear from one of you."
            ).format(who=f"<@{followup.user_id}>")
        return tr.gettext(
            "🫂 {who} finished a shift and asked for a coordinator to check in with them. "
            "Press **I'll reach out** if you will, so they hear from one of you."
        ).format(who=f"<@{followup.user_id}>")

    async def render(self, item: OutboxItem) -> Outgoing | None:
        outgoing = await super().render(item)
        if outgoing is not None:
            tr = await texts_for_guild(self.bot, item.guild_id)
            view = DynamicView().add_item(
                FollowupButton(item.guild_id, item.payload["followup_id"], tr)
            )
            outgoing.components = view.to_components()
        return outgoing


class FollowupButton(PersistentButton, route="hearth:rota:followup:{guild}:{id}"):
    def __init__(self, guild_id: int, followup_id: int, tr: Texts = ENGLISH) -> None:
        super().__init__(
            self.button(
                guild_id,
                followup_id,
                label=tr.gettext("I'll reach out"),
                style=discord.ButtonStyle.primary,
            )
        )
        self.guild_id, self.followup_id = guild_id, followup_id

    async def callback(self, interaction: discord.Interaction) -> None:
        await require_coordinator(interaction)
        bot = hearth(interaction)
        taken = await rota_of(bot).take_followup(
            self.guild_id, self.followup_id, interaction.user.id
        )
        tr = await texts(interaction)
        server = await texts_for_guild(bot, self.guild_id)  # the post all coordinators see
        await interaction.response.edit_message(
            content=server.gettext(
                "✅ {who} is reaching out to {member}, who asked for a check-in after their "
                "shift {when}."
            ).format(
                who=f"<@{interaction.user.id}>",
                member=f"<@{taken.user_id}>",
                when=format_dt(taken.created_at, "R"),
            ),
            view=None,
        )
        await interaction.followup.send(
            tr.gettext("Thank you — it's yours. I've told {member} you'll be in touch.").format(
                member=f"<@{taken.user_id}>"
            ),
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
        theirs = await texts_for_member(bot, self.guild_id, taken.user_id)
        await bot.dm(
            self.guild_id,
            taken.user_id,
            theirs.gettext(
                "{who}, a coordinator in **{server}**, will be in touch soon to check in with "
                "you after your shift. Thank you for saying you'd like that."
            ).format(
                who=f"<@{interaction.user.id}>", server=server_name(bot, self.guild_id, theirs)
            ),
        )


WELLBEING_ITEMS = (FollowupButton,)


def register_kinds(bot: HearthBot) -> None:
    bot.outbox.register(breaks.FREED_ALERT, AlertPost(bot))
    bot.outbox.register(breaks.AWAY_END, WelcomeBack(bot))
    bot.outbox.register(followups.FOLLOWUP, FollowupAlert(bot))
    bot.outbox.register(renewals.RENEWAL, RenewalReminder(bot))
    bot.outbox.register(renewals.DIGEST, AlertPost(bot))
    bot.dispatcher.register_timer_outbox(renewals.RENEWAL, renewals.renewal_outbox)
    bot.dispatcher.register_timer_outbox(renewals.DIGEST, digest_outbox_for(bot))
    bot.dispatcher.register_timer_outbox(breaks.AWAY_END, breaks.away_end_outbox)
    bot.dispatcher.register_timer_outbox(followups.FOLLOWUP_DUE, followups.followup_due_outbox)


def unregister_kinds(bot: HearthBot) -> None:
    for kind in (
        breaks.FREED_ALERT, breaks.AWAY_END, followups.FOLLOWUP, renewals.RENEWAL, renewals.DIGEST
    ):  # fmt: skip
        bot.outbox.unregister(kind)
    for kind in (breaks.AWAY_END, followups.FOLLOWUP_DUE, renewals.RENEWAL, renewals.DIGEST):
        bot.dispatcher.unregister_timer(kind)


__all__ = [
    "WELLBEING_ITEMS", "ask_for_followup", "freed_alerts", "load_figures", "load_report",
    "register_kinds", "unregister_kinds",
]  # fmt: skip


class RotaWellbeing(RotaCogPart):
    @rota.command(name="away", description="Step back from the rota for a while (no reason needed)")
    @app_commands.describe(
        start="First day away, YYYY-MM-DD (default today)",
        end="Last day away, YYYY-MM-DD (leave out: until you say)",
    )
    async def away(
        self,
        interaction: discord.Interaction,
        start: DateOption | None = None,
        end: DateOption | None = None,
    ) -> None:
        bot = hearth(interaction)
        guild = guild_of(interaction)
        zone = await zone_of(bot, guild.id)
        now = bot.clock.now()
        starts_at, ends_at = breaks.parse_break(start, end, zone, now)
        user_id = interaction.user.id
        server = await texts_for_guild(bot, guild.id)
        why = server.gettext("{who} is stepping back for a while").format(who=f"<@{user_id}>")
        stepped = await self.rota.step_back(guild.id, user_id, starts_at, ends_at,
            lambda freed: freed_alerts(why, freed, server),
        )  # fmt: skip
        if ends_at is not None:
            bot.dispatcher.poke(ends_at)
        bot.dispatcher.poke()  # the coordinators' alert
        tr = await texts(interaction)
        window = _window(stepped.away, zone, tr, own=True)
        lines = [
            tr.gettext("Your break is set: {window}. Thank you for looking after yourself.").format(
                window=window
            )
        ]
        lines.append(
            tr.gettext(
                "During the break you won't get reminders or support requests, and shifts in it "
                "stay off your plate. `/rota back` ends it whenever you like."
            )
            + (tr.gettext(" I'll send you a note when it ends.") if ends_at is not None else "")
        )
        if stepped.freed:
            count = len(stepped.freed)
            lines.append(
                tr.ngettext(
                    "I've handed back {n} shift and told the coordinators which need cover — "
                    "never why:",
                    "I've handed back {n} shifts and told the coordinators which need cover — "
                    "never why:",
                    count,
                ).format(n=count)
            )
            lines += [
                f"• **{slot.rota_name}** {format_dt(slot.starts_at, 'F')}" for slot in stepped.freed
            ]
        await send_all(interaction, "\n".join(lines))

    @rota.command(name="back", description="End your break from the rota")
    async def back(self, interaction: discord.Interaction) -> None:
        guild = guild_of(interaction)
        await self.rota.come_back(guild.id, interaction.user.id)
        tr = await texts(interaction)
        await send_ephemeral(
            interaction,
            tr.gettext(
                "Welcome back — your break is over. Shifts you handed back stay with whoever "
                "covers them; `/rota view` shows where help is needed, whenever you're ready."
            ),
        )

    @rota.command(name="breaks", description="Who is stepping back from the rota, and until when")
    @coordinator_only()
    async def breaks_list(self, interaction: discord.Interaction) -> None:
        await send_paged(interaction, "rota_breaks")

    @rota.command(name="load", description="Each supporter's share of shifts and late cover")
    @app_commands.describe(weeks=f"Weeks back and ahead to look at (default {DEFAULT_LOAD_WEEKS})")
    @coordinator_only()
    async def load(
        self,
        interaction: discord.Interaction,
        weeks: app_commands.Range[int, 1, MAX_LOAD_WEEKS] = DEFAULT_LOAD_WEEKS,
    ) -> None:
        await send_paged(interaction, "rota_load", str(weeks))
