"""Persistent buttons: Claim on rota views, and the after-shift debrief in a supporter's DMs.

The debrief score is the supporter's own: it changes only the reply they see and is never
stored or sent anywhere. Only "yes, check in with me" reaches coordinators, as a follow-up one
of them takes (cogs.rota._wellbeing).
"""

from __future__ import annotations

from typing import Any

import discord

from bot.i18n import ENGLISH, N_, Texts
from bot.i18n_discord import texts
from bot.services import rota as service
from cogs._routes import PersistentButton
from cogs._ui import DynamicView, hearth
from cogs.rota._common import claim_for, rota_of
from cogs.rota._wellbeing import WELLBEING_ITEMS, ask_for_followup

CHECKIN_QUESTION = N_("Would you like a coordinator to check in with you?")
SCORE_REPLIES = {
    1: N_(
        "That sounds like a really hard one. Thank you for showing up anyway — please be gentle "
        "with yourself tonight."
    ),
    2: N_("That sounds tough. Thank you for being there for people; it matters."),
    3: N_("Thank you for your shift — it makes a real difference."),
    4: N_("Glad it went well. Thank you for your shift!"),
    5: N_("Wonderful — thank you for your shift!"),
}


class ClaimButton(PersistentButton, route="hearth:rota:claim:{slot}"):
    def __init__(self, slot_id: int, label: str | None = None, tr: Texts = ENGLISH) -> None:
        shown = label or tr.gettext("Claim #{slot}").format(slot=slot_id)
        super().__init__(self.button(slot_id, label=shown, style=discord.ButtonStyle.success))
        self.slot_id = slot_id

    @classmethod
    def from_route(cls, item: discord.ui.Item[Any], *values: int | str) -> ClaimButton:
        return cls(int(values[0]), getattr(item, "label", None))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            await claim_for(interaction, self.slot_id), ephemeral=True
        )


def claim_buttons(
    slots: list[service.Slot], tr: Texts = ENGLISH
) -> list[discord.ui.DynamicItem[Any]]:
    """Claim buttons for one page of a rota week (the pager keeps a page within 20)."""
    return [ClaimButton(slot.id, tr=tr) for slot in slots]


class ScoreButton(PersistentButton, route="hearth:rota:debrief:{guild}:{claim}:{score:[1-5]}"):
    def __init__(self, guild_id: int, claim_id: int, score: int) -> None:
        super().__init__(
            self.button(
                guild_id, claim_id, score,
                label=str(score), style=discord.ButtonStyle.secondary, row=0,
            )
        )  # fmt: skip
        self.guild_id, self.claim_id, self.score = guild_id, claim_id, score

    async def callback(self, interaction: discord.Interaction) -> None:
        tr = await texts(interaction)
        await interaction.response.edit_message(
            content=f"{tr.gettext(SCORE_REPLIES[self.score])}\n\n{tr.gettext(CHECKIN_QUESTION)}",
            view=debrief_view(self.guild_id, self.claim_id, scores=False, tr=tr),
        )


class CheckInButton(PersistentButton, route="hearth:rota:checkin:{guild}:{claim}:{answer:yes|no}"):
    def __init__(self, guild_id: int, claim_id: int, answer: str, tr: Texts = ENGLISH) -> None:
        yes = answer == "yes"
        super().__init__(
            self.button(
                guild_id, claim_id, answer,
                label=tr.gettext("Yes, please") if yes else tr.gettext("No, thanks"),
                style=discord.ButtonStyle.primary if yes else discord.ButtonStyle.secondary,
                row=1,
            )
        )  # fmt: skip
        self.guild_id, self.claim_id, self.yes = guild_id, claim_id, yes

    async def callback(self, interaction: discord.Interaction) -> None:
        bot = hearth(interaction)
        tr = await texts(interaction)
        first = await rota_of(bot).close_debrief(self.claim_id, interaction.user.id)
        if not first:
            await interaction.response.edit_message(
                content=tr.gettext("You've already answered this one — thank you."), view=None
            )
            return
        if not self.yes:
            await interaction.response.edit_message(
                content=tr.gettext(
                    "Okay. Thank you for your shift — look after yourself. If you change "
                    "your mind, any coordinator is glad to hear from you."
                ),
                view=None,
            )
            return
        await interaction.response.defer()
        text = await ask_for_followup(bot, self.guild_id, interaction.user.id, tr)
        await interaction.edit_original_response(content=text, view=None)


def debrief_view(
    guild_id: int, claim_id: int, *, scores: bool = True, tr: Texts = ENGLISH
) -> DynamicView:
    view = DynamicView()
    if scores:
        for score in range(1, 6):
            view.add_item(ScoreButton(guild_id, claim_id, score))
    view.add_item(CheckInButton(guild_id, claim_id, "yes", tr))
    view.add_item(CheckInButton(guild_id, claim_id, "no", tr))
    return view


def debrief_text(shift: service.Shift, server_name: str, tr: Texts = ENGLISH) -> str:
    slot = shift.slot
    return (
        tr.gettext("Your **{rota}** shift in **{server}** has ended — thank you.").format(
            rota=slot.rota_name, server=server_name
        )
        + "\n\n"
        + tr.gettext("How was that shift? (1 = really hard, 5 = good; only you see this)")
        + "\n"
        + tr.gettext(CHECKIN_QUESTION)
    )


DYNAMIC_ITEMS = (ClaimButton, ScoreButton, CheckInButton, *WELLBEING_ITEMS)
