"""Every reason a claim is refused, and the race for the last place, through Discord."""

# The `hearth` fixture is imported from test_rota (core + rota only) and used as a parameter.

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.fakediscord import FakeMember
from tests.harness import Harness, Person, bot_of
from tests.helpers import add_slots, claims_of, make_rota, set_up_rotas, supporter, train


async def claim(hearth: Harness, person: Person, slot_id: int | str) -> str:
    reply = await hearth.slash(person, hearth.channel, "rota claim", slot=str(slot_id))
    assert reply.ephemeral
    return reply.content


async def test_each_refusal_reason_is_specific_and_changes_nothing(hearth: Harness) -> None:
    bot = await set_up_rotas(hearth)
    await make_rota(hearth)
    sam = hearth.supporter
    tue = (await add_slots(hearth, "Evening duty", "2026-03-03 19:00"))[0]
    overlapping = (await add_slots(hearth, "Evening duty", "2026-03-03 20:00"))[0]
    too_close = (await add_slots(hearth, "Evening duty", "2026-03-04 03:00"))[0]
    wed, thu, fri = [
        (await add_slots(hearth, "Evening duty", f"2026-03-0{day} 19:00"))[0] for day in (4, 5, 6)
    ]
    later_week = (await add_slots(hearth, "Evening duty", "2026-03-10 19:00"))[0]
    tonight = (await add_slots(hearth, "Evening duty", "2026-03-02 13:00", "30m"))[0]

    assert "Only peer supporters" in await claim(hearth, hearth.member, tue)
    assert "needs supporter training first" in await claim(hearth, sam, tue)

    await train(hearth, sam, expires="2026-03-04")  # valid through Wednesday 4 March
    assert "runs out" in await claim(hearth, sam, thu)
    assert "You're on" in await claim(hearth, sam, tue)
    assert "already claimed that shift" in await claim(hearth, sam, tue)
    assert "overlaps another of yours" in await claim(hearth, sam, overlapping)
    assert "less than 8 hours' rest" in await claim(hearth, sam, too_close)

    await train(hearth, sam)  # renewed with no expiry
    assert "You're on" in await claim(hearth, sam, wed)
    assert "You're on" in await claim(hearth, sam, thu)
    assert "You already have 3 shifts that week" in await claim(hearth, sam, fri)
    assert "You're on" in await claim(hearth, sam, later_week)  # a new week

    alex = await supporter(hearth, "alex")
    assert "all the supporters it needs (1/1)" in await claim(hearth, alex, tue)
    hearth.clock.set(datetime(2026, 3, 2, 13, 5, tzinfo=UTC))
    assert "started" in await claim(hearth, alex, tonight)

    hearth.clock.set(datetime(2026, 3, 5, 12, 0, tzinfo=UTC))
    assert "expired" in await claim(hearth, await _expired(hearth), later_week + 0)
    assert "isn't a slot I know" in await claim(hearth, alex, "soon")
    assert "no slot #4242" in await claim(hearth, alex, 4242)
    rows = await bot.db.fetchall("SELECT slot_id, user_id FROM rota_claims ORDER BY id")
    assert [(r["slot_id"], r["user_id"]) for r in rows] == [
        (tue, sam.id), (wed, sam.id), (thu, sam.id), (later_week, sam.id)
    ]  # fmt: skip


async def _expired(hearth: Harness) -> FakeMember:
    """A supporter whose training ran out yesterday (recorded directly: grants must be future)."""
    person = await supporter(hearth, "old", trained=False)
    await bot_of(hearth).db.execute(
        "INSERT INTO rota_training (guild_id, user_id, granted_by, granted_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (hearth.guild.id, person.id, hearth.coordinator.id, 0,
         int(datetime(2026, 3, 4, tzinfo=UTC).timestamp())),
    )  # fmt: skip
    return person


async def test_rota_without_training_requirement_lets_untrained_supporters_claim(
    hearth: Harness,
) -> None:
    await set_up_rotas(hearth)
    await make_rota(hearth, name="Social hosts", training_required=False)
    slot_id = (await add_slots(hearth, "Social hosts", "2026-03-03 19:00"))[0]
    assert "You're on" in await claim(hearth, hearth.supporter, slot_id)


async def test_no_supporter_role_configured_says_setup_is_needed(hearth: Harness) -> None:
    await make_rota(hearth)
    slot_id = (await add_slots(hearth, "Evening duty", "2026-03-03 19:00"))[0]
    assert "`/setup`" in await claim(hearth, hearth.supporter, slot_id)


async def test_twenty_four_supporters_race_for_the_last_place_and_exactly_one_wins(
    hearth: Harness,
) -> None:
    await set_up_rotas(hearth)
    await make_rota(hearth, needed=2)
    slot_id = (await add_slots(hearth, "Evening duty", "2026-03-03 19:00"))[0]
    await train(hearth, hearth.supporter)
    await claim(hearth, hearth.supporter, slot_id)  # one place left
    people = [await supporter(hearth, f"s{i}") for i in range(24)]

    replies = await asyncio.gather(
        *(hearth.slash(p, hearth.channel, "rota claim", slot=str(slot_id)) for p in people)
    )
    won = [r for r in replies if "You're on" in r.content]
    lost = [r for r in replies if "You're on" not in r.content]
    assert len(won) == 1 and len(lost) == 23
    assert all(
        "someone just took the last place" in r.content
        or "all the supporters it needs" in r.content
        for r in lost
    )
    assert len(await claims_of(hearth, slot_id)) == 2
