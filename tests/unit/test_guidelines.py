"""The guidelines service: versions, acceptance, the join gate's pending list, status counts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.clock import FakeClock
from bot.db import Database
from bot.errors import UserFacingError
from bot.services.guidelines import MAX_LENGTH, STARTER_TEMPLATE, GuidelinesService
from tests.services import seeded_group

GUILD = 111
OTHER_GUILD = 222
CORA = 7
MAX = 8
SAM = 9


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(db: Database, clock: FakeClock) -> GuidelinesService:
    return GuidelinesService(db, clock)


def test_starter_template_covers_every_boundary_and_fits_the_form() -> None:
    for phrase in (
        "equal relationship",
        "stays in the group",
        "Befriending, not friendship",
        "sexual or romantic",
        "lending or borrowing money",
        "gifts",
        "nothing illegal",
        "contact details",
        "meet in person",
        "over-burden",
        "not therapists or a crisis service",
        "urgent help",
    ):
        assert phrase in STARTER_TEMPLATE, phrase
    assert len(STARTER_TEMPLATE) < MAX_LENGTH


async def test_saving_appends_versions_and_unchanged_text_saves_nothing(
    service: GuidelinesService, clock: FakeClock
) -> None:
    first = await service.save(GUILD, None, "Be kind.", CORA)
    assert first is not None and first.version == 1
    clock.advance(timedelta(hours=1))
    second = await service.save(GUILD, None, "Be kind.\nBe honest.", SAM)
    assert second is not None and second.version == 2 and second.edited_by == SAM
    assert await service.save(GUILD, None, "Be kind.  \r\nBe honest.\n\n", CORA) is None
    current = await service.current(GUILD, None)
    assert current is not None and current.body == "Be kind.\nBe honest."
    versions, total = await service.history(GUILD, None)
    assert total == 2 and [v.version for v in versions] == [2, 1]
    assert versions[1].created_at < versions[0].created_at
    assert await service.current(OTHER_GUILD, None) is None


async def test_empty_or_too_long_text_is_refused_and_saves_nothing(
    service: GuidelinesService,
) -> None:
    with pytest.raises(UserFacingError, match="can't be empty"):
        await service.save(GUILD, None, "   \n ", CORA)
    with pytest.raises(UserFacingError, match="limit is 4,000"):
        await service.save(GUILD, None, "x" * (MAX_LENGTH + 1), CORA)
    assert await service.current(GUILD, None) is None


async def test_concurrent_saves_get_consecutive_versions(service: GuidelinesService) -> None:
    saved = await asyncio.gather(*(service.save(GUILD, None, f"Text {n}", CORA) for n in range(12)))
    assert sorted(v.version for v in saved if v is not None) == list(range(1, 13))


async def test_server_and_group_scopes_are_separate(
    service: GuidelinesService, db: Database
) -> None:
    carers = await seeded_group(db, GUILD, "Carers")
    await service.save(GUILD, None, "Server text", CORA)
    group_v = await service.save(GUILD, carers, "Carers text", CORA)
    assert group_v is not None and group_v.version == 1
    server = await service.current(GUILD, None)
    assert server is not None and server.body == "Server text"
    await service.accept_current(GUILD, carers, MAX)
    assert not await service.has_accepted(GUILD, None, 1, MAX)


async def test_accepting_twice_says_already_and_a_new_version_needs_accepting_again(
    service: GuidelinesService,
) -> None:
    with pytest.raises(UserFacingError, match="no guidelines to accept"):
        await service.accept_current(GUILD, None, MAX)
    await service.save(GUILD, None, "v1", CORA)
    first = await service.accept_current(GUILD, None, MAX)
    again = await service.accept_current(GUILD, None, MAX)
    assert (first.version, first.newly) == (1, True)
    assert (again.version, again.newly) == (1, False)
    await service.save(GUILD, None, "v2", CORA)
    assert not await service.has_accepted(GUILD, None, 2, MAX)
    renewed = await service.accept_current(GUILD, None, MAX)
    assert (renewed.version, renewed.newly) == (2, True)


async def test_accepting_a_version_that_does_not_exist_records_nothing(
    service: GuidelinesService, db: Database
) -> None:
    await service.save(GUILD, None, "v1", CORA)
    assert not await service.accept(GUILD, None, 5, MAX)
    assert await db.fetchval("SELECT COUNT(*) FROM guideline_acceptances") == 0


async def test_many_presses_at_once_record_one_acceptance(
    service: GuidelinesService, db: Database
) -> None:
    await service.save(GUILD, None, "v1", CORA)
    results = await asyncio.gather(*(service.accept_current(GUILD, None, MAX) for _ in range(15)))
    assert sum(result.newly for result in results) == 1
    assert await db.fetchval("SELECT COUNT(*) FROM guideline_acceptances") == 1


async def test_pending_lists_server_then_group_and_respects_the_gate(
    service: GuidelinesService, db: Database
) -> None:
    carers = await seeded_group(db, GUILD, "Carers")
    assert await service.pending(GUILD, MAX, carers) == []
    await service.save(GUILD, None, "Server", CORA)
    await service.save(GUILD, carers, "Carers", CORA)
    assert [v.group_id for v in await service.pending(GUILD, MAX, carers)] == [None, carers]
    await service.accept_current(GUILD, None, MAX)
    assert [v.group_id for v in await service.pending(GUILD, MAX, carers)] == [carers]
    await service.accept_current(GUILD, carers, MAX)
    assert await service.pending(GUILD, MAX, carers) == []

    await service.save(GUILD, None, "Server v2", CORA)
    assert [v.version for v in await service.pending(GUILD, MAX, carers)] == [2]
    assert await service.set_gate(GUILD, carers, False, CORA)
    assert not await service.set_gate(GUILD, carers, False, CORA)
    assert await service.pending(GUILD, MAX, carers) == []
    assert await service.set_gate(GUILD, carers, True, CORA)
    assert len(await service.pending(GUILD, MAX, carers)) == 1


async def test_status_counts_current_older_and_none(
    service: GuidelinesService, db: Database
) -> None:
    carers = await seeded_group(db, GUILD, "Carers", members=(MAX, SAM, CORA, 50))
    await service.save(GUILD, carers, "v1", CORA)
    await service.accept_current(GUILD, carers, MAX)
    await service.accept_current(GUILD, carers, SAM)
    await service.accept_current(GUILD, carers, 77)  # not a member: not counted
    await service.save(GUILD, carers, "v2", CORA)
    await service.accept_current(GUILD, carers, SAM)
    members = await service.group_member_ids(GUILD, carers)
    counts = await service.status(GUILD, carers, member_ids=members)
    assert (counts.version, counts.population) == (2, 4)
    assert (counts.accepted_current, counts.accepted_older, counts.accepted_none) == (1, 1, 2)

    await service.save(GUILD, None, "server", CORA)
    await service.accept_current(GUILD, None, MAX)
    by_head_count = await service.status(GUILD, None, population=10)
    assert (by_head_count.accepted_current, by_head_count.accepted_none) == (1, 9)


async def test_groups_are_found_by_name_ignoring_case_and_only_in_their_server(
    service: GuidelinesService, db: Database
) -> None:
    carers = await seeded_group(db, GUILD, "Carers Circle")
    await seeded_group(db, OTHER_GUILD, "Carers Elsewhere")
    found = await service.find_group(GUILD, "  carers CIRCLE ")
    assert (found.id, found.name) == (carers, "Carers Circle")
    with pytest.raises(UserFacingError, match="couldn't find a group"):
        await service.find_group(GUILD, "Carers Elsewhere")
    assert await service.search_groups(GUILD, "circ") == ["Carers Circle"]
    assert await service.search_groups(GUILD, "") == ["Carers Circle"]


async def test_deleting_a_group_removes_its_guidelines_and_acceptances(
    service: GuidelinesService, db: Database
) -> None:
    carers = await seeded_group(db, GUILD, "Carers")
    await service.save(GUILD, carers, "text", CORA)
    await service.accept_current(GUILD, carers, MAX)
    await service.set_gate(GUILD, carers, False, CORA)
    await db.execute("DELETE FROM groups WHERE id = ?", (carers,))
    for table in ("guideline_versions", "guideline_acceptances", "guideline_gate_off"):
        assert await db.fetchval(f"SELECT COUNT(*) FROM {table}") == 0
