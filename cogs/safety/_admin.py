"""`/admin crisis …`: the helplines `/crisis` lists, and the optional keyword watch."""

from __future__ import annotations

from typing import Literal

import discord
from discord import app_commands

from bot.i18n import N_
from bot.i18n_discord import texts
from bot.services.audit import Phrase
from bot.services.crisis import (
    AUDIT_CRISIS_ADDED,
    AUDIT_CRISIS_CHANNEL_UNWATCHED,
    AUDIT_CRISIS_CHANNEL_WATCHED,
    AUDIT_CRISIS_PHRASE_ADDED,
    AUDIT_CRISIS_PHRASE_REMOVED,
    AUDIT_CRISIS_REMOVED,
    AUDIT_CRISIS_WATCH_SET,
    KEYWORD_WATCH,
    MAX_FIELD,
    MAX_PHRASE,
    MIN_PHRASE,
    CrisisService,
)
from cogs._pages import Page, line_page, pager, send_paged
from cogs._ui import CoordinatorGroup, audited, guild_of, hearth

OnOff = Literal["on", "off"]
HelplineName = app_commands.Range[str, 1, MAX_FIELD["name"]]
Contact = app_commands.Range[str, 1, MAX_FIELD["contact"]]
Region = app_commands.Range[str, 0, MAX_FIELD["region"]]
Hours = app_commands.Range[str, 0, MAX_FIELD["hours"]]
AddRemove = Literal["add", "remove"]

INTENT_MISSING = N_(
    "⚠️ **It can't work yet:** the keyword watch needs Discord's message-content intent, which "
    "this Hearth process does not request. The person who runs the bot has to switch on "
    "*Message Content Intent* in the Discord developer portal, set `message_content = true` under "
    "`[discord]` in the config file, and restart Hearth. Until then no message is read."
)


def _service(interaction: discord.Interaction) -> CrisisService:
    bot = hearth(interaction)
    return bot.service(CrisisService)


@pager("crisis_list", coordinators_only=True)
async def _list_page(interaction: discord.Interaction, arg: str, page: int) -> Page:
    """Every helpline, then the watch: one line per channel and per phrase, so it pages."""
    guild = guild_of(interaction)
    service = _service(interaction)
    bot = hearth(interaction)
    tr = await texts(interaction)
    resources = await service.resources(guild.id)
    lines = [r.line(tr) for r in resources] or [
        tr.gettext("None yet: add one with `/admin crisis add`.")
    ]
    enabled = (await bot.settings.get(guild.id))[KEYWORD_WATCH]
    channels = await service.watched_channels(guild.id)
    phrases = await service.phrases(guild.id)
    none = tr.gettext("- none")
    lines += [
        "",
        tr.gettext("**Keyword watch:** on") if enabled else tr.gettext("**Keyword watch:** off"),
    ]
    channel_line, phrase_line = tr.gettext("- {channel}"), tr.gettext("- “{phrase}”")
    lines += [tr.gettext("Channels:")] + (
        [channel_line.format(channel=f"<#{c}>") for c in channels] or [none]
    )
    lines += [tr.gettext("Phrases:")] + ([phrase_line.format(phrase=p) for p in phrases] or [none])
    if enabled and not bot.intents.message_content:
        lines += ["", tr.gettext(INTENT_MISSING)]
    header = tr.gettext("**Helplines in `/crisis`** ({count})").format(count=len(resources))
    shown, _ = line_page(header, lines, page, tr=tr)
    return shown


class CrisisAdmin(CoordinatorGroup):
    """Coordinators choose the helplines and what the watch looks for; members see `/crisis`."""

    def __init__(self) -> None:
        super().__init__(name="crisis", description="Helplines for /crisis and the keyword watch")

    @app_commands.command(name="add", description="Add a helpline to /crisis")
    @app_commands.describe(
        name="e.g. Samaritans",
        contact="How to reach it, e.g. call 116 123 or text SHOUT to 85258",
        region="Where it serves, e.g. UK & Ireland",
        hours="When it is open, e.g. 24/7",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        name: HelplineName,
        contact: Contact,
        region: Region = "",
        hours: Hours = "",
    ) -> None:
        resource = await _service(interaction).add(
            guild_of(interaction).id, interaction.user.id, name, contact, region, hours
        )
        tr = await texts(interaction)
        await audited(
            interaction,
            AUDIT_CRISIS_ADDED,
            Phrase(N_("{name}"), name=resource.name),
            tr.gettext("Added to `/crisis`:") + "\n" + resource.line(tr),
        )

    @app_commands.command(name="remove", description="Remove a helpline from /crisis")
    async def remove(self, interaction: discord.Interaction, name: HelplineName) -> None:
        removed = await _service(interaction).remove(guild_of(interaction).id, name)
        tr = await texts(interaction)
        await audited(
            interaction,
            AUDIT_CRISIS_REMOVED,
            Phrase(N_("{name}"), name=removed),
            tr.gettext("Removed “{name}” from `/crisis`.").format(name=removed),
        )

    @remove.autocomplete("name")
    async def _remove_names(
        self, interaction: discord.Interaction, typed: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        resources = await _service(interaction).resources(interaction.guild_id)
        return [
            app_commands.Choice(name=r.name, value=r.name)
            for r in resources
            if typed.casefold() in r.name.casefold()
        ][:25]

    @app_commands.command(name="list", description="Helplines and keyword-watch settings")
    async def list_(self, interaction: discord.Interaction) -> None:
        await send_paged(interaction, "crisis_list")

    @app_commands.command(name="watch", description="Turn the keyword watch on or off")
    async def watch(self, interaction: discord.Interaction, state: OnOff) -> None:
        guild = guild_of(interaction)
        bot = hearth(interaction)
        tr = await texts(interaction)
        await bot.settings.update(
            guild.id, interaction.user.id, keyword_watch_enabled=state == "on"
        )
        await bot.audit(
            guild,
            interaction.user.id,
            AUDIT_CRISIS_WATCH_SET,
            N_("now on") if state == "on" else N_("now off"),
        )
        if state == "off":
            text = tr.gettext("The keyword watch is off. No message is read.")
        else:
            service = _service(interaction)
            text = tr.gettext(
                "The keyword watch is on. When a message in a watched channel contains a watched "
                "phrase, its author gets a private note with the crisis resources and `/support`, "
                "and the supporters on duty get a private link to it. Nothing is posted in the "
                "channel and the message is not stored. Each member is signposted at most once "
                "an hour."
            )
            if not await service.watched_channels(guild.id) or not await service.phrases(guild.id):
                text += "\n" + tr.gettext(
                    "It needs at least one channel (`/admin crisis watch-channel`) and one "
                    "phrase (`/admin crisis watch-phrase`) to do anything."
                )
            if not bot.intents.message_content:
                text += "\n\n" + tr.gettext(INTENT_MISSING)
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="watch-channel", description="Watch a channel, or stop watching it")
    async def watch_channel(
        self,
        interaction: discord.Interaction,
        action: AddRemove,
        channel: discord.TextChannel,
    ) -> None:
        guild = guild_of(interaction)
        service = _service(interaction)
        tr = await texts(interaction)
        if action == "add":
            changed = await service.watch_channel(guild.id, interaction.user.id, channel.id)
            text = (
                tr.gettext("Watching {channel}.")
                if changed
                else tr.gettext("{channel} is already watched.")
            )
        else:
            changed = await service.unwatch_channel(guild.id, channel.id)
            text = (
                tr.gettext("No longer watching {channel}.")
                if changed
                else tr.gettext("{channel} wasn't watched. Nothing was changed.")
            )
        text = text.format(channel=channel.mention)
        if changed:
            await hearth(interaction).audit(
                guild,
                interaction.user.id,
                AUDIT_CRISIS_CHANNEL_WATCHED if action == "add" else AUDIT_CRISIS_CHANNEL_UNWATCHED,
                N_("#{channel}"),
                channel=channel.name,
            )
        await interaction.response.send_message(text, ephemeral=True)

    @app_commands.command(name="watch-phrase", description="Add or remove a watched phrase")
    @app_commands.describe(phrase="Matched as whole words, ignoring case")
    async def watch_phrase(
        self,
        interaction: discord.Interaction,
        action: AddRemove,
        phrase: app_commands.Range[str, MIN_PHRASE, MAX_PHRASE],
    ) -> None:
        guild = guild_of(interaction)
        service = _service(interaction)
        tr = await texts(interaction)
        if action == "add":
            key = await service.add_phrase(guild.id, interaction.user.id, phrase)
            text = tr.gettext("Watching for “{phrase}”.").format(phrase=key)
        else:
            key = await service.remove_phrase(guild.id, phrase)
            text = tr.gettext("No longer watching for “{phrase}”.").format(phrase=key)
        # The phrase itself stays out of the audit log: it may be sensitive wording.
        done = AUDIT_CRISIS_PHRASE_ADDED if action == "add" else AUDIT_CRISIS_PHRASE_REMOVED
        await audited(interaction, done, None, text)
