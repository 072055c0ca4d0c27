"""`/mydata show | export | delete` through Discord: counts, the JSON file, and what delete does."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.db import to_ts
from tests.harness import Harness, bot_of
from tests.helpers import create_group, dms_saying, group_id, put_on_duty, rows
from tests.pseudo_locale import given


async def give_alice_some_history(hearth: Harness) -> int:
    """A group membership with its role, a check-in answer, a held notice and a rota shift."""
    db, g, now = bot_of(hearth).db, hearth.guild, to_ts(hearth.clock.now())
    role = g.add_role("walkers")
    g.set_member_roles(hearth.member, [role])
    await hearth.fake.flush()
    group_id = await db.insert(
        "INSERT INTO groups (guild_id, name, name_key, role_id, created_at, created_by) "
        "VALUES (?, 'Walkers', 'walkers', ?, ?, ?)",
        (g.id, role.id, now, hearth.coordinator.id),
    )
    for user in (hearth.member, hearth.supporter):
        await db.execute(
            "INSERT INTO group_members (group_id, guild_id, user_id, joined_at) "
            "VALUES (?, ?, ?, ?)",
            (group_id, g.id, user.id, now),
        )
    occurrence = await db.insert(
        "INSERT INTO checkin_occurrences (guild_id, kind, due_at) VALUES (?, 'group', ?)",
        (g.id, now),
    )
    for user in (hearth.member, hearth.supporter):
        await db.execute(
            "INSERT INTO checkin_answers (occurrence_id, user_id, guild_id, mood, note, "
            "answered_at, updated_at) VALUES (?, ?, ?, 2, 'a private note', ?, ?)",
            (occurrence, user.id, g.id, now, now),
        )
    await bot_of(hearth).notices.hold(g.id, hearth.member.id, given("held for you"))
    await put_on_duty(hearth, hearth.member, hearth.supporter)
    await hearth.wait_for(lambda: "walkers" in hearth.role_names(hearth.member))
    return role.id


async def test_show_lists_what_is_stored_by_kind_with_counts(hearth: Harness) -> None:
    empty = await hearth.slash(hearth.member, hearth.general, "mydata show")
    assert empty.ephemeral and "stores nothing that names you" in empty.text
    await give_alice_some_history(hearth)
    reply = await hearth.slash(hearth.member, hearth.general, "mydata show")
    assert "• check-in answers and notes: 1" in reply.text
    assert "• group memberships: 1" in reply.text
    assert "• rota shifts you took: 1" in reply.text
    assert "Coordinators see counts" in reply.text


async def test_export_is_an_ephemeral_json_file_with_everything_about_me_and_works_in_dms(
    hearth: Harness,
) -> None:
    await give_alice_some_history(hearth)
    reply = await hearth.slash(hearth.member, hearth.general, "mydata export")
    assert reply.ephemeral
    [attachment] = reply.files
    data = json.loads(attachment.data)
    assert data["user_id"] == str(hearth.member.id)
    answers = data["tables"]["checkin_answers"]["user_id"]["rows"]
    assert [(a["mood"], a["note"]) for a in answers] == [(2, "a private note")]
    assert data["tables"]["group_members"]["user_id"]["rows"][0]["user_id"] == hearth.member.id
    assert "rota_claims" in data["tables"] and "pending_notices" in data["tables"]
    text = attachment.data.decode()
    assert str(hearth.supporter.id) not in text.replace(f'"user_id": {hearth.member.id}', "")

    in_dm = await hearth.slash(hearth.member, None, "mydata export")
    dm_data = json.loads(in_dm.files[0].data)
    assert dm_data["server_id"] is None and "checkin_answers" in dm_data["tables"]


async def test_delete_asks_first_then_removes_my_data_takes_roles_and_says_what(
    hearth: Harness,
) -> None:
    db = bot_of(hearth).db
    await give_alice_some_history(hearth)
    ask = await hearth.slash(hearth.member, hearth.general, "mydata delete")
    assert ask.ephemeral and "can't be undone" in ask.text
    assert await db.fetchval("SELECT COUNT(*) FROM checkin_answers") == 2  # nothing yet

    await hearth.restart()  # the confirm button still works afterwards
    db = bot_of(hearth).db
    done = await hearth.click(hearth.member, ask, label="Yes, delete my data")
    assert "• check-in answers and notes: 1" in done.text
    assert "• group memberships: 1" in done.text
    assert "rota shifts you took: 1" in done.text  # kept without the name

    await hearth.wait_for(lambda: "walkers" not in hearth.role_names(hearth.member))
    me, other = hearth.member.id, hearth.supporter.id
    for table in ("checkin_answers", "group_members", "pending_notices", "rota_claims"):
        assert await db.fetchval(f"SELECT COUNT(*) FROM {table} WHERE user_id = ?", (me,)) == 0
    assert (
        await db.fetchval("SELECT COUNT(*) FROM checkin_answers WHERE user_id = ?", (other,)) == 1
    )
    assert await db.fetchval("SELECT COUNT(*) FROM rota_claims WHERE user_id = 0") == 1
    assert await db.fetchval("SELECT COUNT(*) FROM rota_claims WHERE user_id = ?", (other,)) == 1
    shown = await hearth.slash(hearth.member, hearth.general, "mydata show")
    assert "stores nothing that names you" in shown.text


async def test_retention_purges_old_check_in_answers_so_mydata_no_longer_shows_them(
    hearth: Harness,
) -> None:
    """The check-ins feature's daily purge, seen from what a member can check with /mydata."""
    db, g = bot_of(hearth).db, hearth.guild
    now = hearth.clock.now()
    occurrence = await db.insert(
        "INSERT INTO checkin_occurrences (guild_id, kind, due_at) VALUES (?, 'group', ?)",
        (g.id, to_ts(now)),
    )
    for age_days, occ in ((100, occurrence), (1, None)):
        occ_id = occ or await db.insert(
            "INSERT INTO checkin_occurrences (guild_id, kind, due_at) VALUES (?, 'group', ?)",
            (g.id, to_ts(now)),
        )
        answered = to_ts(now) - age_days * 86400
        await db.execute(
            "INSERT INTO checkin_answers (occurrence_id, user_id, guild_id, mood, note, "
            "answered_at, updated_at) VALUES (?, ?, ?, 3, 'n', ?, ?)",
            (occ_id, hearth.member.id, g.id, answered, answered),
        )
    before = await hearth.slash(hearth.member, hearth.general, "mydata show")
    assert "• check-in answers and notes: 2" in before.text
    hearth.clock.advance(timedelta(days=1, minutes=1))
    await bot_of(hearth).dispatcher.run_due()
    after = await hearth.slash(hearth.member, hearth.general, "mydata show")
    assert "• check-in answers and notes: 1" in after.text


async def test_deleting_my_data_frees_my_group_place_for_the_next_in_line(
    hearth: Harness,
) -> None:

    await create_group(hearth, capacity=1)
    await hearth.slash(hearth.member, hearth.channel, "group join", name="Carers circle")
    waiting = await hearth.slash(
        hearth.supporter, hearth.channel, "group join", name="Carers circle"
    )
    assert "number **1** in line" in waiting.content

    ask = await hearth.slash(hearth.member, hearth.general, "mydata delete")
    await hearth.click(hearth.member, ask, label="Yes, delete my data")

    await hearth.wait_for(lambda: "Carers circle" in hearth.role_names(hearth.supporter))
    await hearth.wait_for(lambda: dms_saying(hearth, hearth.supporter, "a place opened"))
    gid = await group_id(hearth, "Carers circle")
    assert await rows(hearth, "SELECT user_id FROM group_members WHERE group_id = ?", gid) == [
        (hearth.supporter.id,)
    ]
    assert "Carers circle" not in hearth.role_names(hearth.member)
