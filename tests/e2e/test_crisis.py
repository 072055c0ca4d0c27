"""`/crisis` with and without helplines, in a server and in DMs, and `/admin crisis …`."""

from __future__ import annotations

import pytest
from discord import app_commands

from bot.services.crisis import KEYWORD_WATCH
from cogs._ui import requires_coordinator
from tests.fakediscord import ActionError
from tests.harness import Harness, bot_of
from tests.helpers import add_helpline


async def helplines(hearth: Harness) -> list[str]:
    rows = await bot_of(hearth).db.fetchall("SELECT name FROM crisis_resources ORDER BY id")
    return [row["name"] for row in rows]


async def test_crisis_without_helplines_says_so_and_still_gives_the_emergency_line(
    hearth: Harness,
) -> None:
    reply = await hearth.slash(hearth.member, hearth.general, "crisis")
    assert reply.ephemeral
    assert "hasn't listed any helplines yet" in reply.text
    assert "immediate danger" in reply.text and "emergency services" in reply.text
    assert "not a crisis service" in reply.text
    assert "/support" in reply.text


async def test_coordinator_adds_lists_and_removes_helplines_shown_by_crisis(
    hearth: Harness,
) -> None:
    added = await add_helpline(
        hearth, "Samaritans", "call 116 123", region="UK & Ireland", hours="24/7"
    )
    assert "Samaritans" in added.text
    await add_helpline(hearth, "Shout", "text 85258")
    duplicate = await add_helpline(hearth, "samaritans", "x")
    assert "already a helpline" in duplicate.text
    assert await helplines(hearth) == ["Samaritans", "Shout"]

    reply = await hearth.slash(hearth.member, hearth.general, "crisis")
    assert "**Samaritans** — call 116 123 (UK & Ireland, 24/7)" in reply.text
    assert "**Shout** — text 85258" in reply.text
    assert "emergency services" in reply.text and "not a crisis service" in reply.text

    listed = await hearth.slash(hearth.coordinator, hearth.general, "admin crisis list")
    assert "Samaritans" in listed.text and "Keyword watch:** off" in listed.text
    choices = await hearth.autocomplete(
        hearth.coordinator, hearth.general, "admin crisis remove", "name", "sam"
    )
    assert [c["value"] for c in choices] == ["Samaritans"]
    removed = await hearth.slash(
        hearth.coordinator, hearth.general, "admin crisis remove", name="Samaritans"
    )
    assert "Removed" in removed.text
    missing = await hearth.slash(
        hearth.coordinator, hearth.general, "admin crisis remove", name="Nope"
    )
    assert "no helpline called" in missing.text
    assert await helplines(hearth) == ["Shout"]
    entries, _ = await bot_of(hearth).audit_log.list(hearth.guild.id)
    assert {e.action for e in entries} >= {"crisis.resource_added", "crisis.resource_removed"}


async def test_members_are_refused_admin_crisis_and_nothing_changes(hearth: Harness) -> None:
    """Hidden from members by Discord, and re-checked at run time for a stale client."""
    with pytest.raises(ActionError, match="needs MANAGE_GUILD"):
        await hearth.slash(hearth.member, hearth.general, "admin crisis add", name="F", contact="x")
    admin = bot_of(hearth).tree.get_command("admin")
    assert isinstance(admin, app_commands.Group)
    crisis = admin.get_command("crisis")
    assert isinstance(crisis, app_commands.Group)
    for command in crisis.commands:
        assert isinstance(command, app_commands.Command) and requires_coordinator(command)
    assert await helplines(hearth) == []
    assert not (await bot_of(hearth).settings.get(hearth.guild.id))[KEYWORD_WATCH]


async def test_crisis_in_a_dm_shows_only_the_lines_that_always_apply(hearth: Harness) -> None:
    await add_helpline(hearth, "Samaritans", "116")
    reply = await hearth.slash(hearth.member, None, "crisis")
    assert "emergency services" in reply.text and "not a crisis service" in reply.text
    assert "Samaritans" not in reply.text and "hasn't listed" not in reply.text
