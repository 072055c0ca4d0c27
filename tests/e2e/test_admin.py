"""`/admin …` end to end: settings, set, the audit trail and its pages, export, and what happens
to a server's data after Hearth is removed from it."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import Callable
from datetime import timedelta

from bot.db import Tx
from bot.services.export import discover_tables
from tests.harness import Harness, bot_of
from tests.pseudo_locale import given
from tests.services import seeded_group

PURGE = "guild_purge"


async def greeted(hearth: Harness) -> None:
    await hearth.wait_for(lambda: hearth.dms(hearth.owner), what="the owner's greeting")


async def use_log_channel(hearth: Harness) -> None:
    await greeted(hearth)
    await bot_of(hearth).settings.update(hearth.guild.id, None, log_channel_id=hearth.log.id)


async def audit_rows(hearth: Harness) -> list[tuple[int, str, str]]:
    rows = await bot_of(hearth).db.fetchall(
        "SELECT actor_id, action, detail FROM audit_log WHERE guild_id = ? ORDER BY id",
        (hearth.guild.id,),
    )
    return [(row["actor_id"], row["action"], row["detail"]) for row in rows]


async def test_settings_lists_every_setting_with_value_and_description(hearth: Harness) -> None:
    await use_log_channel(hearth)
    reply = await hearth.slash(hearth.coordinator, hearth.general, "admin settings")
    assert reply.ephemeral
    text = reply.text
    for key in ("timezone", "max_shifts_per_week", "reminder_hours", "keyword_watch_enabled"):
        assert f"`{key}`" in text
    assert "**`max_shifts_per_week`**: 3 — Most shifts a supporter may hold a week" in text
    assert f"**`log_channel_id`**: <#{hearth.log.id}>" in text
    assert "**`reminder_hours`**: 24, 1" in text
    assert "**`keyword_watch_enabled`**: off" in text
    assert "**`coordinator_role_id`**: not set" in text


async def test_set_validates_changes_audits_and_posts_to_the_log(hearth: Harness) -> None:
    await use_log_channel(hearth)
    cora = hearth.coordinator
    choices = await hearth.autocomplete(cora, hearth.general, "admin set", "key", "shift")
    assert choices[0]["value"] == "max_shifts_per_week"
    assert "Most shifts" in choices[0]["name"]
    values = await hearth.autocomplete(
        cora, hearth.general, "admin set", "value", "", key="keyword_watch_enabled"
    )
    assert [c["value"] for c in values] == ["on", "off"]

    reply = await hearth.slash(
        cora, hearth.general, "admin set", key="max_shifts_per_week", value="4"
    )
    assert "Changed max_shifts_per_week: 3 → 4." in reply.content
    await hearth.wait_for(lambda: hearth.messages(hearth.log), what="the log post")
    posted = hearth.messages(hearth.log)[0].text
    assert posted.endswith(f"<@{cora.id}> **Setting changed** — max_shifts_per_week: 3 → 4")
    assert (await bot_of(hearth).settings.get(hearth.guild.id)).max_shifts_per_week == 4

    reply = await hearth.slash(
        cora, hearth.general, "admin set", key="alerts_channel_id", value="#alerts"
    )
    assert f"not set → <#{hearth.alerts.id}>" in reply.content
    reply = await hearth.slash(
        cora,
        hearth.general,
        "admin set",
        key="supporter_role_id",
        value=f"<@&{hearth.supporter_role.id}>",
    )
    assert "Changed supporter_role_id" in reply.content

    before = await audit_rows(hearth)
    for key, value, message in (
        ("max_shifts_per_week", "0", "greater than or equal to 1"),
        ("max_shifts_per_week", "lots", "whole number"),
        ("timezone", "Mars/Base", "not an IANA time zone"),
        ("reminder_hours", "24,999", "between 1 and 168"),
        ("log_channel_id", "#nowhere", "can't find a text channel"),
        ("coordinator_role_id", "@everyone", "can't be used"),
        ("no_such_key", "1", "no setting called"),
    ):
        refused = await hearth.slash(cora, hearth.general, "admin set", key=key, value=value)
        assert message in refused.content, (key, refused.content)
    same = await hearth.slash(
        cora, hearth.general, "admin set", key="max_shifts_per_week", value="4"
    )
    assert "already 4; nothing changed" in same.content
    assert await audit_rows(hearth) == before
    assert len(before) == 3 and all(action == "settings.changed" for _, action, _ in before)
    assert (await bot_of(hearth).settings.get(hearth.guild.id)).max_shifts_per_week == 4


async def test_audit_pages_with_buttons_filters_and_survives_a_restart(hearth: Harness) -> None:
    await greeted(hearth)
    bot = bot_of(hearth)
    clock = hearth.clock
    other = hearth.supporter
    await bot.audit_log.record(hearth.guild.id, other.id, "ancient", "long ago")
    clock.advance(timedelta(days=40))
    for number in range(23):
        actor = hearth.coordinator if number % 2 == 0 else other
        await bot.audit_log.record(
            hearth.guild.id, actor.id, given("groups.create"), given(f"entry {number}")
        )
        clock.advance(timedelta(minutes=1))
    await bot.audit_log.record(hearth.guild.id + 1, other.id, "elsewhere", "other server")

    cora = hearth.coordinator
    page = await hearth.slash(cora, hearth.general, "admin audit")
    assert "23 entries (page 1 of 3)" in page.text
    assert "entry 22" in page.text and "entry 13" in page.text and "entry 12" not in page.text
    assert "ancient" not in page.text and "elsewhere" not in page.text
    assert page.button("← Newer").disabled
    reply = await hearth.click(cora, page, label="Older →")
    assert "page 2 of 3" in reply.text and "entry 12" in reply.text

    await hearth.restart()
    reply = await hearth.click(cora, page, label="Older →")
    assert "page 3 of 3" in reply.text and "entry 0" in reply.text
    assert page.button("Older →").disabled
    reply = await hearth.click(cora, page, label="← Newer")
    assert "page 2 of 3" in reply.text

    mine = await hearth.slash(cora, hearth.general, "admin audit", member=other, days=90)
    assert f"by <@{other.id}>" in mine.text
    assert "12 entries" in mine.text  # 11 recent + the ancient one within 90 days
    empty = await hearth.slash(cora, hearth.general, "admin audit", member=hearth.member)
    assert "nothing was recorded" in empty.text and empty.components == []


async def test_export_has_operational_data_and_never_private_answers(hearth: Harness) -> None:
    await use_log_channel(hearth)
    bot = bot_of(hearth)
    gid = hearth.guild.id
    await hearth.slash(
        hearth.coordinator, hearth.general, "admin set", key="min_rest_hours", value="10"
    )
    now = int(hearth.clock.now().timestamp())
    member = hearth.member.id

    await seeded_group(bot.db, gid, "Carers circle", role_id=5, members=[member])
    await seeded_group(bot.db, gid + 1, "OTHER-SERVER group", role_id=6)

    def _fill(tx: Tx) -> None:
        schedule = tx.insert(
            "INSERT INTO checkin_schedules (guild_id, kind, user_id, days, local_time, zone, "
            "next_due_at, created_by, created_at) VALUES (?, 'personal', ?, 1, '09:00', 'UTC', "
            "?, ?, ?)",
            (gid, member, now, member, now),
        )
        occurrence = tx.insert(
            "INSERT INTO checkin_occurrences (guild_id, schedule_id, kind, user_id, due_at) "
            "VALUES (?, ?, 'personal', ?, ?)",
            (gid, schedule, member, now),
        )
        tx.execute(
            "INSERT INTO checkin_answers (occurrence_id, user_id, guild_id, mood, note, "
            "answered_at, updated_at) VALUES (?, ?, ?, 2, 'PRIVATE-NOTE about my week', ?, ?)",
            (occurrence, member, gid, now, now),
        )
        tx.execute(
            "INSERT INTO pending_notices (guild_id, user_id, text, created_at) "
            "VALUES (?, ?, 'PRIVATE-HELD message', ?)",
            (gid, member, now),
        )

    await bot.db.write(_fill)

    reply = await hearth.slash(hearth.coordinator, hearth.general, "admin export")
    assert reply.ephemeral
    assert "never included" in reply.text
    [attachment] = reply.files
    assert attachment.filename.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(attachment.data)) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    document = json.loads(files["hearth-export.json"])
    tables = document["tables"]
    assert [g["name"] for g in tables["groups"]["rows"]] == ["Carers circle"]
    assert tables["group_members"]["rows"][0]["user_id"] == str(member)
    stored = {row["key"]: row["value"] for row in tables["guild_settings"]["rows"]}
    assert stored["min_rest_hours"] == "10"
    assert any(row["action"] == "settings.changed" for row in tables["audit_log"]["rows"])
    assert tables["checkin_schedules"]["rows"] == []  # a personal schedule is private
    assert {"checkin_answers", "pending_notices", "checkin_occurrences"} <= set(
        document["withheld"]
    )
    assert "groups.csv" in files and "group_members.csv" in files
    assert "checkin_answers.csv" not in files
    everything = b"".join(files.values())
    for secret in (b"PRIVATE-NOTE", b"PRIVATE-HELD", b"OTHER-SERVER"):
        assert secret not in everything

    actions = [action for _, action, _ in await audit_rows(hearth)]
    assert actions == ["settings.changed", "export.created"]
    await hearth.wait_for(lambda: len(hearth.messages(hearth.log)) == 2)
    assert "**Data exported** — 24 tables, 6 rows" in hearth.messages(hearth.log)[-1].text


# --- retention after removal -------------------------------------------------------------------


async def run_event(hearth: Harness, event: str, trigger: Callable[[], None]) -> None:
    """Trigger a gateway change and wait until the bot's handlers for `event` have finished:
    `HearthBot.on_guild_join`/`on_guild_remove` call every feature's hook before returning, so
    their tasks finishing is the observable "the purge is planned / cancelled"."""
    bot = bot_of(hearth)
    waiter = asyncio.ensure_future(bot.wait_for(event, timeout=5))
    trigger()
    await waiter
    name = f"discord.py: on_{event}"
    await asyncio.gather(*(t for t in asyncio.all_tasks() if t.get_name() == name))


async def rows_of(hearth: Harness, guild_id: int) -> dict[str, int]:
    db = bot_of(hearth).db
    counts = {}
    for name, table in (await discover_tables(db)).items():
        # The purge timer itself comes and goes; the outbox (the delivery queue) keeps a
        # finished item, without its text, for a week only.
        if table.has_guild_id and name not in {"timers", "outbox"}:
            counts[name] = await db.fetchval(
                f'SELECT COUNT(*) FROM "{name}" WHERE guild_id = ?', (guild_id,)
            )
    return {name: count for name, count in counts.items() if count}


async def test_data_is_kept_through_the_window_and_a_reinvite_then_deleted(
    hearth: Harness,
) -> None:
    bot = bot_of(hearth)
    await use_log_channel(hearth)
    other = hearth.fake.add_guild("Other Server")
    await hearth.wait_for(lambda: hearth.fake.dm_messages(other.owner), what="other greeting")
    await bot.settings.update(other.id, None, max_shifts_per_week=5)
    await hearth.slash(
        hearth.coordinator, hearth.general, "admin set", key="min_rest_hours", value="9"
    )
    await bot.notices.hold(hearth.guild.id, hearth.member.id, "held")
    kept = await rows_of(hearth, hearth.guild.id)
    assert {"guilds", "guild_settings", "audit_log", "pending_notices"} <= set(kept)
    others = await rows_of(hearth, other.id)

    await run_event(hearth, "guild_remove", lambda: hearth.fake.remove_bot_from_guild(hearth.guild))
    [timer] = await bot.timers.pending(PURGE)
    assert timer.guild_id == hearth.guild.id
    assert timer.due_at == hearth.clock.now().replace(microsecond=0) + timedelta(days=30)

    hearth.clock.advance(timedelta(days=29))
    await bot.dispatcher.run_due()
    assert await rows_of(hearth, hearth.guild.id) == kept

    await run_event(hearth, "guild_join", lambda: hearth.fake.add_bot_to_guild(hearth.guild))
    assert await bot.timers.pending(PURGE) == []
    hearth.clock.advance(timedelta(days=5))
    await bot.dispatcher.run_due()
    assert await rows_of(hearth, hearth.guild.id) == kept
    reply = await hearth.slash(hearth.coordinator, hearth.general, "admin settings")
    assert "**`min_rest_hours`**: 9" in reply.text  # a re-invite lost nothing
    assert len(hearth.dms(hearth.owner)) == 1  # and was not greeted again

    await run_event(hearth, "guild_remove", lambda: hearth.fake.remove_bot_from_guild(hearth.guild))
    hearth.clock.advance(timedelta(days=30))
    await bot.dispatcher.run_due()
    assert await rows_of(hearth, hearth.guild.id) == {}
    assert await bot.timers.pending(PURGE) == []
    assert (await bot.settings.get(hearth.guild.id)).min_rest_hours == 8  # cache forgotten too
    assert await rows_of(hearth, other.id) == others
    assert (await bot.settings.get(other.id)).max_shifts_per_week == 5


async def test_a_removal_and_a_reinvite_while_offline_are_caught_up_at_start(
    hearth: Harness,
) -> None:
    """The same feature hooks run when the bot finds at start-up what changed while it was off."""
    await hearth.wait_for(lambda: hearth.dms(hearth.owner), what="the greeting")
    await hearth.stop()
    hearth.fake.remove_bot_from_guild(hearth.guild)
    await hearth.start()
    [timer] = await bot_of(hearth).timers.pending(PURGE)
    assert timer.guild_id == hearth.guild.id

    await hearth.stop()
    hearth.fake.add_bot_to_guild(hearth.guild)
    await hearth.start()
    assert await bot_of(hearth).timers.pending(PURGE) == []  # back within the window: kept
    assert len(hearth.dms(hearth.owner)) == 1  # and not greeted again
