"""Coordinator commands: create rotas, add and remove slots, limits, training, coverage."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.utils import format_dt

from bot.i18n import N_, Nn_
from bot.i18n_discord import texts, texts_for_member
from bot.services import rota as service
from bot.services.audit import Param, Phrase
from bot.services.rota.parsing import (
    MAX_DURATION_TEXT,
    MAX_EXPIRY_TEXT,
    MAX_REPEAT_WEEKS,
    MAX_START_TEXT,
    parse_duration,
    parse_expiry,
    parse_start,
    weekly_starts,
)
from bot.services.rota.reminders import cancel_slot_timers, schedule_coverage_check
from bot.services.rota.rotas import (
    AUDIT_ROTA_CREATED,
    AUDIT_ROTA_LIMITS_SET,
    AUDIT_ROTA_SLOTS_ADDED,
    AUDIT_ROTA_SLOTS_REMOVED,
    AUDIT_ROTA_TRAINING_GRANTED,
    AUDIT_ROTA_TRAINING_REVOKED,
    MAX_COVERAGE_WEEKS,
    MAX_NEEDED,
)
from bot.services.settings import MAX_REMINDER_HOURS_TEXT, field_bounds
from bot.tree import send_ephemeral
from cogs._pages import Page, line_page, pager, send_all, send_paged
from cogs._ui import GroupName, audited, coordinator_only, guild_of, hearth, name_choices
from cogs.rota._common import (
    RotaCogPart,
    RotaName,
    SlotText,
    guild_id_of,
    rota,
    rota_choices,
    rota_of,
    rota_slot_choices,
    slots,
    training,
    zone_of,
)


async def _group_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    service = rota_of(hearth(interaction))
    return await name_choices(
        interaction, lambda guild_id: service.open_group_names(guild_id, current)
    )


@pager("rota_training", coordinators_only=True)
async def _training_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    bot = hearth(interaction)
    tr = await texts(interaction)
    now = bot.clock.now()
    records = await rota_of(bot).list_training(guild_id_of(interaction))
    if not records:
        return Page(
            content=tr.gettext(
                "Nobody's training is recorded yet. Add it with `/rota training grant`."
            )
        )
    lines = []
    for record in records:
        if record.expires_at is None:
            status = tr.gettext("no expiry")
        elif record.valid_at(now):
            status = tr.gettext("until {day}").format(day=format_dt(record.expires_at, "D"))
        else:
            status = tr.gettext("**expired** {day}").format(day=format_dt(record.expires_at, "D"))
        lines.append(f"<@{record.user_id}> — {status}")
    header = tr.gettext("**Supporter training** ({count})").format(count=len(records))
    shown, _ = line_page(header, lines, page, tr=tr)
    return shown


@pager("rota_coverage", coordinators_only=True)
async def _coverage_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    bot = hearth(interaction)
    tr = await texts(interaction)
    rota_id, weeks = (int(part) for part in arg.split(".", 1))
    chosen = await rota_of(bot).get_rota(guild_id_of(interaction), rota_id)
    gaps = await rota_of(bot).coverage_gaps(chosen, weeks)
    if not gaps:
        return Page(
            content=tr.gettext(
                "Every **{rota}** slot in the next {weeks} week(s) has the supporters it needs."
            ).format(rota=chosen.name, weeks=weeks)
        )
    lines = [
        f"#{slot.id} {format_dt(slot.starts_at, 'F')} ({format_dt(slot.starts_at, 'R')}) — "
        + tr.ngettext(
            "{claimed}/{needed}, {n} place open", "{claimed}/{needed}, {n} places open",
            slot.open_places,
        ).format(claimed=len(slot.claimers), needed=slot.needed, n=slot.open_places)
        for slot in gaps
    ]  # fmt: skip
    header = tr.gettext(
        "**{rota}**: {count} slot(s) in the next {weeks} week(s) need cover"
    ).format(rota=chosen.name, count=len(gaps), weeks=weeks)
    shown, _ = line_page(header, lines, page, tr=tr)
    return shown


class RotaAdmin(RotaCogPart):
    @rota.command(name="create", description="Create a rota supporters can claim shifts on")
    @app_commands.describe(
        name="What the rota is, e.g. “Evening duty”",
        group="A group this rota looks after (optional)",
        needed="Supporters wanted per slot (default 1)",
        training_required="Whether supporters need recorded training to claim (default yes)",
    )
    @app_commands.autocomplete(group=_group_choices)
    @coordinator_only()
    async def create(
        self,
        interaction: discord.Interaction,
        name: RotaName,
        group: GroupName | None = None,
        needed: app_commands.Range[int, 1, MAX_NEEDED] = 1,
        training_required: bool = True,
    ) -> None:
        guild_id = guild_of(interaction).id
        group_id = await self.rota.find_group_id(guild_id, group) if group else None
        created = await self.rota.create_rota(guild_id, interaction.user.id, name,
            needed=needed, group_id=group_id, requires_training=training_required,
        )  # fmt: skip
        tr = await texts(interaction)
        if created.requires_training:
            reply = tr.ngettext(
                "Created the rota **{rota}** ({n} supporter per slot, training required). "
                "Add shifts with `/rota slots add`.",
                "Created the rota **{rota}** ({n} supporters per slot, training required). "
                "Add shifts with `/rota slots add`.",
                created.needed,
            )
        else:
            reply = tr.ngettext(
                "Created the rota **{rota}** ({n} supporter per slot, no training needed). "
                "Add shifts with `/rota slots add`.",
                "Created the rota **{rota}** ({n} supporters per slot, no training needed). "
                "Add shifts with `/rota slots add`.",
                created.needed,
            )
        await audited(
            interaction,
            AUDIT_ROTA_CREATED,
            Phrase(
                N_("{rota} (needed {needed}, {training}, group {group})")
                if group
                else N_("{rota} (needed {needed}, {training})"),
                rota=created.name,
                needed=created.needed,
                training=Phrase(N_("training required"))
                if created.requires_training
                else Phrase(N_("training not required")),
                group=group or "",
            ),
            reply.format(rota=created.name, n=created.needed),
        )

    @slots.command(name="add", description="Add a slot, or the same slot weekly for several weeks")
    @app_commands.describe(
        rota="Which rota",
        start="`YYYY-MM-DD HH:MM` or `mon 19:00`, in the server's time zone",
        duration="How long, e.g. `2h`, `90m`, `1h30m`",
        repeat_weeks="How many weeks in a row (1 = just this one)",
    )
    @app_commands.autocomplete(rota=rota_choices)
    @coordinator_only()
    async def slots_add(
        self,
        interaction: discord.Interaction,
        rota: RotaName,
        start: app_commands.Range[str, 1, MAX_START_TEXT],
        duration: app_commands.Range[str, 1, MAX_DURATION_TEXT],
        repeat_weeks: app_commands.Range[int, 1, MAX_REPEAT_WEEKS] = 1,
    ) -> None:
        bot = hearth(interaction)
        guild = guild_of(interaction)
        settings = await bot.settings.get(guild.id)
        zone = await zone_of(bot, guild.id)
        now = bot.clock.now()
        chosen = await self.rota.find_rota(guild.id, rota)
        day, at = parse_start(start, zone, now)
        length = parse_duration(duration)
        starts = weekly_starts(day, at, zone, repeat_weeks)
        created, existing = await self.rota.add_slots(chosen, interaction.user.id, starts, length)
        for slot in created:
            due = await schedule_coverage_check(
                bot.timers, slot, settings.coverage_alert_hours, now
            )
            if due is not None:
                bot.dispatcher.poke(due)
        if created:
            first, last = created[0], created[-1]
            await bot.audit(
                guild, interaction.user.id, AUDIT_ROTA_SLOTS_ADDED,
                Nn_(
                    "{rota}: {n} slot #{first}–#{last}, {when} for {duration}",
                    "{rota}: {n} slots #{first}–#{last}, {when} for {duration}",
                ),
                rota=chosen.name, n=len(created), first=first.id, last=last.id,
                when=format_dt(first.starts_at, "f"), duration=duration,
            )  # fmt: skip
        tr = await texts(interaction)
        lines = [
            tr.ngettext(
                "Added {n} slot to **{rota}**:", "Added {n} slots to **{rota}**:", len(created)
            ).format(n=len(created), rota=chosen.name)
            if created
            else tr.gettext(
                "Nothing was added: **{rota}** already has slots at those times."
            ).format(rota=chosen.name)
        ]
        lines += [
            f"#{slot.id} {format_dt(slot.starts_at, 'F')} – {format_dt(slot.ends_at, 't')}"
            for slot in created
        ]
        if created and existing:
            lines.append(
                tr.gettext("{count} already existed and were left as they were.").format(
                    count=existing
                )
            )
        await send_all(interaction, "\n".join(lines))

    @slots.command(name="remove", description="Remove a slot; supporters on it are told")
    @app_commands.describe(rota="Which rota", slot="The slot to remove")
    @app_commands.autocomplete(rota=rota_choices, slot=rota_slot_choices)
    @coordinator_only()
    async def slots_remove(
        self, interaction: discord.Interaction, rota: RotaName, slot: SlotText
    ) -> None:
        bot = hearth(interaction)
        guild = guild_of(interaction)
        slot_id = service.parse_slot_id(slot)
        await interaction.response.defer(ephemeral=True, thinking=True)
        chosen = await self.rota.find_rota(guild.id, rota)
        claim_ids = await self.rota.claim_ids_of(guild.id, slot_id)
        removed = await self.rota.remove_slot(chosen, slot_id)
        await cancel_slot_timers(bot.timers, removed, claim_ids)
        when = f"{format_dt(removed.starts_at, 'F')}"
        for user_id in removed.claimers:
            theirs = await texts_for_member(bot, guild.id, user_id)
            await bot.dm(
                guild.id, user_id,
                theirs.gettext(
                    "A coordinator removed the **{rota}** shift on {when} in **{server}**. You "
                    "don't need to cover it any more — thank you for offering."
                ).format(rota=removed.rota_name, when=when, server=guild.name),
            )  # fmt: skip
        tr = await texts(interaction)
        told = (
            tr.gettext(" The {count} supporter(s) who had claimed it were told.").format(
                count=len(removed.claimers)
            )
            if removed.claimers
            else ""
        )
        await audited(
            interaction, AUDIT_ROTA_SLOTS_REMOVED,
            Phrase(
                Nn_("{rota} #{slot} {when} ({n} supporter told)",
                    "{rota} #{slot} {when} ({n} supporters told)"),
                rota=removed.rota_name, slot=removed.id, when=when, n=len(removed.claimers),
            ),
            tr.gettext("Removed slot #{slot} ({when}).").format(slot=removed.id, when=when) + told,
        )  # fmt: skip

    @rota.command(name="limits", description="Shift limits and reminders for all rotas here")
    @app_commands.describe(
        max_per_week="Most shifts one supporter may hold in a week (Mon–Sun)",
        min_rest_hours="Hours of rest required between two shifts",
        reminder_hours="Hours before a shift to remind, e.g. `24,1`",
    )
    @coordinator_only()
    async def limits(
        self,
        interaction: discord.Interaction,
        max_per_week: app_commands.Range[int, *field_bounds("max_shifts_per_week")] | None = None,
        min_rest_hours: app_commands.Range[int, *field_bounds("min_rest_hours")] | None = None,
        reminder_hours: app_commands.Range[str, 1, MAX_REMINDER_HOURS_TEXT] | None = None,
    ) -> None:
        bot = hearth(interaction)
        guild = guild_of(interaction)
        changes: dict[str, Any] = {}
        if max_per_week is not None:
            changes["max_shifts_per_week"] = max_per_week
        if min_rest_hours is not None:
            changes["min_rest_hours"] = min_rest_hours
        if reminder_hours is not None:
            changes["reminder_hours"] = reminder_hours
        if changes:
            settings = await bot.settings.update(guild.id, interaction.user.id, **changes)
        else:
            settings = await bot.settings.get(guild.id)
        summary_text = N_(
            "at most {most} shifts a week per supporter, {rest} hours' rest between shifts, "
            "reminders {hours} before each shift"
        )
        values: dict[str, Param] = {
            "most": settings.max_shifts_per_week,
            "rest": settings.min_rest_hours,
            "hours": ", ".join(f"{hour} h" for hour in settings.reminder_hours),
        }
        tr = await texts(interaction)
        summary = tr.gettext(summary_text).format(**values)
        if changes:
            await bot.audit(
                guild, interaction.user.id, AUDIT_ROTA_LIMITS_SET, summary_text, **values
            )
            text = tr.gettext("Updated. Rotas here now use: {summary}.").format(summary=summary)
            if "reminder_hours" in changes:
                text += tr.gettext(" Shifts already claimed are reminded at the new hours too.")
        else:
            text = tr.gettext("Rotas here use: {summary}. Give an option to change it.").format(
                summary=summary
            )
        await send_ephemeral(interaction, text)

    @training.command(name="grant", description="Record that a member has done supporter training")
    @app_commands.describe(
        member="Who did the training", expires="Valid until (YYYY-MM-DD), optional"
    )
    @coordinator_only()
    async def training_grant(
        self,
        interaction: discord.Interaction,
        member: discord.Member,
        expires: app_commands.Range[str, 1, MAX_EXPIRY_TEXT] | None = None,
    ) -> None:
        bot = hearth(interaction)
        guild = guild_of(interaction)
        now = bot.clock.now()
        zone = await zone_of(bot, guild.id)
        expires_at = parse_expiry(expires, zone, now) if expires else None
        await self.rota.grant_training(guild.id, member.id, interaction.user.id, expires_at, zone)
        bot.dispatcher.poke()  # its renewal DMs, and the weekly digest
        await bot.audit(
            guild, interaction.user.id, AUDIT_ROTA_TRAINING_GRANTED,
            N_("{member} until {day}") if expires_at else N_("{member} with no expiry"),
            member=f"<@{member.id}>", day=format_dt(expires_at, "D") if expires_at else "",
        )  # fmt: skip
        tr = await texts(interaction)
        settings = await bot.settings.get(guild.id)
        note = ""
        if settings.supporter_role_id and not any(
            role.id == settings.supporter_role_id for role in member.roles
        ):
            note = tr.gettext(
                " They don't have the supporter role yet, which they also need to claim shifts."
            )
        if expires_at:
            recorded = tr.gettext("Recorded {member}'s training until {day}.").format(
                member=f"<@{member.id}>", day=format_dt(expires_at, "D")
            )
        else:
            recorded = tr.gettext("Recorded {member}'s training with no expiry.").format(
                member=f"<@{member.id}>"
            )
        await send_ephemeral(interaction, recorded + note)

    @training.command(name="revoke", description="Remove a member's recorded training")
    @app_commands.describe(member="Whose training to remove")
    @coordinator_only()
    async def training_revoke(
        self, interaction: discord.Interaction, member: discord.Member
    ) -> None:
        await self.rota.revoke_training(guild_of(interaction).id, member.id)
        tr = await texts(interaction)
        await audited(
            interaction,
            AUDIT_ROTA_TRAINING_REVOKED,
            Phrase(N_("{member}"), member=f"<@{member.id}>"),
            tr.gettext(
                "Removed {member}'s training record. Shifts they already hold are kept; they "
                "can't claim new ones on rotas that need training."
            ).format(member=f"<@{member.id}>"),
        )

    @training.command(name="list", description="Everyone with recorded supporter training")
    @coordinator_only()
    async def training_list(self, interaction: discord.Interaction) -> None:
        await send_paged(interaction, "rota_training")

    @rota.command(name="coverage", description="Upcoming slots with fewer supporters than needed")
    @app_commands.describe(rota="Which rota", weeks="How many weeks ahead to look (default 2)")
    @app_commands.autocomplete(rota=rota_choices)
    @coordinator_only()
    async def coverage(
        self,
        interaction: discord.Interaction,
        rota: RotaName,
        weeks: app_commands.Range[int, 1, MAX_COVERAGE_WEEKS] = 2,
    ) -> None:
        chosen = await self.rota.find_rota(guild_id_of(interaction), rota)
        await send_paged(interaction, "rota_coverage", f"{chosen.id}.{weeks}")
