"""/guidelines: editing in a form, versions and history, reading, accepting, status counts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.services.guidelines import STARTER_TEMPLATE
from tests.harness import Harness
from tests.helpers import AGREE, FIELD, dict_rows, save


async def test_edit_opens_the_starter_template_and_saving_creates_version_1(
    hearth: Harness,
) -> None:
    form = await hearth.slash(hearth.coordinator, hearth.channel, "guidelines edit")
    assert form.kind == "modal" and form.modal is not None
    field = form.modal.field(FIELD)
    assert field.value == STARTER_TEMPLATE[:4000] and field.max_length == 4000
    assert field.style == 2  # a paragraph

    done = await hearth.submit_modal(hearth.coordinator, form, {FIELD: "**Be kind.**"})
    assert done.ephemeral
    assert "Saved version 1 of the server guidelines" in done.text
    stored = await dict_rows(
        hearth, "SELECT version, body, edited_by, group_id FROM guideline_versions"
    )
    assert stored == [
        {"version": 1, "body": "**Be kind.**", "edited_by": hearth.coordinator.id, "group_id": None}
    ]
    audit = await dict_rows(hearth, "SELECT actor_id, action, detail FROM audit_log")
    assert audit == [
        {
            "actor_id": hearth.coordinator.id,
            "action": "guidelines.edited",
            "detail": "server: version 1",
        }
    ]


async def test_edit_prefills_the_current_text_and_unchanged_text_makes_no_version(
    hearth: Harness,
) -> None:
    await save(hearth, "Be kind.")
    form = await hearth.slash(hearth.coordinator, hearth.channel, "guidelines edit")
    assert form.modal is not None and form.modal.field(FIELD).value == "Be kind."
    same = await hearth.submit_modal(hearth.coordinator, form, {FIELD: "Be kind.  "})
    assert "no new version was saved" in same.text and "version 1" in same.text
    changed = await save(hearth, "Be kind.\nBe honest.")
    assert "Saved version 2" in changed.text
    versions = await dict_rows(hearth, "SELECT version FROM guideline_versions ORDER BY version")
    assert versions == [{"version": 1}, {"version": 2}]


async def test_blank_text_is_refused_kindly_and_saves_nothing(hearth: Harness) -> None:
    reply = await save(hearth, "   ")
    assert "can't be empty" in reply.text
    assert await dict_rows(hearth, "SELECT * FROM guideline_versions") == []


async def test_history_lists_versions_with_dates_and_editors(hearth: Harness) -> None:
    await save(hearth, "First")
    hearth.clock.advance(timedelta(days=2))
    await save(hearth, "Second")
    reply = await hearth.slash(hearth.coordinator, hearth.channel, "guidelines history")
    assert reply.ephemeral
    lines = reply.content.splitlines()
    assert "Version 2** — current" in lines[1] and "Version 1**" in lines[2]
    stored = await dict_rows(
        hearth, "SELECT created_at FROM guideline_versions ORDER BY version DESC"
    )
    assert f"<t:{stored[0]['created_at']}:f>" in lines[1]
    assert f"<t:{stored[1]['created_at']}:f>" in lines[2]
    assert f"<@{hearth.coordinator.id}>" in lines[1]


async def test_template_is_shown_privately_to_coordinators(hearth: Harness) -> None:
    reply = await hearth.slash(hearth.coordinator, hearth.channel, "guidelines template")
    assert reply.ephemeral
    assert reply.embeds[0]["description"] == STARTER_TEMPLATE
    assert "Befriending, not friendship" in reply.text


@pytest.mark.parametrize(
    ("path", "options"),
    [
        ("guidelines edit", {}),
        ("guidelines template", {}),
        ("guidelines history", {}),
        ("guidelines status", {}),
        ("guidelines post", {"channel": "general"}),
        ("guidelines repost start", {"channel": "general", "every_days": 3}),
        ("guidelines repost stop", {"channel": "general"}),
    ],
)
async def test_members_cannot_use_coordinator_commands(
    hearth: Harness, path: str, options: dict[str, Any]
) -> None:
    await save(hearth, "Be kind.")
    resolved = {k: getattr(hearth, v) if k == "channel" else v for k, v in options.items()}
    reply = await hearth.slash(hearth.member, hearth.channel, path, **resolved)
    assert reply.kind == "message" and reply.ephemeral
    assert "Only coordinators" in reply.content
    assert hearth.fake.channel_messages(hearth.general) == []
    assert len(await dict_rows(hearth, "SELECT * FROM guideline_versions")) == 1
    assert await dict_rows(hearth, "SELECT * FROM guideline_posts") == []
    assert await dict_rows(hearth, "SELECT * FROM guideline_reposts") == []


async def test_show_before_any_guidelines_says_so(hearth: Harness) -> None:
    reply = await hearth.slash(hearth.member, hearth.channel, "guidelines show")
    assert reply.ephemeral and "no server guidelines yet" in reply.content


async def test_accept_then_already_accepted_then_a_new_version_needs_accepting_again(
    hearth: Harness,
) -> None:
    await save(hearth, "Version one text")
    shown = await hearth.slash(hearth.member, hearth.channel, "guidelines show")
    assert shown.ephemeral and shown.embeds[0]["description"] == "Version one text"
    assert "Press **I have read and agree**" in shown.content

    first = await hearth.click(hearth.member, shown, label=AGREE)
    assert first.ephemeral
    assert "you've accepted version 1 of the server guidelines" in first.content
    again = await hearth.click(hearth.member, shown, label=AGREE)
    assert "You've already accepted version 1" in again.content

    await save(hearth, "Version two text")
    renewed = await hearth.click(hearth.member, shown, label=AGREE)
    assert "you've accepted version 2" in renewed.content
    stored = await dict_rows(
        hearth, "SELECT version, user_id FROM guideline_acceptances ORDER BY version"
    )
    assert stored == [
        {"version": 1, "user_id": hearth.member.id},
        {"version": 2, "user_id": hearth.member.id},
    ]
    reshown = await hearth.slash(hearth.member, hearth.channel, "guidelines show")
    assert "You've accepted this version" in reshown.content


async def test_status_counts_current_older_and_none_for_the_server(hearth: Harness) -> None:
    await save(hearth, "v1")
    for person in (hearth.member, hearth.supporter):
        shown = await hearth.slash(person, hearth.channel, "guidelines show")
        await hearth.click(person, shown, label=AGREE)
    await save(hearth, "v2")
    shown = await hearth.slash(hearth.supporter, hearth.channel, "guidelines show")
    await hearth.click(hearth.supporter, shown, label=AGREE)

    reply = await hearth.slash(hearth.coordinator, hearth.channel, "guidelines status")
    assert reply.ephemeral
    # owner, cora, sam, max: the bot itself is not counted.
    assert "Of the 4 people on this server (bots not counted)" in reply.content
    assert "**1** accepted the current version (2)" in reply.content
    assert "**1** accepted only an older version" in reply.content
    assert "**2** haven't accepted any version" in reply.content


async def test_status_before_any_guidelines_is_a_kind_refusal(hearth: Harness) -> None:
    reply = await hearth.slash(hearth.coordinator, hearth.channel, "guidelines status")
    assert "no guidelines here yet" in reply.content


async def test_an_unknown_group_is_refused_and_changes_nothing(hearth: Harness) -> None:
    reply = await hearth.slash(
        hearth.coordinator, hearth.channel, "guidelines show", group="Nowhere"
    )
    assert "couldn't find a group called “Nowhere”" in reply.content
