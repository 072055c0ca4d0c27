"""The optional keyword watch: a private signpost for a worrying message, nothing in public.

The message is read in memory only: never stored, never logged, never quoted to anyone. The
supporters on duty get a link to it (Discord shows it only to people who can see the channel).
"""

from __future__ import annotations

import logging

import discord

from bot.app import HearthBot
from bot.i18n import Texts
from bot.i18n_discord import texts_for_guild, texts_for_member
from bot.services.crisis import KEYWORD_WATCH, CrisisService, crisis_text
from bot.services.support import SupportService
from bot.services.text import split_text

log = logging.getLogger(__name__)


async def watch_message(bot: HearthBot, message: discord.Message) -> bool:
    """Signpost the author if the message matches; True when a signpost went out."""
    guild = message.guild
    if guild is None or message.author.bot or not message.content:
        return False
    if not (await bot.settings.get(guild.id))[KEYWORD_WATCH]:
        return False
    service = bot.service(CrisisService)
    channel_id = message.channel.id
    parent_id = getattr(message.channel, "parent_id", None)
    watched = await service.is_watched(guild.id, channel_id) or (
        parent_id is not None and await service.is_watched(guild.id, parent_id)
    )
    if not watched or not await service.matches(guild.id, message.content):
        return False
    if not await service.claim_signpost(guild.id, message.author.id):
        return False
    resources = await service.resources(guild.id)
    tr = await texts_for_member(bot, guild.id, message.author.id)
    signpost = (
        tr.gettext(
            "Hi — this is Hearth in **{server}**. Something you wrote made me want to check "
            "you have these, just in case. Only you can see this note."
        ).format(server=guild.name)
        + "\n\n"
        + crisis_text(resources, in_server=True, tr=tr)
    )
    for part in split_text(signpost):
        await bot.dm(guild.id, message.author.id, part)
    on_duty = await bot.service(SupportService).supporters_on_duty(guild.id)
    for duty in on_duty:
        await bot.dm(
            guild.id,
            duty.user_id,
            _alert(await texts_for_member(bot, guild.id, duty.user_id), message),
        )
    if not on_duty:
        server = await texts_for_guild(bot, guild.id)
        await bot.alert(
            guild,
            _alert(server, message) + " " + server.gettext("(No supporter is on duty right now.)"),
        )
    log.info("keyword watch signposted a member in guild %s", guild.id)
    return True


def _alert(tr: Texts, message: discord.Message) -> str:
    """The note for supporters: who, where and a link, never the words themselves."""
    return tr.gettext(
        "A message by {author} in {channel} matched a phrase the coordinators asked me to watch "
        "for: {link}\nThey have been sent the crisis resources privately. Please check in gently "
        "if it feels right."
    ).format(
        author=f"<@{message.author.id}>", channel=f"<#{message.channel.id}>", link=message.jump_url
    )
