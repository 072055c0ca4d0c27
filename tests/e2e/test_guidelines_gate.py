"""Guidelines with groups: the join gate, per-group text and status, and the accepted role."""

from __future__ import annotations

import pytest

from cogs.guidelines import _publish
from tests.fakediscord.views import Reply
from tests.harness import Harness, bot_of
from tests.helpers import AGREE, dict_rows, post, save, use_alerts_channel


async def create_group(hearth: Harness, name: str) -> int:
    reply = await hearth.slash(
        hearth.coordinator,
        hearth.channel,
        "group create",
        name=name,
        description=f"{name} support",
    )
    assert "Created" in reply.text, reply.text
    [row] = await dict_rows(hearth, "SELECT id FROM groups WHERE name = ?", name)
    group_id = row["id"]
    assert isinstance(group_id, int)
    return group_id


async def joined(hearth: Harness, reply: Reply, name: str) -> None:
    """A join from a button is a deferred update: wait until the message says it's done."""
    await hearth.wait_for(lambda: f"You're in “{name}”" in reply.text, what=f"joining {name}")


async def members_of(hearth: Harness, group_id: int) -> list[int]:
    found = await dict_rows(
        hearth, "SELECT user_id FROM group_members WHERE group_id = ?", group_id
    )
    return [int(str(row["user_id"])) for row in found]


async def server_and_carers_rules(hearth: Harness) -> int:
    """Server guidelines, and a group "Carers" with its own: the group's id."""
    carers = await create_group(hearth, "Carers")
    await save(hearth, "Server rules")
    await save(hearth, "Carers rules", group="Carers")
    return carers


async def test_group_options_autocomplete_and_group_text_is_separate(hearth: Harness) -> None:
    carers = await create_group(hearth, "Carers")
    await create_group(hearth, "Walkers")
    choices = await hearth.autocomplete(
        hearth.coordinator, hearth.channel, "guidelines edit", "group", "car"
    )
    assert [c["name"] for c in choices] == ["Carers"]

    form = await hearth.slash(hearth.coordinator, hearth.channel, "guidelines edit", group="carers")
    assert form.modal is not None and form.modal.title == "Guidelines: Carers"
    done = await hearth.submit_modal(hearth.coordinator, form, {"hearth:gl:edit:text": "Carers"})
    assert "Saved version 1 of the guidelines for **Carers**" in done.text
    stored = await dict_rows(hearth, "SELECT group_id, version FROM guideline_versions")
    assert stored == [{"group_id": carers, "version": 1}]
    shown = await hearth.slash(hearth.member, hearth.channel, "guidelines show", group="Carers")
    assert shown.embeds[0]["title"] == "Guidelines for Carers"
    assert shown.button(AGREE).custom_id == f"hearth:gl:agree:{carers}"
    server = await hearth.slash(hearth.member, hearth.channel, "guidelines show")
    assert "no server guidelines yet" in server.content


async def test_joining_needs_the_server_text_then_the_groups_then_completes(
    hearth: Harness,
) -> None:
    carers = await server_and_carers_rules(hearth)

    step = await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers")
    assert step.ephemeral
    assert step.embeds[0]["description"] == "Server rules"
    assert "Before you join **Carers**" in step.content and "one more" in step.content
    assert step.button(AGREE).custom_id == f"hearth:gl:gate:0:1:{carers}"
    assert await members_of(hearth, carers) == []

    second = await hearth.click(hearth.member, step, label=AGREE)
    assert second.embeds[0]["description"] == "Carers rules"
    assert "one more" not in second.content
    assert await members_of(hearth, carers) == []

    await hearth.restart()  # the step's button still works after a restart
    done = await hearth.click(hearth.member, second, label=AGREE)
    await joined(hearth, done, "Carers")
    assert await members_of(hearth, carers) == [hearth.member.id]
    accepted = await dict_rows(
        hearth, "SELECT group_id, version FROM guideline_acceptances ORDER BY id"
    )
    assert accepted == [{"group_id": None, "version": 1}, {"group_id": carers, "version": 1}]


async def test_someone_who_already_accepted_joins_straight_away(hearth: Harness) -> None:
    carers = await create_group(hearth, "Carers")
    await save(hearth, "Server rules")
    shown = await hearth.slash(hearth.member, hearth.channel, "guidelines show")
    await hearth.click(hearth.member, shown, label=AGREE)
    reply = await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers")
    await joined(hearth, reply, "Carers")
    assert await members_of(hearth, carers) == [hearth.member.id]


async def test_a_new_server_version_must_be_accepted_before_the_next_join(
    hearth: Harness,
) -> None:
    carers = await create_group(hearth, "Carers")
    await save(hearth, "Server rules")
    shown = await hearth.slash(hearth.member, hearth.channel, "guidelines show")
    await hearth.click(hearth.member, shown, label=AGREE)
    await save(hearth, "Server rules, revised")
    step = await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers")
    assert step.embeds[0]["description"] == "Server rules, revised"
    assert "Version 2" in step.embeds[0]["footer"]["text"]
    done = await hearth.click(hearth.member, step, label=AGREE)
    await joined(hearth, done, "Carers")
    assert await members_of(hearth, carers) == [hearth.member.id]


async def test_a_coordinator_can_turn_the_gate_off_for_a_group(hearth: Harness) -> None:
    carers = await create_group(hearth, "Carers")
    await save(hearth, "Server rules")
    refused = await hearth.slash(
        hearth.member, hearth.channel, "guidelines gate", group="Carers", enabled=False
    )
    assert "Only coordinators" in refused.content
    assert await dict_rows(hearth, "SELECT * FROM guideline_gate_off") == []

    off = await hearth.slash(
        hearth.coordinator, hearth.channel, "guidelines gate", group="Carers", enabled=False
    )
    assert "without accepting the guidelines" in off.content
    again = await hearth.slash(
        hearth.coordinator, hearth.channel, "guidelines gate", group="Carers", enabled=False
    )
    assert "already so" in again.content
    audit = await dict_rows(
        hearth, "SELECT action, detail FROM audit_log WHERE action LIKE 'guidelines.gate%'"
    )
    assert audit == [{"action": "guidelines.gate_off", "detail": "Carers"}]

    reply = await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers")
    await joined(hearth, reply, "Carers")
    assert await members_of(hearth, carers) == [hearth.member.id]

    await hearth.slash(
        hearth.coordinator, hearth.channel, "guidelines gate", group="Carers", enabled=True
    )
    step = await hearth.slash(hearth.supporter, hearth.channel, "group join", name="Carers")
    assert step.button(AGREE)


async def test_group_status_counts_only_the_groups_members(hearth: Harness) -> None:
    carers = await create_group(hearth, "Carers")
    await save(hearth, "Carers v1", group="Carers")
    for person in (hearth.member, hearth.supporter, hearth.owner):
        step = await hearth.slash(person, hearth.channel, "group join", name="Carers")
        await hearth.click(person, step, label=AGREE)
    outsider = await hearth.slash(
        hearth.coordinator, hearth.channel, "guidelines show", group="Carers"
    )
    await hearth.click(hearth.coordinator, outsider, label=AGREE)  # not a member: not counted
    await save(hearth, "Carers v2", group="Carers")
    shown = await hearth.slash(hearth.member, hearth.channel, "guidelines show", group="Carers")
    await hearth.click(hearth.member, shown, label=AGREE)
    await hearth.slash(hearth.owner, hearth.channel, "group leave", name="Carers")
    assert sorted(await members_of(hearth, carers)) == sorted(
        [hearth.member.id, hearth.supporter.id]
    )

    reply = await hearth.slash(
        hearth.coordinator, hearth.channel, "guidelines status", group="Carers"
    )
    assert "Of the 2 members of **Carers**" in reply.text
    assert "**1** accepted the current version (2)" in reply.text
    assert "**1** accepted only an older version" in reply.text
    assert "**0** haven't accepted any version" in reply.text


@pytest.fixture
def no_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_publish, "ROLE_PACE_SECONDS", 0)


async def test_the_role_is_given_on_accepting_and_taken_on_a_new_version(
    hearth: Harness, no_pacing: None
) -> None:
    agreed_role = hearth.guild.add_role("guidelines ok")
    await hearth.fake.flush()
    await bot_of(hearth).settings.update(hearth.guild.id, None, guidelines_role_id=agreed_role.id)
    hearth.guild.set_member_roles(hearth.owner, [agreed_role])  # given by hand earlier
    await hearth.fake.flush()
    await save(hearth, "v1")
    for person in (hearth.member, hearth.supporter):
        shown = await hearth.slash(person, hearth.channel, "guidelines show")
        await hearth.click(person, shown, label=AGREE)
    await hearth.wait_for(
        lambda: all(
            "guidelines ok" in hearth.role_names(p) for p in (hearth.member, hearth.supporter)
        ),
        what="the role for both who accepted",
    )

    reply = await save(hearth, "v2")
    assert "role is being taken from members until they accept" in reply.text
    await hearth.wait_for(
        lambda: all(
            "guidelines ok" not in hearth.role_names(p)
            for p in (hearth.member, hearth.supporter, hearth.owner)
        ),
        what="the role to be taken from everyone",
    )
    shown = await hearth.slash(hearth.member, hearth.channel, "guidelines show")
    await hearth.click(hearth.member, shown, label=AGREE)
    await hearth.wait_for(lambda: "guidelines ok" in hearth.role_names(hearth.member))
    assert "guidelines ok" not in hearth.role_names(hearth.supporter)


async def test_the_role_after_accepting_in_the_join_gate(hearth: Harness, no_pacing: None) -> None:
    agreed_role = hearth.guild.add_role("guidelines ok")
    await hearth.fake.flush()
    await bot_of(hearth).settings.update(hearth.guild.id, None, guidelines_role_id=agreed_role.id)
    await create_group(hearth, "Carers")
    await save(hearth, "Server rules")
    step = await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers")
    done = await hearth.click(hearth.member, step, label=AGREE)
    await joined(hearth, done, "Carers")
    await hearth.wait_for(lambda: "guidelines ok" in hearth.role_names(hearth.member))


async def test_a_role_hearth_cannot_manage_is_reported_not_crashed_on(
    hearth: Harness, no_pacing: None
) -> None:
    await use_alerts_channel(hearth)
    above = hearth.guild.add_role("guidelines ok", position=len(hearth.guild.roles) + 5)
    await hearth.fake.flush()
    await bot_of(hearth).settings.update(hearth.guild.id, None, guidelines_role_id=above.id)
    await save(hearth, "v1")
    shown = await hearth.slash(hearth.member, hearth.channel, "guidelines show")
    agreed = await hearth.click(hearth.member, shown, label=AGREE)
    assert "accepted version 1" in agreed.content
    note = await agreed.followup(0)
    assert "couldn't give you the guidelines role" in note.content
    [alert] = hearth.messages(hearth.alerts)
    assert "Manage Roles" in alert.content
    assert len(await dict_rows(hearth, "SELECT * FROM guideline_acceptances")) == 1

    # A sweep that can't remove the role says so once, and stops.
    hearth.guild.set_member_roles(hearth.supporter, [hearth.supporter_role, above])
    await hearth.fake.flush()
    await save(hearth, "v2")
    await hearth.wait_for(lambda: len(hearth.messages(hearth.alerts)) == 2)
    assert "couldn't take" in hearth.messages(hearth.alerts)[1].content
    assert "guidelines ok" in hearth.role_names(hearth.supporter)


async def test_group_copies_are_posted_and_updated_apart_from_the_servers(
    hearth: Harness,
) -> None:
    carers = await server_and_carers_rules(hearth)
    await post(hearth, hearth.general)
    reply = await post(hearth, hearth.general, group="Carers")
    assert "guidelines for **Carers**" in reply.text and "earlier copy" not in reply.text
    server_copy, group_copy = hearth.messages(hearth.general)
    assert server_copy.pinned and group_copy.pinned
    assert group_copy.button(AGREE).custom_id == f"hearth:gl:agree:{carers}"

    await save(hearth, "Carers rules, revised", group="Carers")
    assert group_copy.embeds[0]["description"] == "Carers rules, revised"
    assert server_copy.embeds[0]["description"] == "Server rules"
    agreed = await hearth.click(hearth.member, group_copy, label=AGREE)
    assert "accepted version 2 of the guidelines for **Carers**" in agreed.content


async def test_agree_on_a_copy_of_a_deleted_groups_guidelines_is_a_kind_refusal(
    hearth: Harness,
) -> None:
    carers = await create_group(hearth, "Carers")
    await save(hearth, "Carers rules", group="Carers")
    shown = await hearth.slash(hearth.member, hearth.channel, "guidelines show", group="Carers")
    await bot_of(hearth).db.execute("DELETE FROM groups WHERE id = ?", (carers,))
    reply = await hearth.click(hearth.member, shown, label=AGREE)
    assert reply.ephemeral and "That group no longer exists" in reply.content
    assert await dict_rows(hearth, "SELECT * FROM guideline_acceptances") == []
    assert await dict_rows(hearth, "SELECT * FROM guideline_versions") == []
