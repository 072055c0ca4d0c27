"""Supporters' wellbeing end to end: stepping back, follow-ups that aren't dropped, training
renewals and a fair share of the load (issue 20)."""

# The `hearth` fixture comes from conftest; helpers from test_rota (core + rota setup).

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.db import to_ts
from tests.harness import Harness, bot_of
from tests.helpers import (
    add_slots,
    claimed_shifts,
    claims_of,
    dict_rows,
    make_rota,
    run_at,
    set_up_rotas,
    supporter,
    train,
)

TUE_19 = datetime(2026, 3, 3, 19, 0, tzinfo=UTC)


async def three_tuesdays(hearth: Harness) -> list[int]:
    """The supporter holds Evening duty on 3, 10 and 17 March (19:00 London = UTC in March)."""
    return await claimed_shifts(hearth, repeat_weeks=3)


def alerts_with(hearth: Harness, text: str) -> list[str]:
    return [m.content for m in hearth.messages(hearth.alerts) if text in m.content]


async def away_rows(hearth: Harness) -> list[dict[str, object]]:
    """Every column: a test holds that a break stores no reason (a new column must say why)."""
    return await dict_rows(hearth, "SELECT * FROM rota_away")


# --- 1. stepping back ----------------------------------------------------------------------------
async def test_a_break_hands_back_its_shifts_once_refuses_claims_and_ends_with_a_kind_dm(
    hearth: Harness,
) -> None:
    first, second, third = await three_tuesdays(hearth)
    bot = bot_of(hearth)
    reply = await hearth.slash(
        hearth.supporter, hearth.channel, "rota away", start="2026-03-09", end="2026-03-15"
    )
    assert reply.ephemeral
    assert "Mon 9 Mar 2026, back on Mon 16 Mar 2026" in reply.content
    assert "handed back 1 shift" in reply.content and "`/rota back`" in reply.content
    assert await claims_of(hearth, second) == []
    assert await claims_of(hearth, first) == [hearth.supporter.id]  # outside the break: kept
    assert await claims_of(hearth, third) == [hearth.supporter.id]
    # its reminders went with it; the others' stay
    refs = {timer.ref for timer in await bot.timers.pending("rota.reminder")}
    assert not any(ref.startswith(f"claim:{second}:") for ref in refs) and refs
    await hearth.wait_for(lambda: len(alerts_with(hearth, "open again")) == 1)
    [alert] = alerts_with(hearth, "open again")
    assert f"<@{hearth.supporter.id}> is stepping back" in alert and f"slot #{second}" in alert
    assert f"slot #{first}" not in alert
    [row] = await away_rows(hearth)
    assert set(row) == {"guild_id", "user_id", "starts_at", "ends_at", "created_at"}  # no reason

    refused = await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(second))
    assert "taking a break" in refused.content and "`/rota back`" in refused.content
    assert await claims_of(hearth, second) == []

    shown = await hearth.slash(hearth.coordinator, hearth.channel, "rota breaks")
    assert shown.ephemeral
    assert f"<@{hearth.supporter.id}> — from Mon 9 Mar 2026, back on Mon 16 Mar 2026" in shown.text

    # the break ends on its own at the local midnight after the last day, with one kind DM
    await run_at(hearth, datetime(2026, 3, 15, 23, 59, tzinfo=UTC))
    assert not [m for m in hearth.dms(hearth.supporter) if "welcome back" in m.content]
    await run_at(hearth, datetime(2026, 3, 16, 0, 0, tzinfo=UTC))
    await hearth.wait_for(
        lambda: [m for m in hearth.dms(hearth.supporter) if "welcome back" in m.content]
    )
    assert await away_rows(hearth) == []
    await hearth.restart()
    await run_at(hearth, datetime(2026, 3, 16, 1, 0, tzinfo=UTC))
    assert len([m for m in hearth.dms(hearth.supporter) if "welcome back" in m.content]) == 1
    assert len(alerts_with(hearth, "open again")) == 1  # coordinators were alerted once


async def test_on_a_break_no_reminders_no_support_requests_no_swaps_until_rota_back(
    hearth: Harness,
) -> None:
    ids = await three_tuesdays(hearth)
    bot = bot_of(hearth)
    await run_at(hearth, TUE_19 + timedelta(minutes=30))  # on duty now
    offerer = await supporter(hearth, "alex")
    [thursday] = await add_slots(hearth, "Evening duty", "2026-03-12 19:00")
    await hearth.slash(offerer, hearth.channel, "rota claim", slot=str(thursday))
    offered = await hearth.slash(offerer, hearth.channel, "rota swap offer", slot=str(thursday))
    assert "offered for a swap" in offered.content

    reply = await hearth.slash(hearth.supporter, hearth.channel, "rota away")  # from today, open
    assert "until you say" in reply.content and "handed back 2 shifts" in reply.content
    assert await claims_of(hearth, ids[0]) == [hearth.supporter.id]  # in progress: kept
    assert await claims_of(hearth, ids[1]) == await claims_of(hearth, ids[2]) == []  # later ones
    onduty = await hearth.slash(hearth.member, hearth.channel, "rota onduty")
    assert f"<@{hearth.supporter.id}>" not in onduty.text  # so /support is not routed to them
    assert await bot.timers.pending("rota.away_end") == []  # "until I say" has no end timer
    offers = await hearth.autocomplete(
        hearth.supporter, hearth.channel, "rota swap take", "slot", ""
    )
    assert offers == []  # not offered swaps
    assert await hearth.autocomplete(hearth.member, hearth.channel, "rota swap take", "slot", "")
    swap = await hearth.slash(
        hearth.supporter, hearth.channel, "rota swap take", slot=str(thursday)
    )
    assert "taking a break" in swap.content
    assert await claims_of(hearth, thursday) == [offerer.id]
    await run_at(hearth, datetime(2026, 3, 17, 18, 0, tzinfo=UTC))  # a reminder time
    assert [m for m in hearth.dms(hearth.supporter) if "Reminder" in m.content] == []

    back = await hearth.slash(hearth.supporter, hearth.channel, "rota back")
    assert "Welcome back" in back.content and back.ephemeral
    assert await away_rows(hearth) == []
    again = await hearth.slash(hearth.supporter, hearth.channel, "rota claim", slot=str(ids[2]))
    assert "You're on" in again.content
    twice = await hearth.slash(hearth.supporter, hearth.channel, "rota back")
    assert "not on a break" in twice.content


async def test_a_long_break_lists_every_handed_back_shift_in_messages_that_fit(
    hearth: Harness,
) -> None:
    await set_up_rotas(hearth)
    await make_rota(hearth, "A rota with a rather long name, to make the lists longer")
    ids = await add_slots(
        hearth, "A rota with a rather long name, to make the lists longer", "2026-03-03 19:00",
        repeat_weeks=40,
    )  # fmt: skip
    await train(hearth, hearth.supporter)
    for slot_id in ids:
        claimed = await hearth.slash(
            hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id)
        )
        assert "You're on" in claimed.content, claimed.content
    reply = await hearth.slash(hearth.supporter, hearth.channel, "rota away")
    await hearth.wait_for(lambda: len(reply.followups) >= 1)
    told = [reply.content, *(m.content for m in reply.followups)]
    assert all(len(part) <= 2000 for part in told), [len(p) for p in told]
    assert "handed back 40 shifts" in told[0], told

    def listed() -> list[str]:
        return [m.content for m in hearth.messages(hearth.alerts) if "slot #" in m.content]

    await hearth.wait_for(lambda: all(f"slot #{i})" in "".join(listed()) for i in ids))
    alerts = listed()
    assert len(alerts) > 1 and all(len(alert) <= 2000 for alert in alerts)
    assert all(sum(f"slot #{i})" in alert for alert in alerts) == 1 for i in ids)  # each once


async def test_bad_break_dates_are_refused_kindly_and_change_nothing(hearth: Harness) -> None:
    ids = await three_tuesdays(hearth)
    cases = {
        ("2026-03-10", "2026-03-09"): "before the start",
        ("2026-03-01", None): "already passed",  # yesterday in London
        ("2026-03-09", "2027-03-20"): "more than a year",
        ("2027-04-01", None): "more than a year away",
        ("9 March", None): "couldn't read",
        ("2026-02-30", None): "couldn't read",
        ("2026-03-09", "soon"): "couldn't read",
    }
    for (start, end), expected in cases.items():
        options = {"start": start} | ({"end": end} if end else {})
        reply = await hearth.slash(hearth.supporter, hearth.channel, "rota away", **options)
        assert reply.ephemeral and expected in reply.content, (start, end, reply.content)
    assert await away_rows(hearth) == []
    assert all([await claims_of(hearth, i) for i in ids])
    assert alerts_with(hearth, "open again") == []
    assert await bot_of(hearth).timers.pending("rota.away_end") == []
    breaks = await hearth.slash(hearth.coordinator, hearth.channel, "rota breaks")
    assert "Nobody is stepping back" in breaks.content
    member = await hearth.slash(hearth.member, hearth.channel, "rota breaks")
    assert "Only coordinators" in member.content


async def test_a_supporter_leaving_still_frees_their_shifts_through_the_same_hand_back(
    hearth: Harness,
) -> None:
    ids = await three_tuesdays(hearth)
    hearth.guild.remove_member(hearth.supporter)
    await hearth.wait_for(lambda: alerts_with(hearth, "left the server"))
    [alert] = alerts_with(hearth, "left the server")
    assert all(f"slot #{slot_id}" in alert for slot_id in ids)
    rows = await bot_of(hearth).db.fetchall("SELECT status FROM outbox WHERE kind = 'rota.freed'")
    assert len(rows) == 1  # one alert, through the outbox (marked sent just after it posts)


# --- 4. debrief follow-ups ------------------------------------------------------------------------
async def debrief_yes(hearth: Harness) -> str:
    """The supporter finishes their shift and asks for a check-in; returns what they are told."""
    await three_tuesdays(hearth)
    await run_at(hearth, TUE_19 + timedelta(hours=2))
    await hearth.wait_for(
        lambda: any("How was that shift?" in m.content for m in hearth.dms(hearth.supporter))
    )
    debrief = next(m for m in hearth.dms(hearth.supporter) if "How was that shift?" in m.content)
    await hearth.click(hearth.supporter, debrief, label="Yes, please")
    await hearth.wait_for(lambda: debrief.components == [])
    return debrief.content


async def test_the_first_coordinator_to_press_takes_the_follow_up_and_the_others_see_who(
    hearth: Harness,
) -> None:
    told = await debrief_yes(hearth)
    assert "in touch" in told
    await hearth.wait_for(lambda: alerts_with(hearth, "check in"))
    alert = next(m for m in hearth.messages(hearth.alerts) if "check in" in m.content)
    assert f"<@{hearth.supporter.id}>" in alert.content
    button = alert.button("I'll reach out")

    refused = await hearth.click(hearth.member, alert, custom_id=button.custom_id)
    assert "Only coordinators" in refused.text and refused.ephemeral
    row = await bot_of(hearth).db.fetchone("SELECT * FROM rota_followups")
    assert row is not None and row["taken_by"] is None

    other = hearth.guild.add_member("cai", roles=[hearth.coordinator_role])
    await hearth.fake.flush()
    first, second = await asyncio.gather(
        hearth.click(hearth.coordinator, alert, custom_id=button.custom_id),
        hearth.click(other, alert, custom_id=button.custom_id),
    )
    row = await bot_of(hearth).db.fetchone("SELECT * FROM rota_followups")
    assert row is not None and row["taken_by"] in (hearth.coordinator.id, other.id)
    winner = hearth.coordinator if row["taken_by"] == hearth.coordinator.id else other
    loser_reply = second if winner is hearth.coordinator else first
    assert "already reaching out" in loser_reply.text and f"<@{winner.id}>" in loser_reply.text
    await hearth.wait_for(lambda: "is reaching out" in alert.content)
    assert f"<@{winner.id}> is reaching out to <@{hearth.supporter.id}>" in alert.content
    assert alert.components == []
    await hearth.wait_for(
        lambda: any("will be in touch" in m.content for m in hearth.dms(hearth.supporter))
    )
    # taken: no second alert a day later
    await run_at(hearth, TUE_19 + timedelta(hours=2, days=2))
    assert len(hearth.messages(hearth.alerts)) == 1
    assert await bot_of(hearth).timers.pending("rota.followup_due") == []


async def test_a_follow_up_nobody_takes_is_alerted_once_more_a_day_later(hearth: Harness) -> None:
    await debrief_yes(hearth)
    await hearth.wait_for(lambda: len(alerts_with(hearth, "check in")) == 1)
    asked = TUE_19 + timedelta(hours=2)
    await run_at(hearth, asked + timedelta(hours=23, minutes=59))
    assert len(alerts_with(hearth, "check in")) == 1
    await hearth.restart()
    await run_at(hearth, asked + timedelta(hours=24))
    await hearth.wait_for(lambda: len(alerts_with(hearth, "check in")) == 2)
    again = next(m for m in hearth.messages(hearth.alerts) if "A day ago" in m.content)
    await hearth.restart()
    await run_at(hearth, asked + timedelta(days=3))
    assert len(alerts_with(hearth, "check in")) == 2  # once more, not every day
    taken = await hearth.click(hearth.coordinator, again, label="I'll reach out")
    await hearth.wait_for(lambda: taken.followups)
    assert "it's yours" in taken.followups[0].content
    row = await bot_of(hearth).db.fetchone("SELECT taken_by, taken_at FROM rota_followups")
    assert row is not None and row["taken_by"] == hearth.coordinator.id
    assert row["taken_at"] == to_ts(hearth.clock.now())


# --- 2. training renewals -------------------------------------------------------------------------
# Training "until 2026-04-20" in London runs out at the local midnight after it (BST by then).
EXPIRES = datetime(2026, 4, 20, 23, 0, tzinfo=UTC)
MONDAY_9 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # the first digest: Monday 09:00 London


def renewal_dms(hearth: Harness, person: object) -> list[str]:
    return [m.content for m in hearth.dms(person) if "training" in m.content]  # type: ignore[arg-type]


def digests(hearth: Harness) -> list[str]:
    return [m.content for m in hearth.messages(hearth.alerts) if "training digest" in m.content]


async def test_renewal_dms_30_and_7_days_ahead_exactly_once_across_restarts(
    hearth: Harness,
) -> None:
    await set_up_rotas(hearth)
    await train(hearth, hearth.supporter, expires="2026-04-20")
    alex = await supporter(hearth, "alex", trained=False)
    await train(hearth, alex, expires="2026-04-20")
    await train(hearth, alex, expires="2026-12-31")  # renewed: the April DMs are not sent
    bea = await supporter(hearth, "bea", trained=False)
    await train(hearth, bea, expires="2026-04-20")
    await hearth.slash(hearth.coordinator, hearth.channel, "rota training revoke", member=bea)

    await run_at(hearth, EXPIRES - timedelta(days=30, minutes=1))
    assert renewal_dms(hearth, hearth.supporter) == []
    await run_at(hearth, EXPIRES - timedelta(days=30))
    await hearth.wait_for(lambda: len(renewal_dms(hearth, hearth.supporter)) == 1)
    assert f"runs out <t:{to_ts(EXPIRES)}:D>" in renewal_dms(hearth, hearth.supporter)[0]
    await hearth.restart()
    await run_at(hearth, EXPIRES - timedelta(days=20))
    assert len(renewal_dms(hearth, hearth.supporter)) == 1
    await run_at(hearth, EXPIRES - timedelta(days=7))
    await hearth.wait_for(lambda: len(renewal_dms(hearth, hearth.supporter)) == 2)
    await hearth.restart()
    await run_at(hearth, EXPIRES - timedelta(days=1))
    assert len(renewal_dms(hearth, hearth.supporter)) == 2
    assert renewal_dms(hearth, alex) == renewal_dms(hearth, bea) == []
    rows = await bot_of(hearth).db.fetchall(
        "SELECT status FROM outbox WHERE kind = 'rota.renewal' ORDER BY id"
    )
    assert {row["status"] for row in rows} == {"sent"}  # (finished rows are purged after 7 days)


async def test_weekly_digest_lists_expiring_training_and_shifts_past_an_expiry_once(
    hearth: Harness,
) -> None:
    [late] = await claimed_shifts(hearth, "2026-03-24 19:00")
    await train(hearth, hearth.supporter, expires="2026-03-20")  # now runs out before the shift
    alex = await supporter(hearth, "alex", trained=False)
    await train(hearth, alex, expires="2026-06-30")  # months away: not listed
    cy = await supporter(hearth, "cy", trained=False)
    await train(hearth, cy, expires="2026-03-05")

    await run_at(hearth, MONDAY_9 - timedelta(minutes=1))
    assert digests(hearth) == []
    await run_at(hearth, MONDAY_9)
    await hearth.wait_for(lambda: len(digests(hearth)) == 1)
    [digest] = digests(hearth)
    assert f"<@{hearth.supporter.id}> — runs out" in digest
    assert f"<@{cy.id}> — **expired**" in digest
    assert f"<@{alex.id}>" not in digest
    assert f"slot #{late}" in digest and "past an expiry" in digest
    await hearth.restart()
    await run_at(hearth, MONDAY_9 + timedelta(hours=1))
    assert len(digests(hearth)) == 1  # a restart does not resend it

    await run_at(hearth, MONDAY_9 + timedelta(days=7))
    await hearth.wait_for(lambda: len(digests(hearth)) == 2)
    second = digests(hearth)[1]
    assert f"<@{cy.id}> — **expired**" in second and f"slot #{late}" in second
    timers = await bot_of(hearth).timers.pending("rota.training_digest")
    assert [t.due_at for t in timers] == [MONDAY_9 + timedelta(days=14)]


async def test_a_long_digest_is_split_into_messages_that_fit(hearth: Harness) -> None:
    await set_up_rotas(hearth)
    await train(hearth, hearth.supporter, expires="2026-03-20")
    db = bot_of(hearth).db
    people = [10**17 + n for n in range(150)]
    for person in people:
        await db.execute(
            "INSERT INTO rota_training (guild_id, user_id, granted_by, granted_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (hearth.guild.id, person, hearth.coordinator.id, 0, to_ts(MONDAY_9) + 86400),
        )
    await run_at(hearth, MONDAY_9)
    await hearth.wait_for(lambda: len(digests(hearth)) >= 1)
    await hearth.wait_for(
        lambda: (
            sum(f"(part {n}/" in m.content for m in hearth.messages(hearth.alerts) for n in (1,))
            == 1
        )
    )
    parts = [m.content for m in hearth.messages(hearth.alerts) if "(part " in m.content]
    total = int(parts[0].split("/", 1)[1].split(")", 1)[0])
    await hearth.wait_for(
        lambda: len([m for m in hearth.messages(hearth.alerts) if "(part " in m.content]) == total
    )
    parts = [m.content for m in hearth.messages(hearth.alerts) if "(part " in m.content]
    assert total > 1 and all(len(part) <= 2000 for part in parts)
    joined = "\n".join(parts)
    assert all(joined.count(f"<@{person}>") == 1 for person in [*people, hearth.supporter.id])


# --- 3. a fair share ------------------------------------------------------------------------------
async def test_load_shows_shares_flags_long_runs_at_the_cap_and_most_late_cover(
    hearth: Harness,
) -> None:
    bot = await set_up_rotas(hearth)
    await bot.settings.update(hearth.guild.id, None, max_shifts_per_week=2)
    await make_rota(hearth)
    await make_rota(hearth, "Day duty")
    tuesdays = await add_slots(hearth, "Evening duty", "2026-03-03 19:00", repeat_weeks=3)
    fridays = await add_slots(hearth, "Evening duty", "2026-03-06 19:00", repeat_weeks=3)
    days = [
        (await add_slots(hearth, "Day duty", start))[0]
        for start in ("2026-03-04 10:00", "2026-03-05 10:00", "2026-03-11 10:00")
    ]
    await train(hearth, hearth.supporter)
    for slot_id in tuesdays + fridays:
        reply = await hearth.slash(
            hearth.supporter, hearth.channel, "rota claim", slot=str(slot_id)
        )
        assert "You're on" in reply.content, reply.content
    alex, bea = await supporter(hearth, "alex"), await supporter(hearth, "bea")
    for who, slot_id, at in (
        (alex, days[0], datetime(2026, 3, 3, 11, 0, tzinfo=UTC)),
        (alex, days[1], datetime(2026, 3, 4, 11, 0, tzinfo=UTC)),
        (bea, days[2], datetime(2026, 3, 10, 12, 0, tzinfo=UTC)),
    ):  # each less than a day ahead: late cover
        hearth.clock.set(at)
        reply = await hearth.slash(who, hearth.channel, "rota claim", slot=str(slot_id))
        assert "You're on" in reply.content, reply.content
    hearth.clock.set(datetime(2026, 3, 12, 12, 0, tzinfo=UTC))

    shown = await hearth.slash(hearth.coordinator, hearth.channel, "rota load", weeks=2)
    assert shown.ephemeral
    lines = shown.content.split("\n")
    sam = next(i for i, line in enumerate(lines) if line.startswith(f"<@{hearth.supporter.id}>"))
    assert "3 shifts (6 h), 0 late covers · ahead: 3 (6 h)" in lines[sam]
    assert "at the weekly cap (2) 3 weeks running" in lines[sam + 1]
    alex_line = next(i for i, line in enumerate(lines) if line.startswith(f"<@{alex.id}>"))
    assert "2 shifts (4 h), 2 late covers" in lines[alex_line]
    assert "took most of the late cover (2 of 3)" in lines[alex_line + 1]
    bea_line = next(line for line in lines if line.startswith(f"<@{bea.id}>"))
    assert "1 late cover ·" in bea_line and "⚠️" not in shown.content.split(bea_line)[1][:5]

    member = await hearth.slash(hearth.supporter, hearth.channel, "rota load")
    assert "Only coordinators" in member.content

    mine = await hearth.slash(hearth.supporter, hearth.channel, "rota mine")
    assert "Your share — last 4 wk: 3 shifts (6 h), 0 late covers · ahead: 3 (6 h)" in mine.content
    theirs = await hearth.slash(bea, hearth.channel, "rota mine")
    assert "1 late cover" in theirs.content and f"<@{hearth.supporter.id}>" not in theirs.content
