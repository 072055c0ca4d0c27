"""`/setup` end to end: from scratch, re-run, creating what is missing, the permission check,
and the private greeting when Hearth joins a server."""

from __future__ import annotations

from typing import Any

from tests.fakediscord import Perm
from tests.fakediscord.models import Overwrite
from tests.harness import Harness, bot_of

TZ_FIELD = "Time zone (IANA name, e.g. Europe/London)"


async def settings_rows(hearth: Harness) -> dict[str, Any]:
    rows = await bot_of(hearth).db.fetchall(
        "SELECT key, value FROM guild_settings WHERE guild_id = ?", (hearth.guild.id,)
    )
    return {row["key"]: row["value"] for row in rows}


async def audit_actions(hearth: Harness) -> list[str]:
    rows = await bot_of(hearth).db.fetchall(
        "SELECT action FROM audit_log WHERE guild_id = ? ORDER BY id", (hearth.guild.id,)
    )
    return [row["action"] for row in rows]


async def greeted(hearth: Harness) -> None:
    """The start-up greeting of the standard server, so later checks are not racing it."""
    await hearth.wait_for(lambda: hearth.dms(hearth.owner), what="the owner's greeting")


async def test_setup_from_scratch_then_rerun_shows_current_values(hearth: Harness) -> None:
    cora = hearth.coordinator
    await greeted(hearth)
    panel = await hearth.slash(cora, hearth.general, "setup")
    assert panel.ephemeral
    assert "step 1 of 2" in panel.text
    assert "**Coordinator role:** not set" in panel.text
    assert "**Time zone:** UTC" in panel.text
    assert "all good" in panel.text  # the standard bot role has every permission needed

    reply = await hearth.select(
        cora, panel, [hearth.coordinator_role], custom_id="hearth:setup:role:coordinator"
    )
    assert f"**Coordinator role:** <@&{hearth.coordinator_role.id}>" in reply.text
    reply = await hearth.select(
        cora, panel, [hearth.supporter_role], custom_id="hearth:setup:role:supporter"
    )
    assert "Saved: Peer supporter role" in reply.text

    modal = await hearth.click(cora, panel, label="Set time zone")
    assert modal.modal is not None and modal.modal.field(TZ_FIELD).value == "UTC"
    reply = await hearth.submit_modal(cora, modal, {TZ_FIELD: "london"})
    assert "**Time zone:** Europe/London" in reply.text

    reply = await hearth.click(cora, panel, label="Next: channels →")
    assert "step 2 of 2" in reply.text
    for kind, channel in (
        ("log", hearth.log),
        ("alerts", hearth.alerts),
        ("support", hearth.general),
    ):
        reply = await hearth.select(
            cora, panel, [channel], custom_id=f"hearth:setup:channel:{kind}"
        )
    assert f"**Log channel:** <#{hearth.log.id}>" in reply.text
    assert f"**Support channel:** <#{hearth.general.id}>" in reply.text

    done = await hearth.click(cora, panel, label="Finish setup")
    assert "Hearth is set up" in done.text
    assert done.components == []
    await hearth.wait_for(
        lambda: any("**Setup completed**" in m.text for m in hearth.messages(hearth.log)),
        what="the completion in the log channel",
    )

    stored = await settings_rows(hearth)
    assert stored["coordinator_role_id"] == str(hearth.coordinator_role.id)
    assert stored["supporter_role_id"] == str(hearth.supporter_role.id)
    assert stored["timezone"] == '"Europe/London"'
    assert stored["log_channel_id"] == str(hearth.log.id)
    assert stored["alerts_channel_id"] == str(hearth.alerts.id)
    assert stored["support_channel_id"] == str(hearth.general.id)
    assert stored["setup_completed"] == "true"
    assert await audit_actions(hearth) == [
        "setup.coordinator_role_id",
        "setup.supporter_role_id",
        "setup.timezone",
        "setup.log_channel_id",
        "setup.alerts_channel_id",
        "setup.support_channel_id",
        "setup.completed",
    ]
    # From the moment the log channel was set, each change was posted there.
    posted = [m.text for m in hearth.messages(hearth.log)]
    assert len(posted) == 4
    assert "**Setup: log channel** — set to" in posted[0]  # each action's name, not its code
    assert f"**Setup: alerts channel** — set to <#{hearth.alerts.id}>" in posted[1]
    assert not hearth.messages(hearth.general), "setup posts nothing publicly"

    again = await hearth.slash(cora, hearth.general, "setup")
    assert "Setup is finished" in again.text
    assert f"**Coordinator role:** <@&{hearth.coordinator_role.id}>" in again.text
    assert "**Time zone:** Europe/London" in again.text
    assert f"**Alerts channel:** <#{hearth.alerts.id}>" in again.text
    # Changing a value on the re-run works and is audited; the same value changes nothing.
    reply = await hearth.select(
        cora, again, [hearth.coordinator_role], custom_id="hearth:setup:role:coordinator"
    )
    assert "was already" in reply.text
    new_role = hearth.guild.add_role("leads")
    await hearth.fake.flush()
    reply = await hearth.select(cora, again, [new_role], custom_id="hearth:setup:role:coordinator")
    assert f"<@&{new_role.id}>" in reply.text
    await hearth.wait_for(lambda: len(hearth.messages(hearth.log)) == 5)
    assert "**Setup: coordinator role**" in hearth.messages(hearth.log)[-1].text


async def test_setup_panel_survives_a_restart(hearth: Harness) -> None:
    panel = await hearth.slash(hearth.coordinator, hearth.general, "setup")
    await hearth.restart()
    reply = await hearth.click(hearth.coordinator, panel, label="Next: channels →")
    assert "step 2 of 2" in reply.text
    reply = await hearth.select(
        hearth.coordinator, panel, [hearth.log], custom_id="hearth:setup:channel:log"
    )
    assert f"<#{hearth.log.id}>" in reply.text


async def test_timezone_option_autocompletes_and_bad_names_change_nothing(
    hearth: Harness,
) -> None:
    cora = hearth.coordinator
    choices = await hearth.autocomplete(cora, hearth.general, "setup", "timezone", "new york")
    assert choices[0]["value"] == "America/New_York"
    assert "UTC-05:00" in choices[0]["name"]  # March 2 2026 is still winter time
    choices = await hearth.autocomplete(cora, hearth.general, "setup", "timezone", "Europe/Lo")
    assert [c["value"] for c in choices][:1] == ["Europe/London"]

    refused = await hearth.slash(cora, hearth.general, "setup", timezone="Londn")
    assert "isn't a time zone I know" in refused.text
    assert "Europe/London" in refused.text  # a suggestion
    assert "timezone" not in await settings_rows(hearth)

    reply = await hearth.slash(cora, hearth.general, "setup", timezone="Asia/Tokyo")
    assert "**Time zone:** Asia/Tokyo" in reply.text
    assert (await settings_rows(hearth))["timezone"] == '"Asia/Tokyo"'

    modal = await hearth.click(cora, reply, label="Set time zone")
    refused = await hearth.submit_modal(cora, modal, {TZ_FIELD: "Nowhere/Special"})
    assert "isn't a time zone I know" in refused.text
    assert (await settings_rows(hearth))["timezone"] == '"Asia/Tokyo"'


async def test_create_missing_roles_and_private_channels(hearth: Harness) -> None:
    owner = hearth.owner
    await greeted(hearth)
    panel = await hearth.slash(owner, hearth.general, "setup")
    await hearth.click(owner, panel, label="Create missing roles and channels")
    await hearth.wait_for(lambda: "Created" in panel.text, what="the created things")
    guild = hearth.guild
    coordinators = guild.role("Coordinators")
    supporters = guild.role("Peer supporters")
    log = guild.channel("hearth-log")
    alerts = guild.channel("hearth-alerts")
    for channel in (log, alerts):
        assert not guild.permissions_for(hearth.member, channel) & Perm.VIEW_CHANNEL
        assert channel.overwrites[coordinators.id].allow & Perm.VIEW_CHANNEL
        assert guild.permissions_for(guild.bot_member, channel) & Perm.SEND_MESSAGES
    stored = await settings_rows(hearth)
    assert stored["coordinator_role_id"] == str(coordinators.id)
    assert stored["supporter_role_id"] == str(supporters.id)
    assert stored["log_channel_id"] == str(log.id)
    assert stored["alerts_channel_id"] == str(alerts.id)
    assert f"<#{log.id}>" in panel.text
    await hearth.wait_for(lambda: len(hearth.messages(log)) == 2, what="the log posts")
    assert "**Setup: role or channel created** — private channel" in hearth.messages(log)[0].text
    assert await audit_actions(hearth) == ["setup.created"] * 4

    again = await hearth.click(owner, panel, label="Create missing roles and channels")
    await hearth.wait_for(lambda: "Nothing was missing" in again.text)
    assert len([r for r in guild.roles.values() if r.name == "Coordinators"]) == 1


async def test_permission_check_lists_what_is_missing_and_why(hearth: Harness) -> None:
    cora = hearth.coordinator
    await greeted(hearth)
    await hearth.slash(cora, hearth.general, "admin set", key="log_channel_id", value="#log")
    basic = Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES | Perm.USE_APPLICATION_COMMANDS
    hearth.guild.set_role_permissions(hearth.guild.everyone_role, basic)
    hearth.guild.set_bot_permissions(basic)
    bot_id = hearth.guild.bot_member.id
    hearth.log.overwrites[bot_id] = Overwrite(bot_id, 1, 0, Perm.VIEW_CHANNEL)
    hearth.guild.channel_updated(hearth.log)
    await hearth.fake.flush()

    reply = await hearth.slash(cora, hearth.general, "admin permissions")
    text = reply.text
    for name, why in (
        ("Manage Roles", "group roles"),
        ("Manage Channels", "private log and alerts channels"),
        ("Embed Links", "cards"),
        ("Manage Messages (or Pin Messages)", "pin"),
        ("Create Private Threads", "support threads"),
        ("Send Messages in Threads", "support threads"),
        (f"View Channel, Send Messages in <#{hearth.log.id}>", "audit trail"),
    ):
        line = next((line for line in text.splitlines() if f"**{name}**" in line), None)
        assert line is not None, f"{name} missing from:\n{text}"
        assert why in line
    assert "**Send Messages** —" not in text  # granted, so not listed

    panel = await hearth.slash(cora, hearth.general, "setup")
    assert "**Manage Roles**" in panel.text
    await hearth.click(cora, panel, label="Create missing roles and channels")
    await hearth.wait_for(lambda: "I couldn't create" in panel.text)
    assert "Manage Roles" in panel.text
    assert "coordinator_role_id" not in await settings_rows(hearth)

    hearth.guild.set_bot_permissions(Perm.ADMINISTRATOR)
    hearth.log.overwrites.pop(bot_id)
    hearth.guild.channel_updated(hearth.log)
    await hearth.fake.flush()
    reply = await hearth.slash(cora, hearth.general, "admin permissions")
    assert "all good" in reply.text


async def test_join_greets_the_owner_by_dm_once_and_posts_nothing(hearth: Harness) -> None:
    await greeted(hearth)
    dm = hearth.dms(hearth.owner)[0]
    assert "/setup" in dm.text and "Test Server" in dm.text
    for channel in (hearth.general, hearth.alerts, hearth.log):
        assert not hearth.messages(channel)
    record = await bot_of(hearth).guild_registry.get(hearth.guild.id)
    assert record is not None and record.greeted_at is not None

    await hearth.restart()
    hearth.fake.remove_bot_from_guild(hearth.guild)
    hearth.fake.add_bot_to_guild(hearth.guild)
    await hearth.fake.flush()
    await hearth.slash(hearth.coordinator, hearth.general, "about")  # the bot is back and idle
    assert len(hearth.dms(hearth.owner)) == 1, "a greeting is never repeated"


async def test_join_greeting_falls_back_to_a_channel_when_owner_dms_are_closed(
    hearth: Harness,
) -> None:
    await greeted(hearth)
    owner = hearth.fake.add_user("shy-owner", dms_closed=True)
    guild = hearth.fake.add_guild("Second Server", owner=owner, with_bot=False)
    hidden = guild.add_text_channel("staff", {guild.everyone_role: (0, Perm.VIEW_CHANNEL)})
    lobby = guild.add_text_channel("lobby")
    guild.add_text_channel("chat")
    hearth.fake.add_bot_to_guild(guild)
    await hearth.wait_for(lambda: hearth.fake.channel_messages(lobby), what="the fallback")
    [message] = hearth.fake.channel_messages(lobby)
    assert "/setup" in message.content
    assert not hearth.fake.channel_messages(hidden)
    assert not hearth.fake.channel_messages(guild.channel("chat"))
    assert not hearth.fake.dm_messages(owner)
