"""Check-in buttons and the private-note form.

Every button is a `PersistentButton` whose custom_id carries what it acts on, so prompts posted
weeks ago (and before a restart) still work, and whose failures reach the one error handler.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self

import discord

from bot.errors import UserFacingError
from bot.i18n import ENGLISH, N_, Texts
from bot.i18n_discord import texts
from bot.services.checkin_answers import AnswerResult
from bot.services.checkins import MAX_NOTE, MOODS, Occurrence
from bot.tree import NO_MENTIONS, send_ephemeral
from cogs._routes import PersistentButton
from cogs._ui import DynamicView, HearthModal, hearth, own_cog

if TYPE_CHECKING:
    from cogs.checkins import Checkins

# Translated where shown (`tr.gettext(CRISIS_LINE)`).
CRISIS_LINE = N_(
    "If you're in immediate danger, contact your local emergency services; "
    "`/crisis` lists helplines."
)
MOOD_SCALE = N_("1 = really struggling · 3 = getting by · 5 = doing well")
PRIVACY = N_("Only you can see your answers; coordinators only ever see how many people answered.")


def preview(text: str, limit: int = 200) -> str:
    """A one-line excerpt of a prompt for lists and confirmations."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def checkins(interaction: discord.Interaction) -> Checkins:
    from cogs.checkins import Checkins  # the package imports this module

    unavailable = N_("Check-ins aren't available right now; please try again later.")
    return own_cog(interaction, Checkins, unavailable)


# --- answering ---------------------------------------------------------------------------------
def answer_text(result: AnswerResult, tr: Texts = ENGLISH) -> str:
    privacy = tr.gettext(PRIVACY)
    if result.low:
        return (
            tr.gettext(
                "Thank you for telling me honestly. I'm sorry today is so hard — you don't have "
                "to carry it alone."
            )
            + "\n\n"
            + tr.gettext(
                "**Would you like a peer supporter to reach out?** Nothing is sent to anyone "
                "unless you choose “Yes”."
            )
            + "\n\n"
            + tr.gettext(CRISIS_LINE)
        )
    if result.updated and result.previous_mood is not None and result.previous_mood != result.mood:
        return tr.gettext("I've updated your answer from {before} to **{mood}**. {privacy}").format(
            before=result.previous_mood, mood=result.mood, privacy=privacy
        )
    if result.updated:
        return tr.gettext(
            "Your answer is still **{mood}** — nothing else changed. {privacy}"
        ).format(mood=result.mood, privacy=privacy)
    return tr.gettext("Thank you — I've recorded **{mood}** for this check-in. {privacy}").format(
        mood=result.mood, privacy=privacy
    )


async def _mood(interaction: discord.Interaction, occurrence_id: int, mood: int) -> None:
    cog = checkins(interaction)
    occurrence, result = await cog.answers.answer_mood(
        occurrence_id, interaction.guild_id, interaction.user.id, mood
    )
    tr = await texts(interaction)
    view = SupportOffer.make_view(occurrence.guild_id, tr) if result.low else discord.utils.MISSING
    await send_ephemeral(interaction, answer_text(result, tr), view=view)


class MoodButton(PersistentButton, route="hearth:ci:mood:{occurrence}:{mood:[1-5]}"):
    def __init__(self, occurrence_id: int, mood: int) -> None:
        self.occurrence_id = occurrence_id
        self.mood = mood
        super().__init__(
            self.button(occurrence_id, mood, label=str(mood), style=discord.ButtonStyle.primary)
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        await _mood(interaction, self.occurrence_id, self.mood)


class NoteModal(HearthModal):
    def __init__(self, occurrence: Occurrence, current: str | None, tr: Texts = ENGLISH) -> None:
        super().__init__(
            title=tr.gettext("A private note"), custom_id=f"hearth:ci:notemodal:{occurrence.id}"
        )
        self.occurrence = occurrence
        self.note: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=tr.gettext("Only you will ever see this"),
            style=discord.TextStyle.paragraph,
            max_length=MAX_NOTE,
            default=current,
            placeholder=tr.gettext("Anything you'd like to remember about today"),
        )
        self.add_item(self.note)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        result = await checkins(interaction).answers.record_note(
            self.occurrence, interaction.user.id, self.note.value
        )
        tr = await texts(interaction)
        text = (
            tr.gettext("Your private note is updated. Only you can see it (`/checkin history`).")
            if result.updated
            else tr.gettext("Your private note is saved. Only you can see it (`/checkin history`).")
        )
        if result.mood is None:
            text += " " + tr.gettext("You can still tap a number to add your mood.")
        await send_ephemeral(interaction, text)


async def _open_note(interaction: discord.Interaction, occurrence_id: int) -> None:
    cog = checkins(interaction)
    occurrence = await cog.answers.occurrence_for(
        occurrence_id, interaction.guild_id, interaction.user.id
    )
    current = await cog.answers.note_of(occurrence.id, interaction.user.id)
    await interaction.response.send_modal(NoteModal(occurrence, current, await texts(interaction)))


class NoteButton(PersistentButton, route="hearth:ci:note:{occurrence}"):
    def __init__(self, occurrence_id: int, tr: Texts = ENGLISH) -> None:
        self.occurrence_id = occurrence_id
        super().__init__(
            self.button(
                occurrence_id,
                label=tr.gettext("Add a private note"),
                style=discord.ButtonStyle.secondary,
            )
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        await _open_note(interaction, self.occurrence_id)


async def _skip(interaction: discord.Interaction, occurrence_id: int) -> None:
    await checkins(interaction).answers.occurrence_for(
        occurrence_id, interaction.guild_id, interaction.user.id
    )
    tr = await texts(interaction)
    await send_ephemeral(
        interaction,
        tr.gettext("No problem — nothing recorded for today. I'll ask again next time."),
    )


class SkipButton(PersistentButton, route="hearth:ci:skip:{occurrence}"):
    def __init__(self, occurrence_id: int, tr: Texts = ENGLISH) -> None:
        self.occurrence_id = occurrence_id
        super().__init__(
            self.button(
                occurrence_id, label=tr.gettext("Skip"), style=discord.ButtonStyle.secondary
            )
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        await _skip(interaction, self.occurrence_id)


def prompt_view(occurrence: Occurrence, tr: Texts = ENGLISH) -> discord.ui.View:
    """1–5 and a private note for a group prompt; 1–5, skip and a note for a personal DM."""
    view = DynamicView()
    for mood in MOODS:
        view.add_item(MoodButton(occurrence.id, mood))
    if occurrence.kind == "personal":
        view.add_item(SkipButton(occurrence.id, tr))
    view.add_item(NoteButton(occurrence.id, tr))
    return view


# --- the offer after a low answer --------------------------------------------------------------
async def _support(interaction: discord.Interaction, guild_id: int, yes: bool) -> None:
    tr = await texts(interaction)
    if not yes:
        await interaction.response.edit_message(
            content=(
                tr.gettext(
                    "That's okay — nothing has been sent to anyone. Be gentle with yourself "
                    "today; you can talk to a supporter whenever you want."
                )
                + "\n\n"
                + tr.gettext(CRISIS_LINE)
            ),
            view=None,
        )
        return
    await interaction.response.defer()
    # The support feature writes its own answer (in its own language handling).
    text = await hearth(interaction).request_support(guild_id, interaction.user.id, "checkin")
    await interaction.edit_original_response(
        content=f"{text}\n\n{tr.gettext(CRISIS_LINE)}", view=None
    )


class YesNoButton(PersistentButton):
    """One of a Yes / No pair of buttons about one thing (a server, a member): the route ends in
    `{answer:yes|no}`, `labels` and `yes_style` say how each looks, `callback` answers."""

    labels: ClassVar[tuple[str, str]]  # (yes, no), marked N_, translated when shown
    yes_style: ClassVar[discord.ButtonStyle]

    def __init__(self, about: int, yes: bool, tr: Texts = ENGLISH) -> None:
        self.about = about
        self.yes = yes
        super().__init__(
            self.button(
                about, "yes" if yes else "no",
                label=tr.gettext(self.labels[0] if yes else self.labels[1]),
                style=self.yes_style if yes else discord.ButtonStyle.secondary,
            )
        )  # fmt: skip

    @classmethod
    def from_route(cls, item: discord.ui.Item[Any], *values: int | str) -> Self:
        about, answer = values
        return cls(int(about), answer == "yes")

    @classmethod
    def make_view(cls, about: int, tr: Texts = ENGLISH) -> discord.ui.View:
        view = DynamicView()
        view.add_item(cls(about, True, tr))
        view.add_item(cls(about, False, tr))
        return view


class SupportOffer(YesNoButton, route="hearth:ci:support:{guild}:{answer:yes|no}"):
    labels = (N_("Yes, please"), N_("No, thank you"))
    yes_style = discord.ButtonStyle.success

    async def callback(self, interaction: discord.Interaction) -> None:
        await _support(interaction, self.about, self.yes)


# --- deleting one's own answers ----------------------------------------------------------------
async def _forget(interaction: discord.Interaction, user_id: int, confirm: bool) -> None:
    if interaction.user.id != user_id or interaction.guild_id is None:
        raise UserFacingError(N_("Only the person who asked can confirm this."))
    tr = await texts(interaction)
    if not confirm:
        await interaction.response.edit_message(
            content=tr.gettext("Okay — nothing was deleted. Your answers stay private to you."),
            view=None,
        )
        return
    removed = await checkins(interaction).answers.delete_all(interaction.guild_id, user_id)
    await interaction.response.edit_message(
        content=tr.ngettext(
            "Done: I deleted {n} check-in answer and their notes. This can't be undone. Your "
            "personal check-in schedule (if any) is unchanged.",
            "Done: I deleted {n} check-in answers and their notes. This can't be undone. Your "
            "personal check-in schedule (if any) is unchanged.",
            removed,
        ).format(n=removed),
        view=None,
        allowed_mentions=NO_MENTIONS,
    )


class ForgetButton(YesNoButton, route="hearth:ci:forget:{user}:{answer:yes|no}"):
    labels = (N_("Delete everything"), N_("Keep them"))
    yes_style = discord.ButtonStyle.danger

    async def callback(self, interaction: discord.Interaction) -> None:
        await _forget(interaction, self.about, self.yes)


DYNAMIC_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    MoodButton,
    NoteButton,
    SkipButton,
    SupportOffer,
    ForgetButton,
)
