"""Reminders, coverage alerts and debriefs: exactly once, restart-safe, DST-correct."""

# The `hearth` fixture is imported from test_rota (core + rota only) and used as a parameter.

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.harness import Harness, bot_of
from tests.helpers import (
    add_slots,
    claimed_shifts,
    claims_of,
    make_rota,
    run_at,
    set_up_rotas,
    supporter,
    train,
)

TUE_19 = datetime(2026, 3, 3, 19, 0, tzinfo=UTC)


def reminder_dms(hearth: Harness) -> list[str]:
    return [m.content for m in hearth.dms(hearth.supporter) if "Reminder" in m.content]


async def claimed_tuesday(hearth: Harness) -> int:
    (slot_id,) = await claimed_shifts(hearth)
    return slot_id


async def test_reminders_fire_once_each_at_the_configured_hours(hearth: Harness) -> None:
    await claimed_tuesday(hearth)
    await run_at(hearth, TUE_19 - timedelta(hours=24, minutes=1))
    assert reminder_dms(hearth) == []
    await run_at(hearth, TUE_19 - timedelta(hours=24))
    await hearth.wait_for(lambda: len(reminder_dms(hearth)) == 1)
    assert f"<t:{int(TUE_19.timestamp())}:F>" in reminder_dms(hearth)[0]
    await run_at(hearth, TUE_19 - timedelta(hours=23))  # nothing new
    await run_at(hearth, TUE_19 - timedelta(hours=1))
    await hearth.wait_for(lambda: len(reminder_dms(hearth)) == 2)
    await run_at(hearth, TUE_19 - timedelta(minutes=30))
    assert len(reminder_dms(hearth)) == 2


async def test_restart_between_scheduling_and_firing_neither_duplicates_nor_loses(
    hearth: Harness,
) -> None:
    await claimed_tuesday(hearth)
    await hearth.restart()
    await run_at(hearth, TUE_19 - timedelta(hours=24))
    await hearth.wait_for(lambda: len(reminder_dms(hearth)) == 1)
    await hearth.restart()
    await run_at(hearth, TUE_19 - timedelta(hours=20))
    assert len(reminder_dms(hearth)) == 1
    await run_at(hearth, TUE_19 - timedelta(hours=1))
    await hearth.wait_for(lambda: len(reminder_dms(hearth)) == 2)
    await hearth.restart()
    await run_at(hearth, TUE_19 - timedelta(minutes=5))
    assert len(reminder_dms(hearth)) == 2


async def test_released_shift_gets_no_reminder(hearth: Harness) -> None:
    slot_id = await claimed_tuesday(hearth)
    await hearth.slash(hearth.supporter, hearth.channel, "rota release", slot=str(slot_id))
    await run_at(hearth, TUE_19 - timedelta(hours=1))
    await run_at(hearth, TUE_19 + timedelta(hours=3))
    assert hearth.dms(hearth.supporter) == []


async def test_reminders_missed_while_down_are_skipped_once_the_shift_started(
    hearth: Harness,
) -> None:
    await claimed_tuesday(hearth)
    await hearth.stop()
    hearth.clock.set(TUE_19 - timedelta(minutes=30))  # both reminders overdue: send only one
    await hearth.start()
    await run_at(hearth, TUE_19 - timedelta(minutes=30))
    await hearth.wait_for(lambda: len(reminder_dms(hearth)) == 1)
    await hearth.stop()
    hearth.clock.set(TUE_19 + timedelta(minutes=30))
    await hearth.start()
    await run_at(hearth, TUE_19 + timedelta(minutes=30))
    assert len(reminder_dms(hearth)) == 1


async def test_reminders_while_down_past_the_start_are_not_sent(hearth: Harness) -> None:
    await claimed_tuesday(hearth)
    await hearth.stop()
    hearth.clock.set(TUE_19 + timedelta(minutes=10))
    await hearth.start()
    await run_at(hearth, TUE_19 + timedelta(minutes=10))
    assert reminder_dms(hearth) == []


async def test_coverage_alert_48h_ahead_only_for_under_covered_slots(hearth: Harness) -> None:
    await set_up_rotas(hearth)
    await make_rota(hearth, needed=2)
    gap = (await add_slots(hearth, "Evening duty", "2026-03-06 19:00"))[0]
    covered = (await add_slots(hearth, "Evening duty", "2026-03-06 21:30"))[0]
    for name in ("alex", "bea"):
        await hearth.slash(
            await supporter(hearth, name), hearth.channel, "rota claim", slot=str(covered)
        )
    await hearth.slash(await supporter(hearth, "cy"), hearth.channel, "rota claim", slot=str(gap))
    await run_at(hearth, datetime(2026, 3, 4, 21, 30, tzinfo=UTC))
    await hearth.wait_for(lambda: len(hearth.messages(hearth.alerts)) == 1)
    alert = hearth.messages(hearth.alerts)[0].content
    assert f"slot #{gap}" in alert and "needs 1 more supporter" in alert and "(1/2" in alert
    await run_at(hearth, datetime(2026, 3, 6, 12, 0, tzinfo=UTC))
    assert len(hearth.messages(hearth.alerts)) == 1


async def test_debrief_after_the_shift_score_stays_private_and_yes_reaches_coordinators(
    hearth: Harness,
) -> None:
    await claimed_tuesday(hearth)
    await run_at(hearth, TUE_19 + timedelta(hours=2))
    await hearth.wait_for(
        lambda: any("How was that shift?" in m.content for m in hearth.dms(hearth.supporter))
    )
    debrief = next(m for m in hearth.dms(hearth.supporter) if "How was that shift?" in m.content)
    assert [c.label for c in debrief.components] == [
        "1",
        "2",
        "3",
        "4",
        "5",
        "Yes, please",
        "No, thanks",
    ]
    await run_at(hearth, TUE_19 + timedelta(hours=5))  # exactly once
    assert sum("How was that shift?" in m.content for m in hearth.dms(hearth.supporter)) == 1

    await hearth.restart()  # the buttons are persistent
    scored = await hearth.click(hearth.supporter, debrief, label="2")
    assert "sounds tough" in debrief.content
    assert [c.label for c in debrief.components] == ["Yes, please", "No, thanks"]
    assert scored.kind == "update"
    assert hearth.messages(hearth.alerts) == []  # a score goes nowhere

    await hearth.click(hearth.supporter, debrief, label="Yes, please")
    await hearth.wait_for(lambda: len(hearth.messages(hearth.alerts)) == 1)
    await hearth.wait_for(lambda: len(hearth.messages(hearth.alerts)) == 1)
    alert = hearth.messages(hearth.alerts)[0].content
    assert f"<@{hearth.supporter.id}>" in alert and "reach out" in alert  # whichever router
    assert "2" not in alert.replace(str(hearth.supporter.id), "")  # never the score
    await hearth.wait_for(lambda: debrief.components == [])
    assert "coordinators" in debrief.content
    row = await bot_of(hearth).db.fetchone("SELECT * FROM rota_claims")
    assert row is not None and row["debrief_closed_at"] is not None
    assert "score" not in row.keys()  # noqa: SIM118  (sqlite3.Row has no `in` on names)


async def test_debrief_no_sends_nothing_and_answers_only_once(hearth: Harness) -> None:
    await claimed_tuesday(hearth)
    await run_at(hearth, TUE_19 + timedelta(hours=2))
    await hearth.wait_for(lambda: len(hearth.dms(hearth.supporter)) == 1)  # reminders were stale
    debrief = hearth.dms(hearth.supporter)[-1]
    first = await hearth.click(
        hearth.supporter, debrief, custom_id=debrief.button("No, thanks").custom_id
    )
    assert "look after yourself" in first.content
    assert hearth.messages(hearth.alerts) == []


async def test_debrief_not_sent_for_a_shift_removed_before_it_ended(hearth: Harness) -> None:
    slot_id = await claimed_tuesday(hearth)
    await hearth.slash(
        hearth.coordinator,
        hearth.channel,
        "rota slots remove",
        rota="Evening duty",
        slot=str(slot_id),
    )
    await run_at(hearth, TUE_19 + timedelta(hours=3))
    assert [m for m in hearth.dms(hearth.supporter) if "How was" in m.content] == []
    assert await claims_of(hearth, slot_id) == []


async def test_weekly_slots_stay_at_19_00_london_across_the_clock_change(hearth: Harness) -> None:
    await set_up_rotas(hearth, "Europe/London")
    await make_rota(hearth)
    hearth.clock.set(datetime(2026, 3, 23, 12, 0, tzinfo=UTC))  # Monday
    ids = await add_slots(hearth, "Evening duty", "2026-03-28 19:00", repeat_weeks=2)  # Sat
    extra = await add_slots(hearth, "Evening duty", "sun 19:00")  # 29 March, first BST day
    db = bot_of(hearth).db
    starts = [
        datetime.fromtimestamp(
            await db.fetchval("SELECT starts_at FROM rota_slots WHERE id = ?", (i,)), UTC
        )
        for i in (*ids, *extra)
    ]
    assert starts == [
        datetime(2026, 3, 28, 19, 0, tzinfo=UTC),  # GMT
        datetime(2026, 4, 4, 18, 0, tzinfo=UTC),  # BST: still 19:00 on the wall
        datetime(2026, 3, 29, 18, 0, tzinfo=UTC),
    ]
    # the week of 23–29 March (Mon–Sun, local) holds the Saturday and Sunday slots
    view = await hearth.slash(hearth.member, hearth.channel, "rota view", rota="Evening duty")
    assert (
        f"#{ids[0]}" in view.text and f"#{extra[0]}" in view.text and f"#{ids[1]}" not in view.text
    )
    choices = await hearth.autocomplete(hearth.member, hearth.channel, "rota claim", "slot", "")
    assert [c["name"].split(" · ")[0] for c in choices] == [
        f"#{ids[0]} Sat 28 Mar 19:00–21:00",
        f"#{extra[0]} Sun 29 Mar 19:00–21:00",
        f"#{ids[1]} Sat 4 Apr 19:00–21:00",
    ]
    # the 1-hour reminder for the BST Sunday slot comes at 18:00 local = 17:00 UTC
    await train(hearth, hearth.supporter)
    await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(extra[0]))
    await run_at(hearth, datetime(2026, 3, 29, 16, 59, tzinfo=UTC))
    assert len(reminder_dms(hearth)) == 1  # only the 24 h one so far
    await run_at(hearth, datetime(2026, 3, 29, 17, 0, tzinfo=UTC))
    await hearth.wait_for(lambda: len(reminder_dms(hearth)) == 2)
