"""Training renewals: the DM a supporter gets before their training runs out, and the weekly
digest coordinators get, written (and split to fit) in the server's language."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from discord.utils import format_dt

from bot import i18n
from bot.db import Tx, from_ts
from bot.delivery import Outgoing
from bot.i18n import ENGLISH, Texts
from bot.i18n_discord import texts_for_member
from bot.outbox_kinds import DirectMessage
from bot.services.locales import server_language
from bot.services.outbox import OutboxItem, OutboxSpec
from bot.services.rota import renewals
from bot.services.text import split_text
from bot.services.timers import Timer
from cogs.rota._common import rota_of, server_name

if TYPE_CHECKING:
    from bot.app import HearthBot


class RenewalReminder(DirectMessage):
    async def render(self, item: OutboxItem) -> Outgoing | None:
        expires = int(item.payload["expires_at"])
        expiry = from_ts(expires)
        assert item.user_id is not None
        if not await rota_of(self.bot).renewal_still_due(item.guild_id, item.user_id, expires):
            return None  # renewed or revoked since
        tr = await texts_for_member(self.bot, item.guild_id, item.user_id)
        return Outgoing(
            user_id=item.user_id,
            content=tr.gettext(
                "🌱 Your supporter training in **{server}** runs out {day} ({relative}). Thank "
                "you for all you give. When you've renewed it, a coordinator can record it with "
                "`/rota training grant`; until then shifts after that date can't be claimed."
            ).format(
                server=server_name(self.bot, item.guild_id, tr),
                day=format_dt(expiry, "D"),
                relative=format_dt(expiry, "R"),
            ),
        )


DIGEST_PART = 1950  # leaves room for "(part 2/3)" within a message's 2,000 characters


def digest_texts(digest: renewals.Digest, now: datetime, tr: Texts = ENGLISH) -> list[str]:
    """The weekly digest's messages (none when there is nothing to renew), split to fit."""
    if not digest.expiring and not digest.past_expiry:
        return []
    lines = [tr.gettext("📋 **Weekly training digest**")]
    if digest.expiring:
        lines.append(tr.gettext("Training expired or running out within 30 days:"))
        for record in digest.expiring:
            assert record.expires_at is not None
            when = format_dt(record.expires_at, "D")
            state = (
                tr.gettext("**expired** {day}").format(day=when)
                if record.expires_at <= now
                else tr.gettext("runs out {day}").format(day=when)
            )
            lines.append(f"• <@{record.user_id}> — {state}")
    if digest.past_expiry:
        lines.append(
            tr.gettext("Shifts already claimed past an expiry (they need renewing or cover):")
        )
        lines += [
            f"• <@{shift.user_id}> — "
            + tr.gettext("**{rota}** {starts} (slot #{slot}); training runs out {day}").format(
                rota=shift.rota_name,
                starts=format_dt(shift.starts_at, "F"),
                slot=shift.slot_id,
                day=format_dt(shift.expires_at, "D"),
            )
            for shift in digest.past_expiry
        ]
        more = digest.past_expiry_total - len(digest.past_expiry)
        if more > 0:
            lines.append(
                tr.gettext("…and {count} more; `/rota coverage` helps plan cover.").format(
                    count=more
                )
            )
    lines.append(
        tr.gettext("Renew with `/rota training grant`; `/rota training list` shows everyone.")
    )
    parts = split_text("\n".join(lines), DIGEST_PART)
    if len(parts) == 1:
        return parts
    return [
        tr.gettext("(part {part}/{parts}) {text}").format(part=i, parts=len(parts), text=part)
        for i, part in enumerate(parts, start=1)
    ]


def digest_outbox_for(bot: HearthBot) -> Callable[[Tx, Timer, datetime], list[OutboxSpec]]:
    """The due digest becomes its alert rows and next week's timer, in one transaction; the
    rows are written in the server's language (as `texts_for_guild` chooses it), since the
    digest is split to fit as it is written."""

    def digest_outbox(tx: Tx, timer: Timer, now: datetime) -> list[OutboxSpec]:
        renewals.schedule_next_digest_in(tx, timer, now)
        guild = bot.get_guild(timer.guild_id)
        preferred = guild.preferred_locale.value if guild is not None else None
        setting = renewals.language_setting_in(tx, timer.guild_id)
        tr = i18n.texts(server_language(setting, preferred))
        digest = renewals.digest_sync(tx, timer.guild_id, now)
        return _digest_rows(timer, digest_texts(digest, now, tr))

    return digest_outbox


def _digest_rows(timer: Timer, parts: list[str]) -> list[OutboxSpec]:
    return [
        OutboxSpec(
            guild_id=timer.guild_id,
            kind=renewals.DIGEST,
            due_at=timer.due_at,
            payload={"content": text},
            expires_at=timer.due_at + timedelta(days=7),  # next week's replaces it
        )
        for text in parts
    ]
