"""The foundation through the real discord.py client: start-up, sync, /about, /help, errors."""

from __future__ import annotations

import logging

import discord
import pytest
from discord import app_commands

from bot.errors import UserFacingError
from tests.harness import Harness, bot_of
from tests.pseudo_locale import given


def sync_count(hearth: Harness) -> int:
    return sum(
        1
        for method, path, status in hearth.fake.request_log
        if method == "PUT" and path.endswith("/commands") and status == 200
    )


async def test_start_up_syncs_commands_once_and_not_again_when_unchanged(
    hearth: Harness,
) -> None:
    names = {command["name"] for command in hearth.fake.commands()}
    assert {"about", "help"} <= names
    assert sync_count(hearth) == 1

    await hearth.restart()
    assert sync_count(hearth) == 1, "an unchanged command tree must not be synced again"


async def test_about_shows_version_counts_and_that_hearth_is_not_a_crisis_service(
    hearth: Harness,
) -> None:
    reply = await hearth.slash(hearth.member, hearth.channel, "about")
    assert reply.ephemeral
    assert "Hearth 0.1.0" in reply.content
    assert "Running for" in reply.content
    assert "not a crisis service" in reply.content
    assert "emergency services" in reply.content


async def test_help_lists_only_what_this_member_may_use(hearth: Harness) -> None:
    @app_commands.command(name=given("secret"), description=given("coordinators only"))
    @app_commands.default_permissions(manage_guild=True)
    async def secret(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(given("ok"), ephemeral=True)

    bot_of(hearth).tree.add_command(secret)
    await bot_of(hearth).tree.sync()

    member_help = await hearth.slash(hearth.member, hearth.channel, "help")
    assert member_help.ephemeral
    assert "/about" in member_help.text and "/help" in member_help.text
    assert "/secret" not in member_help.text
    assert "/setup" not in member_help.text  # hidden by default and coordinator-only

    coordinator_help = await hearth.slash(hearth.coordinator, hearth.channel, "help")
    assert "/secret" in coordinator_help.text
    assert "coordinator tools" in coordinator_help.text

    # every command, however many features add, fits: one field per top-level command
    assert len(coordinator_help.embeds[0]["fields"]) == len(
        {c["name"] for c in hearth.fake.commands()}
    )

    details = await hearth.slash(hearth.member, hearth.channel, "help", command="about")
    assert "What Hearth is" in details.text
    refused = await hearth.slash(hearth.member, hearth.channel, "help", command="secret")
    assert "no command `/secret` that you can use" in refused.content
    choices = await hearth.autocomplete(hearth.member, hearth.channel, "help", "command", "ab")
    assert [choice["value"] for choice in choices] == ["about"]


async def test_unexpected_error_gives_a_kind_message_with_a_code_and_logs_the_traceback(
    hearth: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    hearth.expect_errors("unexpected error E-")

    @app_commands.command(name="boom", description="always fails")
    async def boom(interaction: discord.Interaction) -> None:
        raise RuntimeError("private detail that must not reach the user")

    bot_of(hearth).tree.add_command(boom)
    await bot_of(hearth).tree.sync()

    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        reply = await hearth.slash(hearth.member, hearth.channel, "boom")
    assert reply.ephemeral
    assert "something went wrong" in reply.content
    assert "private detail" not in reply.content
    assert "Traceback" not in reply.content
    code = reply.content.split("**")[1]
    assert code.startswith("E-")
    logged = [record for record in caplog.records if code in record.getMessage()]
    assert logged and logged[0].exc_info is not None  # the traceback is in the log only


async def test_expected_refusal_shows_its_message_and_a_second_reply_uses_a_followup(
    hearth: Harness,
) -> None:

    @app_commands.command(name="refuse", description="refuses after deferring")
    async def refuse(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        raise UserFacingError(given("That group is full, so you're on the waitlist."))

    bot_of(hearth).tree.add_command(refuse)
    await bot_of(hearth).tree.sync()

    reply = await hearth.slash(hearth.member, hearth.channel, "refuse")
    assert reply.ephemeral
    assert "That group is full" in reply.text


async def test_a_rate_limited_reply_is_ridden_out(hearth: Harness) -> None:
    """A 429 on a channel message (with retry_after and Via) is retried, not surfaced."""
    guild = bot_of(hearth).get_guild(hearth.guild.id)
    assert guild is not None
    channel = guild.get_channel(hearth.alerts.id)
    assert isinstance(channel, discord.TextChannel)

    hearth.fake.rate_limit_next("POST", r"/channels/\d+/messages", retry_after=0.05, count=2)
    await channel.send(given("hello after a rate limit"))
    assert [m.content for m in hearth.fake.channel_messages(hearth.alerts)] == [
        "hello after a rate limit"
    ]
    assert len(hearth.fake.rate_limited) == 2


async def test_restart_against_the_same_database_keeps_data(hearth: Harness) -> None:
    await bot_of(hearth).settings.update(hearth.guild.id, hearth.coordinator.id, min_rest_hours=12)
    await bot_of(hearth).audit_log.record(hearth.guild.id, hearth.coordinator.id, "test action")
    await hearth.restart()
    assert (await bot_of(hearth).settings.get(hearth.guild.id)).min_rest_hours == 12
    entries, total = await bot_of(hearth).audit_log.list(hearth.guild.id)
    assert total == 1 and entries[0].action == "test action"
    assert await bot_of(hearth).db.schema_version() >= 1


async def test_guilds_are_registered_and_notices_held_for_closed_dms_are_shown_later(
    hearth: Harness,
) -> None:
    record = await bot_of(hearth).guild_registry.get(hearth.guild.id)
    assert record is not None and record.left_at is None

    hearth.member.dms_closed = True
    delivered = await bot_of(hearth).dm(
        hearth.guild.id, hearth.member.id, given("You have a place now.")
    )
    assert delivered is False
    assert hearth.fake.dm_messages(hearth.member) == []

    reply = await hearth.slash(hearth.member, hearth.channel, "about")
    notice = await reply.followup(0)
    assert notice.ephemeral and "You have a place now." in notice.content
    assert await bot_of(hearth).notices.take(hearth.member.id) == []  # shown once only


async def test_notices_held_before_a_restart_are_still_shown(hearth: Harness) -> None:
    """Whether anyone has held notices is answered from memory (no query per interaction), so
    the set must be rebuilt from the database at start-up."""
    await bot_of(hearth).notices.hold(
        hearth.guild.id, hearth.member.id, given("Your group has a place.")
    )
    await hearth.restart()
    assert bot_of(hearth) is not None and bot_of(hearth).notices.may_have_pending(hearth.member.id)
    assert not bot_of(hearth).notices.may_have_pending(hearth.supporter.id)
    reply = await hearth.slash(hearth.member, hearth.channel, "about")
    assert "Your group has a place." in (await reply.followup(0)).content
