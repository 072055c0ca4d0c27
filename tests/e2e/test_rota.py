"""Rota commands end to end: create, slots, view with Claim buttons, claim/release, swaps, mine."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot.clock import FakeClock
from bot.services.rota import RotaService
from bot.services.rota.reminders import REMINDER
from tests.harness import Harness, bot_of
from tests.helpers import (
    add_slots,
    claimed_shifts,
    claims_of,
    make_rota,
    set_up_rotas,
    supporter,
    train,
)
from tests.pseudo_locale import given
from tests.services import seeded_group

# The harness clock starts Monday 2 March 2026, 12:00 UTC (= 12:00 in London, GMT).
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


async def test_smoke_create_add_claim(hearth: Harness) -> None:
    await set_up_rotas(hearth)
    await make_rota(hearth)
    ids = await add_slots(hearth, "Evening duty", "2026-03-03 19:00")
    await train(hearth, hearth.supporter)
    reply = await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(ids[0]))
    assert "You're on" in reply.content, reply.content
    assert await claims_of(hearth, ids[0]) == [hearth.supporter.id]


async def audit_actions(hearth: Harness) -> list[str]:
    rows = await bot_of(hearth).db.fetchall(
        "SELECT action FROM audit_log WHERE guild_id = ? ORDER BY id", (hearth.guild.id,)
    )
    return [row["action"] for row in rows]


async def test_create_rota_links_a_group_and_refuses_duplicates_and_unknown_groups(
    hearth: Harness,
) -> None:
    bot = await set_up_rotas(hearth)
    db = bot.db
    group_id = await seeded_group(
        db, hearth.guild.id, given("Carers Circle"), role_id=hearth.supporter_role.id
    )
    reply = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota create",
        name="Thursday hosts", group="carers circle", needed=2, training_required=False,
    )  # fmt: skip
    assert reply.ephemeral
    assert "Created the rota **Thursday hosts** (2 supporters per slot, no training needed)" in (
        reply.content
    )
    created = await bot.service(RotaService).find_rota(hearth.guild.id, "Thursday hosts")
    assert (created.group_id, created.needed, created.requires_training) == (group_id, 2, False)
    assert await hearth.autocomplete(
        hearth.coordinator, hearth.channel, "rota create", "group", "Car", name="x"
    ) == [{"name": "Carers Circle", "value": "Carers Circle"}]

    again = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota create", name="thursday  HOSTS"
    )
    assert "already a rota called" in again.content
    unknown = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota create", name="Other", group="Nope"
    )
    assert "no group called “Nope”" in unknown.content
    assert await db.fetchval("SELECT COUNT(*) FROM rotas") == 1
    assert await audit_actions(hearth) == ["rota.created"]

    # deleting the group keeps the rota, unlinked
    await db.execute("DELETE FROM groups WHERE id = ?", (group_id,))
    assert await db.fetchval("SELECT group_id FROM rotas") is None

    about = await hearth.slash(hearth.member, hearth.channel, "about")
    assert "1 rota" in about.content and "1 rotas" not in about.content


async def test_slots_add_both_start_forms_weekly_and_refuses_bad_input(hearth: Harness) -> None:
    bot = await set_up_rotas(hearth)
    await make_rota(hearth)
    ids = await add_slots(hearth, "Evening duty", "2026-03-03 19:00", "1h30m", repeat_weeks=3)
    assert len(ids) == 3
    rows = await bot.db.fetchall("SELECT starts_at, ends_at FROM rota_slots ORDER BY starts_at")
    starts = [datetime.fromtimestamp(r["starts_at"], UTC) for r in rows]
    assert starts == [datetime(2026, 3, d, 19, 0, tzinfo=UTC) for d in (3, 10, 17)]
    assert all(r["ends_at"] - r["starts_at"] == 90 * 60 for r in rows)

    # "mon 19:00" on Monday at 12:00 is tonight
    tonight = await add_slots(hearth, "Evening duty", "Mon 19:00", "90m")
    assert await bot.db.fetchval("SELECT starts_at FROM rota_slots WHERE id = ?", tonight) == int(
        datetime(2026, 3, 2, 19, 0, tzinfo=UTC).timestamp()
    )
    # the same slot again is not duplicated
    dup = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota slots add",
        rota="Evening duty", start="2026-03-03 19:00", duration="2h",
    )  # fmt: skip
    assert "already has slots at those times" in dup.content

    refusals = {
        ("tomorrow-ish", "2h"): "couldn't read “tomorrow-ish” as a start time",
        ("2026-02-30 19:00", "2h"): "isn't a real date",
        ("2026-03-01 19:00", "2h"): "has already passed",
        ("mon 25:00", "2h"): "isn't a time of day",
        ("blurs 19:00", "2h"): "isn't a day of the week",
        ("2026-03-05 19:00", "0m"): "needs to last longer",
        ("2026-03-05 19:00", "25h"): "at most 24 hours",
        ("2026-03-05 19:00", "two hours"): "couldn't read “two hours” as a length",
    }
    for (start, duration), expected in refusals.items():
        reply = await hearth.slash(
            hearth.coordinator, hearth.channel, "rota slots add",
            rota="Evening duty", start=start, duration=duration,
        )  # fmt: skip
        assert expected in reply.content, (start, duration, reply.content)
    unknown = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota slots add",
        rota="Nope", start="mon 19:00", duration="2h",
    )  # fmt: skip
    assert "no rota called “Nope”" in unknown.content
    assert await bot.db.fetchval("SELECT COUNT(*) FROM rota_slots") == 4
    assert "rota.slots_added" in await audit_actions(hearth)
    # coverage checks are scheduled 48 h ahead of slots far enough away
    refs = [t.ref for t in await bot.timers.pending("rota.coverage")]
    assert refs == [f"slot:{ids[1]}", f"slot:{ids[2]}"]


async def test_coordinator_commands_refuse_members_and_change_nothing(hearth: Harness) -> None:
    bot = await set_up_rotas(hearth)
    await make_rota(hearth)
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("rota create", {"name": "Mine"}),
        ("rota slots add", {"rota": "Evening duty", "start": "mon 19:00", "duration": "2h"}),
        ("rota slots remove", {"rota": "Evening duty", "slot": "1"}),
        ("rota limits", {"max_per_week": 9}),
        ("rota training grant", {"member": hearth.member}),
        ("rota training revoke", {"member": hearth.member}),
        ("rota training list", {}),
        ("rota coverage", {"rota": "Evening duty"}),
    ]
    for path, options in attempts:
        reply = await hearth.slash(hearth.supporter, hearth.channel, path, **options)
        assert "Only coordinators" in reply.content, path
    assert await bot.db.fetchval("SELECT COUNT(*) FROM rotas") == 1
    assert await bot.db.fetchval("SELECT COUNT(*) FROM rota_training") == 0
    assert (await bot.settings.get(hearth.guild.id)).max_shifts_per_week == 3


async def test_limits_show_update_and_refuse_bad_reminder_hours(hearth: Harness) -> None:
    bot = await set_up_rotas(hearth)
    shown = await hearth.slash(hearth.coordinator, hearth.channel, "rota limits")
    assert "at most 3 shifts a week" in shown.content and "8 hours' rest" in shown.content
    assert "24 h, 1 h" in shown.content
    updated = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota limits",
        max_per_week=2, min_rest_hours=12, reminder_hours="48, 2",
    )  # fmt: skip
    assert "Updated" in updated.content and "48 h, 2 h" in updated.content
    settings = await bot.settings.get(hearth.guild.id)
    assert (settings.max_shifts_per_week, settings.min_rest_hours, settings.reminder_hours) == (
        2, 12, [48, 2],
    )  # fmt: skip
    assert "already claimed are reminded at the new hours" in updated.content
    bad = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota limits", reminder_hours="soon"
    )
    assert "Give whole hours separated by commas" in bad.content
    assert (await bot.settings.get(hearth.guild.id)).reminder_hours == [48, 2]
    assert await audit_actions(hearth) == ["rota.limits_set"]


async def test_changing_reminder_hours_moves_reminders_of_shifts_already_claimed(
    hearth: Harness,
) -> None:
    await claimed_shifts(hearth, "2026-03-06 19:00")
    bot = bot_of(hearth)

    async def reminder_refs() -> list[str]:
        return sorted(t.ref.rsplit(":", 1)[1] for t in await bot.timers.pending(REMINDER))

    assert await reminder_refs() == ["1", "24"]
    await hearth.slash(hearth.coordinator, hearth.channel, "admin set",
                       key="reminder_hours", value="72,3")  # fmt: skip
    assert await reminder_refs() == ["3", "72"]

    assert isinstance(bot.clock, FakeClock)
    bot.clock.set(datetime(2026, 3, 3, 19, 0, 5, tzinfo=UTC))  # 72 h before the shift
    await bot.dispatcher.run_due()
    await hearth.wait_for(
        lambda: any("Reminder: you're on" in m.content for m in hearth.dms(hearth.supporter))
    )
    assert await reminder_refs() == ["3"]


async def test_training_grant_list_revoke(hearth: Harness) -> None:
    bot = await set_up_rotas(hearth)
    await train(hearth, hearth.supporter, expires="2026-12-31")
    granted = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota training grant", member=hearth.member
    )
    assert "no expiry" in granted.content and "don't have the supporter role" in granted.content
    bad = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota training grant",
        member=hearth.member, expires="31/12/2026",
    )  # fmt: skip
    assert "as a date" in bad.content
    past = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota training grant",
        member=hearth.member, expires="2026-01-01",
    )  # fmt: skip
    assert "already passed" in past.content
    listing = await hearth.slash(hearth.coordinator, hearth.channel, "rota training list")
    assert f"<@{hearth.supporter.id}> — until <t:" in listing.content
    assert f"<@{hearth.member.id}> — no expiry" in listing.content
    expires = await bot.db.fetchval(
        "SELECT expires_at FROM rota_training WHERE user_id = ?", (hearth.supporter.id,)
    )
    assert expires == int(datetime(2027, 1, 1, 0, 0, tzinfo=UTC).timestamp())  # end of 31 Dec

    revoked = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota training revoke", member=hearth.member
    )
    assert "Removed" in revoked.content
    again = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota training revoke", member=hearth.member
    )
    assert "nothing to revoke" in again.content
    assert await bot.db.fetchval("SELECT COUNT(*) FROM rota_training") == 1
    assert (await audit_actions(hearth)).count("rota.training_granted") == 2


async def test_view_shows_the_week_with_gaps_and_claim_buttons_that_survive_restart(
    hearth: Harness,
) -> None:
    bot = await set_up_rotas(hearth)
    await make_rota(hearth, needed=2)
    ids = await add_slots(hearth, "Evening duty", "2026-03-03 19:00", repeat_weeks=2)
    await train(hearth, hearth.supporter)
    alex = await supporter(hearth, "alex")
    await hearth.slash(alex, hearth.channel, "rota claim", slot=str(ids[0]))

    view = await hearth.slash(hearth.member, hearth.channel, "rota view", rota="Evening duty")
    assert view.ephemeral
    start = int(datetime(2026, 3, 3, 19, 0, tzinfo=UTC).timestamp())
    assert f"<t:{start}:F>" in view.text
    assert f"<@{alex.id}>" in view.text and "1/2" in view.text and "1 open" in view.text
    assert f"#{ids[1]}" not in view.text  # next week's slot is not in this week
    assert [c.custom_id for c in view.components] == [f"hearth:rota:claim:{ids[0]}"]

    next_week = await hearth.slash(
        hearth.member, hearth.channel, "rota view", rota="Evening duty", week=1
    )
    assert f"#{ids[1]}" in next_week.text and "0/2" in next_week.text
    empty = await hearth.slash(
        hearth.member, hearth.channel, "rota view", rota="Evening duty", week=5
    )
    assert "No slots this week" in empty.content

    refused = await hearth.click(hearth.member, view, label=f"Claim #{ids[0]}")
    assert "Only peer supporters" in refused.content

    sams_view = await hearth.slash(
        hearth.supporter, hearth.channel, "rota view", rota="Evening duty"
    )
    bea = await supporter(hearth, "bea")
    beas_view = await hearth.slash(bea, hearth.channel, "rota view", rota="Evening duty")
    await hearth.restart()
    clicked = await hearth.click(hearth.supporter, sams_view, label=f"Claim #{ids[0]}")
    assert clicked.ephemeral and "You're on **Evening duty**" in clicked.content
    assert await claims_of(hearth, ids[0]) == [alex.id, hearth.supporter.id]
    full = await hearth.click(bea, beas_view, label=f"Claim #{ids[0]}")
    assert "already has all the supporters it needs (2/2)" in full.content
    assert len(await claims_of(hearth, ids[0])) == 2
    assert bot_of(hearth) is not bot  # the buttons really ran on a new bot


async def test_claim_autocomplete_lists_upcoming_slots_with_labels(hearth: Harness) -> None:
    await set_up_rotas(hearth)
    await make_rota(hearth, needed=2)
    ids = await add_slots(hearth, "Evening duty", "2026-03-03 19:00")
    await train(hearth, hearth.supporter)
    await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(ids[0]))
    choices = await hearth.autocomplete(hearth.supporter, hearth.channel, "rota claim", "slot", "")
    assert choices == [
        {"name": f"#{ids[0]} Tue 3 Mar 19:00–21:00 · Evening duty (1/2)", "value": str(ids[0])}
    ]
    assert (
        await hearth.autocomplete(hearth.supporter, hearth.channel, "rota claim", "slot", "Thu")
        == []
    )
    mine = await hearth.autocomplete(hearth.member, hearth.channel, "rota release", "slot", "")
    assert mine == []
    rotas = await hearth.autocomplete(hearth.member, hearth.channel, "rota view", "rota", "eve")
    assert rotas == [{"name": "Evening duty", "value": "Evening duty"}]
    removable = await hearth.autocomplete(
        hearth.coordinator, hearth.channel, "rota slots remove", "slot", "", rota="Evening duty"
    )
    assert [c["value"] for c in removable] == [str(ids[0])]


async def test_release_far_ahead_is_silent_and_short_notice_alerts_coordinators(
    hearth: Harness,
) -> None:
    bot = await set_up_rotas(hearth)
    await make_rota(hearth)
    far, near = (
        (await add_slots(hearth, "Evening duty", "2026-03-05 19:00"))[0],
        (await add_slots(hearth, "Evening duty", "2026-03-02 20:00"))[0],
    )
    await train(hearth, hearth.supporter)
    for slot_id in (far, near):
        await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id))
    assert len(await bot.timers.pending("rota.reminder")) == 3  # 24 h + 1 h, and 1 h tonight

    released = await hearth.slash(hearth.supporter, hearth.channel, "rota release", slot=str(far))
    assert "You've released" in released.content and "coordinators" not in released.content
    assert hearth.messages(hearth.alerts) == []
    assert await bot.timers.pending("rota.reminder") != []
    # Only the claim still held keeps timers: the released one's reminders and debrief are gone.
    kept = await bot.db.fetchval("SELECT id FROM rota_claims WHERE slot_id = ?", (near,))
    refs = {t.ref for t in await bot.timers.pending() if t.ref.startswith("claim:")}
    assert refs == {f"claim:{kept}:1", f"claim:{kept}"}, refs

    short = await hearth.slash(hearth.supporter, hearth.channel, "rota release", slot=str(near))
    assert "let the coordinators know" in short.content
    await hearth.wait_for(lambda: len(hearth.messages(hearth.alerts)) == 1)
    alert = hearth.messages(hearth.alerts)[0].content
    assert f"<@{hearth.supporter.id}> can no longer cover **Evening duty**" in alert
    assert "0/1" in alert
    assert await claims_of(hearth, far) == [] and await claims_of(hearth, near) == []
    assert await bot.timers.pending("rota.reminder") == []
    assert await bot.timers.pending("rota.debrief") == []

    nothing = await hearth.slash(hearth.supporter, hearth.channel, "rota release", slot=str(far))
    assert "haven't claimed that shift" in nothing.content


async def test_swap_offer_keeps_cover_until_taken_and_tells_the_offerer(hearth: Harness) -> None:
    (slot_id,) = await claimed_shifts(hearth, "2026-03-04 19:00")
    bot = bot_of(hearth)
    claim_id = await bot.db.fetchval("SELECT id FROM rota_claims")

    offered = await hearth.slash(
        hearth.supporter, hearth.channel, "rota swap offer", slot=str(slot_id)
    )
    assert "stays yours" in offered.content
    again = await hearth.slash(
        hearth.supporter, hearth.channel, "rota swap offer", slot=str(slot_id)
    )
    assert "already offered" in again.content
    assert await claims_of(hearth, slot_id) == [hearth.supporter.id]  # still covered
    view = await hearth.slash(hearth.member, hearth.channel, "rota view", rota="Evening duty")
    assert "offering a swap" in view.text

    untrained = await supporter(hearth, "una", trained=False)
    choices = await hearth.autocomplete(untrained, hearth.channel, "rota swap take", "slot", "")
    assert [c["value"] for c in choices] == [str(slot_id)]
    refused = await hearth.slash(untrained, hearth.channel, "rota swap take", slot=str(slot_id))
    assert "needs supporter training" in refused.content
    assert await claims_of(hearth, slot_id) == [hearth.supporter.id]

    alex = await supporter(hearth, "alex")
    taken = await hearth.slash(alex, hearth.channel, "rota swap take", slot=str(slot_id))
    assert "is yours now" in taken.content
    assert await claims_of(hearth, slot_id) == [alex.id]
    assert await bot.db.fetchval("SELECT id FROM rota_claims") == claim_id  # same claim, moved
    await hearth.wait_for(lambda: len(hearth.dms(hearth.supporter)) == 1)
    assert (
        f"<@{alex.id}> took your **Evening duty** shift" in hearth.dms(hearth.supporter)[0].content
    )
    late = await hearth.slash(
        await supporter(hearth, "bea"), hearth.channel, "rota swap take", slot=str(slot_id)
    )
    assert "Nobody is offering that shift" in late.content
    # reminders now go to alex (the claim's timers are still there, read at firing time)
    assert {t.ref for t in await bot.timers.pending("rota.reminder")} == {
        f"claim:{claim_id}:24",
        f"claim:{claim_id}:1",
    }


async def test_swap_offer_can_be_withdrawn_by_taking_it_back(hearth: Harness) -> None:
    (slot_id,) = await claimed_shifts(hearth, "2026-03-04 19:00")
    bot = bot_of(hearth)
    await hearth.slash(hearth.supporter, hearth.channel, "rota swap offer", slot=str(slot_id))
    back = await hearth.slash(hearth.supporter, hearth.channel, "rota swap take", slot=str(slot_id))
    assert "withdrawn your swap offer" in back.content
    assert await bot.db.fetchval("SELECT swap_offered_at FROM rota_claims") is None


async def test_remove_slot_tells_its_supporters_and_cancels_their_timers(hearth: Harness) -> None:
    (slot_id,) = await claimed_shifts(hearth, "2026-03-06 19:00")
    bot = bot_of(hearth)
    assert await bot.timers.pending(guild_id=hearth.guild.id)

    wrong = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota slots remove", rota="Evening duty", slot="999"
    )
    assert "no slot #999" in wrong.content
    removed = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota slots remove",
        rota="Evening duty", slot=str(slot_id),
    )  # fmt: skip
    assert f"Removed slot #{slot_id}" in removed.content and "were told" in removed.content
    await hearth.wait_for(lambda: len(hearth.dms(hearth.supporter)) == 1)
    assert "removed the **Evening duty** shift" in hearth.dms(hearth.supporter)[0].content
    assert await bot.db.fetchval("SELECT COUNT(*) FROM rota_slots") == 0
    assert await bot.db.fetchval("SELECT COUNT(*) FROM rota_claims") == 0
    assert await bot.timers.pending(guild_id=hearth.guild.id) == []
    assert "rota.slots_removed" in await audit_actions(hearth)


async def test_coverage_lists_under_covered_slots_soonest_first(hearth: Harness) -> None:
    await set_up_rotas(hearth)
    await make_rota(hearth, needed=2)
    later = (await add_slots(hearth, "Evening duty", "2026-03-10 19:00"))[0]
    soon = (await add_slots(hearth, "Evening duty", "2026-03-03 19:00"))[0]
    beyond = (await add_slots(hearth, "Evening duty", "2026-04-20 19:00"))[0]
    full = (await add_slots(hearth, "Evening duty", "2026-03-05 19:00"))[0]
    for person in (await supporter(hearth, "alex"), await supporter(hearth, "bea")):
        await hearth.slash(person, hearth.channel, "rota claim", slot=str(full))
    await hearth.slash(hearth.member, hearth.channel, "rota claim", slot=str(soon))  # refused

    reply = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota coverage", rota="Evening duty"
    )
    lines = [line for line in reply.content.splitlines() if line.startswith("#")]
    assert [line.split()[0] for line in lines] == [f"#{soon}", f"#{later}"]
    assert "0/2, 2 places open" in lines[0]
    assert f"#{beyond}" not in reply.content and f"#{full}" not in reply.content
    wide = await hearth.slash(
        hearth.coordinator, hearth.channel, "rota coverage", rota="Evening duty", weeks=12
    )
    assert f"#{beyond}" in wide.content


async def test_onduty_for_everyone_now_and_next(hearth: Harness) -> None:
    await set_up_rotas(hearth)
    none = await hearth.slash(hearth.member, hearth.channel, "rota onduty")
    assert "no shifts are scheduled" in none.content
    await make_rota(hearth)
    slot_id = (await add_slots(hearth, "Evening duty", "2026-03-02 19:00"))[0]
    unclaimed = await hearth.slash(hearth.member, hearth.channel, "rota onduty")
    assert "no shifts are scheduled" in unclaimed.content  # an empty slot is nobody's shift
    await train(hearth, hearth.supporter)
    await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id))
    start = int(datetime(2026, 3, 2, 19, 0, tzinfo=UTC).timestamp())
    later = await hearth.slash(hearth.member, hearth.channel, "rota onduty")
    assert f"next shift starts <t:{start}:F>" in later.content

    hearth.clock.set(datetime(2026, 3, 2, 19, 30, tzinfo=UTC))
    now = await hearth.slash(hearth.member, hearth.channel, "rota onduty")
    assert f"<@{hearth.supporter.id}> — Evening duty, until <t:{start + 7200}:t>" in now.content
    assert now.message.mention_ids == []  # shown, never pinged


def parse_ics(data: bytes) -> list[dict[str, str]]:
    """A strict little RFC 5545 reader: CRLF lines, ≤75 octets, unfolding, balanced blocks."""
    text = data.decode("utf-8")
    assert text.endswith("\r\n")
    raw_lines = text[:-2].split("\r\n")
    assert all("\n" not in line and "\r" not in line for line in raw_lines)
    assert all(len(line.encode()) <= 75 for line in raw_lines)
    lines: list[str] = []
    for line in raw_lines:
        if line.startswith(" "):
            lines[-1] += line[1:]
        else:
            lines.append(line)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines[1:-1]:
        name, _, value = line.partition(":")
        if line == "BEGIN:VEVENT":
            assert current is None
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            events.append(current)
            current = None
        elif current is not None:
            current[name] = value
    assert current is None
    for event in events:
        assert {"UID", "DTSTAMP", "DTSTART", "DTEND"} <= event.keys()
        for key in ("DTSTAMP", "DTSTART", "DTEND"):
            assert re.fullmatch(r"\d{8}T\d{6}Z", event[key]), event[key]
    return events


async def test_mine_lists_upcoming_shifts_and_attaches_a_valid_calendar(hearth: Harness) -> None:
    await set_up_rotas(hearth)
    empty = await hearth.slash(hearth.supporter, hearth.channel, "rota mine")
    assert "no upcoming shifts" in empty.content
    long_name = "Evening duty, listening; and a very long rota name to force line folding ✨"
    await make_rota(hearth, name=long_name)
    ids = await add_slots(hearth, long_name, "2026-03-03 19:00", "2h", repeat_weeks=2)
    await train(hearth, hearth.supporter)
    for slot_id in ids:
        await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id))
    await hearth.slash(hearth.supporter, hearth.channel, "rota swap offer", slot=str(ids[1]))

    listing = await hearth.slash(hearth.supporter, hearth.channel, "rota mine")
    assert listing.files == [] and "**Your shifts** (2)" in listing.content
    assert "offered for swap" in listing.content

    reply = await hearth.slash(hearth.supporter, hearth.channel, "rota mine", ics=True)
    assert reply.ephemeral
    events = parse_ics(reply.file("hearth-shifts.ics").data)
    assert [(e["DTSTART"], e["DTEND"]) for e in events] == [
        ("20260303T190000Z", "20260303T210000Z"),
        ("20260310T190000Z", "20260310T210000Z"),
    ]
    assert len({e["UID"] for e in events}) == 2
    assert events[0]["DTSTAMP"] == "20260302T120000Z"
    assert events[0]["SUMMARY"].startswith("Evening duty\\, listening\\; and a very long")
    assert "✨" in events[0]["SUMMARY"]


async def test_a_supporter_who_leaves_the_server_frees_their_future_shifts(
    hearth: Harness,
) -> None:
    ids = await claimed_shifts(hearth, repeat_weeks=2)
    bot = bot_of(hearth)
    assert await bot.timers.pending("rota.reminder")

    hearth.guild.remove_member(hearth.supporter)

    await hearth.wait_for(
        lambda: any("left the server" in m.content for m in hearth.messages(hearth.alerts)),
        what="an alert that their shifts are open again",
    )
    alert = next(m for m in hearth.messages(hearth.alerts) if "left the server" in m.content)
    assert all(f"slot #{slot_id}" in alert.content for slot_id in ids)
    for slot_id in ids:
        assert await claims_of(hearth, slot_id) == []
    assert await bot.timers.pending("rota.reminder") == []
