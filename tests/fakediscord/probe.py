"""A bare discord.py bot that exercises the fake: one command per Discord behaviour under test.

Used by tests/test_fakediscord.py (through `BareDriver` and `tests.harness.Harness`) and handy for
trying a Discord behaviour quickly without the Hearth core. `bot.notes` records what the bot
observed; `note()` also wakes `wait_for`, since bot-side state changes do not notify the fake.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from .server import FakeDiscord


class Form(discord.ui.Modal, title="Tell us"):
    text: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Your words", max_length=50)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"got {self.text.value}", ephemeral=True)


class Agree(discord.ui.View):
    @discord.ui.button(label="I agree", custom_id="agree")
    async def agree(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await interaction.response.edit_message(content="agreed", view=None)

    @discord.ui.button(label="Say more", custom_id="more")
    async def more(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await interaction.response.send_modal(Form())

    @discord.ui.select(
        custom_id="pick",
        options=[
            discord.SelectOption(label="Tea", value="t"),
            discord.SelectOption(label="Cake", value="c"),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        await interaction.response.send_message(f"picked {select.values}", ephemeral=True)


def probe(interaction: discord.Interaction) -> ProbeBot:
    assert isinstance(interaction.client, ProbeBot)
    return interaction.client


@app_commands.command(description="Echo typed options")
async def echo(
    interaction: discord.Interaction,
    text: str,
    count: int,
    flag: bool = False,
    ratio: float = 1.0,
    who: discord.Member | None = None,
    where: discord.TextChannel | None = None,
    role: discord.Role | None = None,
    file: discord.Attachment | None = None,
) -> None:
    data = await file.read() if file else b""
    parts = [
        text,
        count,
        flag,
        ratio,
        who and who.name,
        where and where.name,
        role and role.name,
        file and (file.filename, len(data)),
    ]
    copies = [discord.File(io.BytesIO(data), f"copy-{file.filename}")] if file else []
    await interaction.response.send_message(repr(parts), ephemeral=True, files=copies)


group = app_commands.Group(name="group", description="Groups")


@group.command(description="Join a group")
async def join(interaction: discord.Interaction, name: str) -> None:
    await interaction.response.send_message(f"joined {name}", view=Agree())


@join.autocomplete("name")
async def names(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [
        app_commands.Choice(name=n, value=n) for n in ("Carers", "Cats") if n.startswith(current)
    ]


@app_commands.command(description="Deferred answer")
async def slow(interaction: discord.Interaction) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    await interaction.followup.send("done")
    await interaction.followup.send("more", ephemeral=True)


@app_commands.command(description="Acknowledges twice")
async def twice(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("first", ephemeral=True)
    try:
        await discord.InteractionResponse(interaction).send_message("second")
    except discord.HTTPException as exc:
        probe(interaction).note("twice", exc.code)


@app_commands.command(description="Answers after the gate opens")
async def late(interaction: discord.Interaction) -> None:
    bot = probe(interaction)
    bot.note("late_started", True)
    await bot.gate.wait()
    try:
        await interaction.response.send_message("too late")
    except discord.NotFound as exc:
        bot.note("late", exc.code)


@app_commands.command(description="Posts a panel in the channel")
async def panel(interaction: discord.Interaction) -> None:
    assert isinstance(interaction.channel, discord.TextChannel)
    await interaction.channel.send("panel", view=Agree())
    await interaction.response.send_message("posted", ephemeral=True)


@app_commands.command(description="Coordinators only")
@app_commands.default_permissions(manage_guild=True)
async def admin_only(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("ok", ephemeral=True)


@app_commands.context_menu(name="Profile")
async def profile(interaction: discord.Interaction, member: discord.Member) -> None:
    await interaction.response.send_message(f"profile of {member.name}", ephemeral=True)


class ProbeBot(commands.Bot):
    """A bare bot with one command per Discord behaviour under test; `notes` record what it saw."""

    def __init__(self, fake: FakeDiscord, intents: discord.Intents) -> None:
        super().__init__(command_prefix="!", intents=intents, guild_ready_timeout=0.05)
        self.fake = fake
        self.notes: dict[str, Any] = {}
        self.gate = asyncio.Event()
        self.ready = asyncio.Event()
        probe_commands: tuple[
            app_commands.Command[Any, ..., Any] | app_commands.Group | app_commands.ContextMenu, ...
        ] = (
            echo,
            group,
            slow,
            twice,
            late,
            panel,
            admin_only,
            profile,
        )
        for command in probe_commands:
            self.tree.add_command(command)

    def note(self, key: str, value: Any) -> None:
        """Record an observation and wake `wait_for` (bot-side state does not notify by itself)."""
        self.notes[key] = value
        self.fake.notify()

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def on_ready(self) -> None:
        self.ready.set()

    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        self.note("member_update", [r.name for r in after.roles])

    async def on_member_join(self, member: discord.Member) -> None:
        self.note("joined", member.name)

    async def on_message(self, message: discord.Message) -> None:
        self.note(f"message:{message.id}", message.content)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self.note("guild_join", guild.name)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self.note("guild_remove", guild.name)


class BareDriver:
    """Builds a ProbeBot for `tests.harness.Harness`, like HearthDriver builds HearthBot."""

    def __init__(self, intents: discord.Intents | None = None) -> None:
        self.intents = intents or discord.Intents(guilds=True, members=True)

    def build(self, fake: FakeDiscord) -> discord.Client:
        return ProbeBot(fake, self.intents)

    async def wait_ready(self, bot: discord.Client) -> None:
        assert isinstance(bot, ProbeBot)
        await bot.ready.wait()
