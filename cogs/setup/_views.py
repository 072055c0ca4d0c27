"""The guided `/setup` panel: two steps (roles and time zone, then channels) on one message.

Every control is a `DynamicItem` whose custom_id says what it sets, and every change re-reads the
stored settings and re-draws the panel, so the panel keeps working after a restart and two
coordinators editing at once each see the latest values.
"""

from __future__ import annotations

import asyncio
from typing import Any

import discord

from bot.app import HearthBot
from bot.config import MAX_ZONE_NAME
from bot.errors import UserFacingError
from bot.i18n import ENGLISH, N_, Texts
from bot.i18n_discord import texts
from bot.services.settings import AUDIT_SETUP_COMPLETED, GuildSettings, audit_setup_step
from cogs._routes import Persistent, PersistentButton
from cogs._ui import DynamicView, HearthModal, guild_of, hearth, require_coordinator
from cogs.setup._create import create_missing
from cogs.setup._permissions import check_permissions, describe_problems
from cogs.setup._timezones import resolve, suggest

ROLE_KEYS = {"coordinator": "coordinator_role_id", "supporter": "supporter_role_id"}
CHANNEL_KEYS = {
    "log": "log_channel_id",
    "alerts": "alerts_channel_id",
    "support": "support_channel_id",
}
LABELS = {
    "coordinator_role_id": N_("Coordinator role"),
    "supporter_role_id": N_("Peer supporter role"),
    "log_channel_id": N_("Log channel"),
    "alerts_channel_id": N_("Alerts channel"),
    "support_channel_id": N_("Support channel"),
}
NAMES = {"timezone": N_("Time zone"), **LABELS}
HINTS = {
    "coordinator_role_id": N_("its members can use the coordinator commands, as can Manage Server"),
    "log_channel_id": N_("the audit trail of admin actions goes here"),
    "alerts_channel_id": N_("uncovered shifts and support requests; the log channel until set"),
    "support_channel_id": N_("private support threads are opened here"),
}
# One create at a time per server, so two clicks never make two "Coordinators" roles.
_create_locks: dict[int, asyncio.Lock] = {}


def _value(guild: discord.Guild, key: str, value: int | None, tr: Texts) -> str:
    if value is None:
        return tr.gettext("not set")
    if key.endswith("_role_id"):
        if guild.get_role(value):
            return f"<@&{value}>"
        return tr.gettext("a deleted role ({id})").format(id=value)
    if guild.get_channel(value):
        return f"<#{value}>"
    return tr.gettext("a deleted channel ({id})").format(id=value)


def render(
    guild: discord.Guild,
    settings: GuildSettings,
    page: int,
    note: str | None = None,
    tr: Texts = ENGLISH,
) -> tuple[str, DynamicView]:
    """The panel's text (current values + the permission check) and its controls for a step,
    in `tr`'s language."""
    if page == 1:
        title = tr.gettext("**Set up Hearth** — step {page} of 2: roles and time zone")
    else:
        title = tr.gettext("**Set up Hearth** — step {page} of 2: channels")
    lines = [title.format(page=page)]
    if note:
        lines += ["", note]
    lines += ["", tr.gettext("**Time zone:** {zone}").format(zone=settings.timezone)]
    for key, name in LABELS.items():
        value = _value(guild, key, getattr(settings, key), tr)
        if key in HINTS:
            line = tr.gettext("**{name}:** {value} — {hint}").format(
                name=tr.gettext(name), value=value, hint=tr.gettext(HINTS[key])
            )
        else:
            line = tr.gettext("**{name}:** {value}").format(name=tr.gettext(name), value=value)
        lines.append(line)
    status = (
        tr.gettext("Setup is finished; you can change anything here at any time.")
        if settings.setup_completed
        else tr.gettext("Pick the values below; nothing else is needed until you press Finish.")
    )
    problems = describe_problems(check_permissions(guild, settings, tr), tr)
    lines += ["", status, "", problems]
    view = DynamicView()
    if page == 1:
        for kind, key in ROLE_KEYS.items():
            view.add_item(RoleChoice(kind, getattr(settings, key), guild, tr))
        view.add_item(SetupButton("tz", page, tr))
        view.add_item(SetupButton("create", page, tr))
        view.add_item(SetupButton("page2", page, tr))
    else:
        for kind, key in CHANNEL_KEYS.items():
            view.add_item(ChannelChoice(kind, getattr(settings, key), guild, tr))
        view.add_item(SetupButton("page1", page, tr))
        view.add_item(SetupButton("create", page, tr))
        view.add_item(SetupButton("finish", page, tr))
    return "\n".join(lines)[:2000], view


async def redraw(interaction: discord.Interaction, page: int, note: str | None = None) -> None:
    guild = guild_of(interaction)
    settings = await hearth(interaction).settings.get(guild.id)
    content, view = render(guild, settings, page, note, await texts(interaction))
    if interaction.response.is_done():
        await interaction.edit_original_response(content=content, view=view)
    else:
        await interaction.response.edit_message(content=content, view=view)


async def change(
    interaction: discord.Interaction, page: int, key: str, value: Any, shown: str
) -> None:
    """Store one setting, audit it, and re-draw the panel with the stored values."""
    bot = hearth(interaction)
    guild = guild_of(interaction)
    tr = await texts(interaction)
    name = tr.gettext(NAMES[key])
    before = getattr(await bot.settings.get(guild.id), key)
    if before == value:
        await redraw(
            interaction,
            page,
            tr.gettext("{name} was already {value}.").format(name=name, value=shown),
        )
        return
    await bot.settings.update(guild.id, interaction.user.id, **{key: value})
    await bot.audit(
        guild, interaction.user.id, audit_setup_step(key), N_("set to {value}"), value=shown
    )
    await redraw(
        interaction,
        page,
        tr.gettext("Saved: {name} is now {value}.").format(name=name, value=shown),
    )


class RoleChoice(
    Persistent[discord.ui.RoleSelect[Any]], route="hearth:setup:role:{kind:coordinator|supporter}"
):
    def __init__(
        self,
        kind: str,
        current: int | None = None,
        guild: discord.Guild | None = None,
        tr: Texts = ENGLISH,
    ) -> None:
        role = guild.get_role(current) if guild is not None and current else None
        super().__init__(
            discord.ui.RoleSelect(
                custom_id=self.custom_id_for(kind),
                placeholder=tr.gettext("{name}…").format(name=tr.gettext(LABELS[ROLE_KEYS[kind]])),
                default_values=[role] if role is not None else [],
            )
        )
        self.kind = kind

    async def callback(self, interaction: discord.Interaction) -> None:
        await require_coordinator(interaction)
        role = self.item.values[0]
        if role.is_default() or role.managed:
            raise UserFacingError(
                N_(
                    "{role} can't be used: pick a role people are given, not @everyone "
                    "or a bot's own role. Nothing was changed."
                ),
                role=role.mention,
            )
        await change(interaction, 1, ROLE_KEYS[self.kind], role.id, role.mention)


class ChannelChoice(
    Persistent[discord.ui.ChannelSelect[Any]],
    route="hearth:setup:channel:{kind:log|alerts|support}",
):
    def __init__(
        self,
        kind: str,
        current: int | None = None,
        guild: discord.Guild | None = None,
        tr: Texts = ENGLISH,
    ) -> None:
        channel = guild.get_channel(current) if guild is not None and current else None
        super().__init__(
            discord.ui.ChannelSelect(
                custom_id=self.custom_id_for(kind),
                placeholder=tr.gettext("{name}…").format(
                    name=tr.gettext(LABELS[CHANNEL_KEYS[kind]])
                ),
                channel_types=[discord.ChannelType.text],
                default_values=[channel] if channel is not None else [],
            )
        )
        self.kind = kind

    async def callback(self, interaction: discord.Interaction) -> None:
        await require_coordinator(interaction)
        channel = self.item.values[0]
        await change(interaction, 2, CHANNEL_KEYS[self.kind], channel.id, f"<#{channel.id}>")


BUTTONS: dict[str, tuple[str, discord.ButtonStyle]] = {
    "tz": (N_("Set time zone"), discord.ButtonStyle.secondary),
    "create": (N_("Create missing roles and channels"), discord.ButtonStyle.secondary),
    "page1": (N_("← Back: roles and time zone"), discord.ButtonStyle.secondary),
    "page2": (N_("Next: channels →"), discord.ButtonStyle.primary),
    "finish": (N_("Finish setup"), discord.ButtonStyle.success),
}


class SetupButton(
    PersistentButton, route="hearth:setup:{action:tz|create|page1|page2|finish}:{page:[12]}"
):
    def __init__(self, action: str, page: int, tr: Texts = ENGLISH) -> None:
        text, style = BUTTONS[action]
        super().__init__(
            self.button(action, page, label=tr.gettext(text), style=style),
            row=4,
        )
        self.action = action
        self.page = page

    async def callback(self, interaction: discord.Interaction) -> None:
        await require_coordinator(interaction)
        if self.action == "tz":
            current = (await hearth(interaction).settings.get(guild_of(interaction).id)).timezone
            await interaction.response.send_modal(TimezoneModal(current, await texts(interaction)))
        elif self.action in ("page1", "page2"):
            await redraw(interaction, int(self.action[-1]))
        elif self.action == "create":
            await self._create(interaction)
        else:
            await self._finish(interaction)

    async def _create(self, interaction: discord.Interaction) -> None:
        bot = hearth(interaction)
        guild = guild_of(interaction)
        tr = await texts(interaction)
        await interaction.response.defer()
        lock = _create_locks.setdefault(guild.id, asyncio.Lock())
        async with lock:
            settings = await bot.settings.get(guild.id)
            created, failed = await create_missing(bot, guild, interaction.user, settings, tr)
        parts = []
        if created:
            parts.append(tr.gettext("Created {things}.").format(things=", ".join(created)))
        if failed:
            parts.append(tr.gettext("I couldn't create {things}.").format(things="; ".join(failed)))
        if not parts:
            parts.append(tr.gettext("Nothing was missing: every role and channel is already set."))
        await redraw(interaction, self.page, " ".join(parts))

    async def _finish(self, interaction: discord.Interaction) -> None:
        bot = hearth(interaction)
        guild = guild_of(interaction)
        tr = await texts(interaction)
        settings = await bot.settings.get(guild.id)
        unset = [tr.gettext(name) for key, name in LABELS.items() if getattr(settings, key) is None]
        first_time = not settings.setup_completed
        if first_time:
            settings = await bot.settings.update(
                guild.id, interaction.user.id, setup_completed=True
            )
        lines = [
            tr.gettext("**Hearth is set up.** Run `/setup` again at any time to change these.")
        ]
        if unset:
            lines.append(
                tr.gettext(
                    "Still not set (optional, but features that need them will say so): {names}."
                ).format(names=", ".join(unset))
            )
        lines += ["", describe_problems(check_permissions(guild, settings, tr), tr)]
        lines.append(
            tr.gettext("`/admin settings` shows every other setting; `/help` lists the commands.")
        )
        if first_time:
            await bot.audit(guild, interaction.user.id, AUDIT_SETUP_COMPLETED)
        await interaction.response.edit_message(content="\n".join(lines)[:2000], view=None)


class TimezoneModal(HearthModal, title="Server time zone"):
    def __init__(self, current: str, tr: Texts = ENGLISH) -> None:
        super().__init__(title=tr.gettext("Server time zone"))
        self.zone: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=tr.gettext("Time zone (IANA name, e.g. Europe/London)"),
            default=current,
            max_length=MAX_ZONE_NAME,
        )
        self.add_item(self.zone)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await require_coordinator(interaction)
        name = resolve_timezone(self.zone.value)
        await change(interaction, 1, "timezone", name, name)


def resolve_timezone(typed: str) -> str:
    """The IANA name someone meant, or a refusal that suggests the closest names."""
    found = resolve(typed)
    if found is not None:
        return found
    matches = suggest(typed, limit=3)
    typed_zone = typed.strip()[:MAX_ZONE_NAME]
    if matches:
        raise UserFacingError(
            N_(
                "“{typed}” isn't a time zone I know. Did you mean {matches}? Use a name like "
                "`Europe/London` or `America/New_York`. Nothing was changed."
            ),
            typed=typed_zone,
            matches=", ".join(f"`{m}`" for m in matches),
        )
    raise UserFacingError(
        N_(
            "“{typed}” isn't a time zone I know. Use a name like "
            "`Europe/London` or `America/New_York`. Nothing was changed."
        ),
        typed=typed_zone,
    )


def register(bot: HearthBot) -> None:
    bot.add_dynamic_items(RoleChoice, ChannelChoice, SetupButton)
