"""Supporter and member commands: view, claim, release, mine, swaps, and who is on duty."""

from __future__ import annotations

import io

import discord
from discord import app_commands
from discord.utils import format_dt

from bot.i18n import ENGLISH, Texts
from bot.i18n_discord import texts, texts_for_guild, texts_for_member
from bot.services import rota as service
from bot.services.rota.load import DEFAULT_LOAD_WEEKS
from bot.services.rota.parsing import MAX_VIEW_WEEKS, weeks_from
from bot.services.rota.reminders import schedule_claim_timers
from bot.tree import send_ephemeral
from cogs._pages import (
    DESCRIPTION_LIMIT,
    MAX_ITEMS_PER_PAGE,
    Page,
    line_page,
    pager,
    send_paged,
)
from cogs._ui import guild_of, hearth
from cogs.rota._common import (
    RotaCogPart,
    RotaName,
    SlotText,
    claim_for,
    guild_id_of,
    is_supporter,
    local_day,
    my_slot_choices,
    open_slot_choices,
    rota,
    rota_choices,
    rota_of,
    swap,
    swap_slot_choices,
    zone_of,
)
from cogs.rota._views import claim_buttons
from cogs.rota._wellbeing import load_figures, load_report


def _slot_line(slot: service.Slot, tr: Texts = ENGLISH) -> str:
    offering = tr.gettext(" (offering a swap)")
    people = ", ".join(
        f"<@{user_id}>" + (offering if user_id in slot.swap_offers else "")
        for user_id in slot.claimers
    )
    gap = (
        tr.gettext(" · ⚠️ **{count} open**").format(count=slot.open_places)
        if slot.open_places
        else ""
    )
    return (
        f"**#{slot.id}** {format_dt(slot.starts_at, 'F')} – {format_dt(slot.ends_at, 't')} · "
        f"{len(slot.claimers)}/{slot.needed}{gap}" + (f"\n  {people}" if people else "")
    )


@pager("rota_week")
async def _week_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    """A week of one rota, a page of slots at a time with Claim buttons for the open ones."""
    bot = hearth(interaction)
    tr = await texts(interaction)
    guild_id = guild_id_of(interaction)
    rota_id, week = (int(part) for part in arg.split(".", 1))
    now = bot.clock.now()
    chosen = await rota_of(bot).get_rota(guild_id, rota_id)
    zone = await zone_of(bot, guild_id)
    start, end = weeks_from(now, week, zone)
    week_slots = await rota_of(bot).slots_between(guild_id, start, end, chosen.id)
    title = tr.gettext("{rota} — week of {day}").format(
        rota=chosen.name, day=local_day(start.astimezone(zone), tr)
    )
    if not week_slots:
        return Page(
            content=tr.gettext(
                "**{title}**\nNo slots this week. Try another `week`, or ask a coordinator."
            ).format(title=title)
        )
    shown, indexes = line_page(
        tr.ngettext("{n} slot", "{n} slots", len(week_slots)).format(n=len(week_slots)),
        [_slot_line(slot, tr) for slot in week_slots],
        page,
        budget=DESCRIPTION_LIMIT - 100,
        max_lines=MAX_ITEMS_PER_PAGE,
        tr=tr,
    )
    embed = discord.Embed(title=title, description=shown.content, colour=discord.Colour.orange())
    embed.set_footer(text=tr.gettext("Times are shown in your own time zone."))
    on_page = [week_slots[i] for i in indexes]
    shown.content, shown.embed = "", embed
    shown.items = claim_buttons([s for s in on_page if s.open_places and s.starts_at > now], tr)
    return shown


@pager("rota_mine")
async def _mine_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    bot = hearth(interaction)
    tr = await texts(interaction)
    now = bot.clock.now()
    guild_id = guild_id_of(interaction)
    shifts = await rota_of(bot).my_shifts(guild_id, interaction.user.id)
    report = await load_report(bot, guild_id, DEFAULT_LOAD_WEEKS, interaction.user.id)
    figures = (
        tr.gettext("Your share — {figures}. Thank you.").format(
            figures=load_figures(report.loads[0], DEFAULT_LOAD_WEEKS, tr)
        )
        if report.loads
        else ""
    )
    if not shifts:
        return Page(
            content=tr.gettext(
                "You have no upcoming shifts. `/rota view` shows where cover is needed."
            )
            + (f"\n{figures}" if figures else "")
        )
    offered, on_now = tr.gettext(" · offered for swap"), tr.gettext(" · **on now**")
    lines = [
        f"#{shift.slot.id} **{shift.slot.rota_name}** {format_dt(shift.slot.starts_at, 'F')} – "
        f"{format_dt(shift.slot.ends_at, 't')}"
        + (offered if shift.swap_offered else "")
        + (on_now if shift.slot.starts_at <= now else "")
        for shift in shifts
    ]
    header = tr.gettext("**Your shifts** ({count})").format(count=len(shifts))
    shown, _ = line_page(header, lines, page, footer=figures, tr=tr)
    return shown


@pager("rota_onduty")
async def _onduty_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    bot = hearth(interaction)
    tr = await texts(interaction)
    guild_id = guild_id_of(interaction)
    shifts = await rota_of(bot).on_duty(guild_id)
    if shifts:
        lines = [
            tr.gettext("{who} — {rota}, until {ends}").format(
                who=f"<@{shift.user_id}>", rota=shift.rota_name, ends=format_dt(shift.ends_at, "t")
            )
            for shift in shifts
        ]
        shown, _ = line_page(tr.gettext("**On duty now**"), lines, page, tr=tr)
        return shown
    upcoming = await rota_of(bot).next_shift_start(guild_id)
    if upcoming is None:
        text = tr.gettext("No one is on duty right now, and no shifts are scheduled yet.")
    else:
        text = tr.gettext(
            "No one is on duty right now. The next shift starts {starts} ({relative})."
        ).format(starts=format_dt(upcoming, "F"), relative=format_dt(upcoming, "R"))
    return Page(content=text + tr.gettext(" If you need help urgently, `/crisis` lists helplines."))


class RotaMember(RotaCogPart):
    @rota.command(name="view", description="A week of a rota: times, who is on, and gaps")
    @app_commands.describe(rota="Which rota", week="Weeks from now: 0 this week, 1 next week, …")
    @app_commands.autocomplete(rota=rota_choices)
    async def view(
        self,
        interaction: discord.Interaction,
        rota: RotaName,
        week: app_commands.Range[int, -MAX_VIEW_WEEKS, MAX_VIEW_WEEKS] = 0,
    ) -> None:
        chosen = await self.rota.find_rota(guild_id_of(interaction), rota)
        await send_paged(interaction, "rota_week", f"{chosen.id}.{week}")

    @rota.command(name="claim", description="Take a shift")
    @app_commands.describe(slot="The slot to claim")
    @app_commands.autocomplete(slot=open_slot_choices)
    async def claim(self, interaction: discord.Interaction, slot: SlotText) -> None:
        await send_ephemeral(interaction, await claim_for(interaction, service.parse_slot_id(slot)))

    @rota.command(name="release", description="Give up a shift you claimed")
    @app_commands.describe(slot="Your shift to release")
    @app_commands.autocomplete(slot=my_slot_choices)
    async def release(self, interaction: discord.Interaction, slot: SlotText) -> None:
        bot = hearth(interaction)
        guild = guild_of(interaction)
        released = await self.rota.release_claim(
            guild.id, service.parse_slot_id(slot), interaction.user.id
        )
        freed = released.slot
        tr = await texts(interaction)
        text = tr.gettext(
            "You've released **{rota}** {starts}. Thanks for letting us know."
        ).format(rota=freed.rota_name, starts=format_dt(freed.starts_at, "F"))
        if released.short_notice:
            server = await texts_for_guild(bot, guild.id)
            await bot.alert(
                guild,
                server.gettext(
                    "🔔 {who} can no longer cover **{rota}** {starts} ({relative}); it now has "
                    "{claimed}/{needed}. Please help find cover (slot #{slot})."
                ).format(
                    who=f"<@{interaction.user.id}>",
                    rota=freed.rota_name,
                    starts=format_dt(freed.starts_at, "F"),
                    relative=format_dt(freed.starts_at, "R"),
                    claimed=len(freed.claimers),
                    needed=freed.needed,
                    slot=freed.id,
                ),
            )
            text += tr.gettext(
                " As it's less than a day away, I've let the coordinators know so they can "
                "find cover."
            )
        await send_ephemeral(interaction, text)

    @rota.command(name="mine", description="Your upcoming shifts (optionally as a calendar file)")
    @app_commands.describe(ics="Attach a calendar (.ics) file you can import")
    async def mine(self, interaction: discord.Interaction, ics: bool = False) -> None:
        bot = hearth(interaction)
        guild = guild_of(interaction)
        now = bot.clock.now()
        shifts = await self.rota.my_shifts(guild.id, interaction.user.id) if ics else []
        if not shifts:
            await send_paged(interaction, "rota_mine")
            return
        data = service.shifts_calendar(shifts, guild.name, now, await texts(interaction))
        calendar = discord.File(io.BytesIO(data), filename="hearth-shifts.ics")
        await send_paged(interaction, "rota_mine", file=calendar)

    @swap.command(
        name="offer", description="Offer your shift to another supporter (it stays yours)"
    )
    @app_commands.describe(slot="Your shift to offer")
    @app_commands.autocomplete(slot=my_slot_choices)
    async def swap_offer(self, interaction: discord.Interaction, slot: SlotText) -> None:
        shift = await self.rota.offer_swap(
            guild_id_of(interaction),
            service.parse_slot_id(slot),
            interaction.user.id,
        )
        tr = await texts(interaction)
        await send_ephemeral(
            interaction,
            tr.gettext(
                "**{rota}** {starts} is offered for a swap. It stays yours — with its reminders — "
                "until another supporter takes it with `/rota swap take`; I'll DM you when that "
                "happens. To keep it after all, use `/rota swap take` on it yourself."
            ).format(rota=shift.slot.rota_name, starts=format_dt(shift.slot.starts_at, "F")),
        )

    @swap.command(name="take", description="Take a shift another supporter offered")
    @app_commands.describe(slot="The offered shift")
    @app_commands.autocomplete(slot=swap_slot_choices)
    async def swap_take(self, interaction: discord.Interaction, slot: SlotText) -> None:
        bot = hearth(interaction)
        guild = guild_of(interaction)
        slot_id = service.parse_slot_id(slot)
        now = bot.clock.now()
        tr = await texts(interaction)
        current = await self.rota.slot(guild.id, slot_id)
        if interaction.user.id in current.swap_offers:
            await self.rota.withdraw_swap(guild.id, slot_id, interaction.user.id)
            await send_ephemeral(
                interaction, tr.gettext("You've withdrawn your swap offer; the shift stays yours.")
            )
            return
        settings = await bot.settings.get(guild.id)
        taken = await self.rota.take_swap(settings, guild.id, slot_id, interaction.user.id,
            is_supporter=await is_supporter(bot, interaction.user),
        )  # fmt: skip
        dues = await schedule_claim_timers(bot.timers, taken.shift, settings.reminder_hours, now)
        bot.dispatcher.poke(min(dues))
        moved = taken.shift.slot
        giver = await texts_for_member(bot, guild.id, taken.from_user_id)
        await bot.dm(
            guild.id, taken.from_user_id,
            giver.gettext(
                "{who} took your **{rota}** shift {starts} in **{server}**. It's theirs now — "
                "thank you for arranging cover."
            ).format(
                who=f"<@{interaction.user.id}>", rota=moved.rota_name,
                starts=format_dt(moved.starts_at, "F"), server=guild.name,
            ),
        )  # fmt: skip
        await send_ephemeral(
            interaction,
            tr.gettext(
                "The **{rota}** shift {starts} – {ends} is yours now. I'll send you the "
                "reminders. Thank you!"
            ).format(
                rota=moved.rota_name,
                starts=format_dt(moved.starts_at, "F"),
                ends=format_dt(moved.ends_at, "t"),
            ),
        )

    @rota.command(name="onduty", description="Who is on duty right now")
    async def onduty(self, interaction: discord.Interaction) -> None:
        await send_paged(interaction, "rota_onduty")
