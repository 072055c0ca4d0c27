"""Shared glue for the rota commands: the command groups, pickers, and the claim flow."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import format_dt

from bot.errors import NotSetUpError, UserFacingError
from bot.i18n import N_, Texts
from bot.i18n_discord import texts
from bot.services.rota import RotaService
from bot.services.rota.models import Slot
from bot.services.rota.rotas import MAX_NAME, MAX_SLOT_TEXT
from cogs._ui import hearth, name_choices

if TYPE_CHECKING:
    from bot.app import HearthBot

rota = app_commands.Group(
    name="rota", description="Peer-supporter rotas: shifts, cover and who is on duty",
    guild_only=True,
)  # fmt: skip
slots = app_commands.Group(name="slots", description="Add or remove rota slots", parent=rota)
training = app_commands.Group(
    name="training", description="Who has done supporter training", parent=rota
)
swap = app_commands.Group(
    name="swap", description="Swap a shift with another supporter", parent=rota
)


class RotaCogPart(commands.Cog):
    """What each part of the rota cog (admin, member, wellbeing) holds; `Rota` combines them.

    The command groups above are shared by the parts, and discord.py gathers the subcommands
    of every part into one `/rota` group when the combined cog is added.
    """

    bot: HearthBot
    rota: RotaService


def rota_of(bot: HearthBot) -> RotaService:
    """For the glue outside the cog's methods: autocompletes, pagers, buttons and timers."""
    return bot.service(RotaService)


# What members type into the rota options, declared to Discord with the limits the service keeps.
RotaName = app_commands.Range[str, 1, MAX_NAME]
SlotText = app_commands.Range[str, 1, MAX_SLOT_TEXT]


async def zone_of(bot: HearthBot, guild_id: int) -> ZoneInfo:
    return ZoneInfo((await bot.settings.get(guild_id)).timezone)


def local_day(moment: datetime, tr: Texts) -> str:
    """A day as "Tue 3 Mar 2026", its names in `tr`'s language."""
    return tr.format_day(moment, "EEE d MMM y")


def slot_label(slot: Slot, zone: ZoneInfo, tr: Texts) -> str:
    """ "#1 Tue 3 Mar 19:00–21:00 · Evening duty (1/2)" in the server's zone and the reader's
    language, for pickers (autocomplete choices can't hold `<t:…>`)."""
    start, end = slot.starts_at.astimezone(zone), slot.ends_at.astimezone(zone)
    return tr.gettext("#{id} {day} {start}–{end} · {rota} ({claimed}/{needed})").format(
        id=slot.id,
        day=tr.format_day(start, "EEE d MMM"),
        start=f"{start:%H:%M}",
        end=f"{end:%H:%M}",
        rota=slot.rota_name,
        claimed=len(slot.claimers),
        needed=slot.needed,
    )


def server_name(bot: HearthBot, guild_id: int, tr: Texts) -> str:
    guild = bot.get_guild(guild_id)
    return guild.name if guild else tr.gettext("your server")


async def is_supporter(bot: HearthBot, member: discord.Member | discord.User) -> bool:
    if not isinstance(member, discord.Member):
        return False
    settings = await bot.settings.get(member.guild.id)
    if settings.supporter_role_id is None:
        raise NotSetUpError("the supporter role")
    return any(role.id == settings.supporter_role_id for role in member.roles)


def guild_id_of(interaction: discord.Interaction) -> int:
    if interaction.guild_id is None:
        raise UserFacingError(N_("That only works inside a server, not in DMs."))
    return interaction.guild_id


async def rota_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    service = rota_of(hearth(interaction))
    return await name_choices(interaction, lambda guild_id: service.rota_names(guild_id, current))


async def _slot_choices(
    interaction: discord.Interaction, current: str, **filters: object
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    bot = hearth(interaction)
    zone = await zone_of(bot, interaction.guild_id)
    typed = current.strip().lstrip("#").casefold()
    found = await rota_of(bot).upcoming_slots(
        interaction.guild_id,
        limit=100,
        number=typed if typed.isdigit() else None,
        **filters,  # type: ignore[arg-type]  # filters: keyword names of upcoming_slots
    )
    tr = await texts(interaction)
    choices = []
    for slot in found:
        label = slot_label(slot, zone, tr)
        if typed and typed not in label.casefold():
            continue
        choices.append(app_commands.Choice(name=label[:100], value=str(slot.id)))
    return choices[:25]


async def open_slot_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return await _slot_choices(interaction, current)


async def my_slot_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return await _slot_choices(interaction, current, user_id=interaction.user.id)


async def swap_slot_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Offered swaps; none for a supporter on a break, who is not offered any."""
    if interaction.guild_id is None:
        return []
    bot = hearth(interaction)
    guild_id, user_id = interaction.guild_id, interaction.user.id
    if await rota_of(bot).is_away(guild_id, user_id):
        return []
    return await _slot_choices(interaction, current, swaps_only=True)


async def rota_slot_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Slots of the rota already chosen in the same command."""
    name = getattr(interaction.namespace, "rota", None)
    if not name or interaction.guild_id is None:
        return []
    try:
        chosen = await rota_of(hearth(interaction)).find_rota(interaction.guild_id, name)
    except UserFacingError:
        return []
    return await _slot_choices(interaction, current, rota_id=chosen.id)


async def claim_for(interaction: discord.Interaction, slot_id: int) -> str:
    """Claim a slot for whoever pressed or typed, schedule their reminders, say what happens."""
    bot = hearth(interaction)
    guild_id = guild_id_of(interaction)
    settings = await bot.settings.get(guild_id)
    shift = await rota_of(bot).claim_slot(settings, guild_id, slot_id, interaction.user.id,
        is_supporter=await is_supporter(bot, interaction.user),
    )  # fmt: skip
    if shift.first_timer_due is not None:
        bot.dispatcher.poke(shift.first_timer_due)
    slot = shift.slot
    hours = ", ".join(f"{hour} h" for hour in settings.reminder_hours)
    tr = await texts(interaction)
    return tr.gettext(
        "You're on **{rota}** {starts} until {ends} (slot #{slot}, now {claimed}/{needed}). "
        "I'll remind you by DM {hours} before. Thank you for being there."
    ).format(
        rota=slot.rota_name,
        starts=format_dt(slot.starts_at, "F"),
        ends=format_dt(slot.ends_at, "t"),
        slot=slot.id,
        claimed=len(slot.claimers),
        needed=slot.needed,
        hours=hours,
    )
