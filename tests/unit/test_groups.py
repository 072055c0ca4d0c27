"""Peer-group rules without Discord: names, capacity, the waitlist and its races."""

from __future__ import annotations

import asyncio

import pytest

from bot.clock import FakeClock
from bot.db import Database
from bot.errors import UserFacingError
from bot.services.group_membership import MembershipService, Promotion, RoleOutcome
from bot.services.groups import Group, GroupService

GUILD = 1


class World:
    def __init__(self, db: Database, clock: FakeClock) -> None:
        self.db = db
        self.clock = clock
        self.groups = GroupService(db, clock)
        self.members = MembershipService(db, clock)
        self._roles = 1000

    async def group(self, name: str = "Carers circle", capacity: int | None = 2) -> Group:
        self._roles += 1
        return await self.groups.create(
            GUILD,
            99,
            name=name,
            description="For people caring for someone",
            capacity=capacity,
            meets="Tuesdays 19:00",
            role_id=self._roles,
            channel_id=None,
        )


@pytest.fixture
def world(db: Database) -> World:
    return World(db, FakeClock())


async def test_names_are_unique_per_server_ignoring_case_and_spacing(world: World) -> None:
    group = await world.group("Carers  Circle")
    assert group.name == "Carers Circle"
    with pytest.raises(UserFacingError, match="already a group called “Carers Circle”"):
        await world.groups.check_name_free(GUILD, "carers circle")
    with pytest.raises(UserFacingError):
        await world.group(" CARERS circle ")
    other = await world.groups.create(
        2,
        1,
        name="carers circle",
        description="",
        capacity=None,
        meets=None,
        role_id=5,
        channel_id=None,
    )  # another server may use the same name
    assert other.guild_id == 2
    assert (await world.groups.find(GUILD, "CARERS CIRCLE")).id == group.id
    with pytest.raises(UserFacingError, match="couldn't find a group called “Nope”"):
        await world.groups.find(GUILD, "Nope")


async def test_a_role_belongs_to_one_group(world: World) -> None:
    group = await world.group()
    with pytest.raises(UserFacingError, match="already belongs to the group"):
        await world.groups.check_role_free(GUILD, group.role_id)


async def test_create_and_edit_validate_and_report_changes(world: World) -> None:
    with pytest.raises(UserFacingError, match="Capacity must be between"):
        await world.group(capacity=5000)
    with pytest.raises(UserFacingError, match="needs a name"):
        await world.group(name="   ")
    unlimited = await world.group("Open", capacity=0)
    assert unlimited.capacity is None
    group = await world.group()
    await world.group("Walking group")
    with pytest.raises(UserFacingError, match="already a group called “Walking group”"):
        await world.groups.edit(GUILD, group.id, new_name="walking GROUP")
    with pytest.raises(UserFacingError, match="at least one thing"):
        await world.groups.edit(GUILD, group.id)
    edited, changes = await world.groups.edit(
        GUILD, group.id, new_name="Carers' circle", capacity=5, meets="Weds"
    )
    assert (edited.name, edited.capacity, edited.meets) == ("Carers' circle", 5, "Weds")
    assert [change.text() for change in changes] == [
        "name “Carers circle” → “Carers' circle”",
        "capacity 2 → 5",
        "meeting time",
    ]
    unchanged = await world.groups.get(GUILD, group.id)
    assert unchanged.description == "For people caring for someone"


async def test_full_group_waitlists_in_order_and_nobody_jumps_the_queue(world: World) -> None:
    group = await world.group(capacity=1)
    assert (await world.members.join(GUILD, group.id, 10)).status == "joined"
    second = await world.members.join(GUILD, group.id, 11)
    third = await world.members.join(GUILD, group.id, 12)
    assert (second.status, second.position) == ("waitlisted", 1)
    assert (third.status, third.position) == ("waitlisted", 2)
    # Raising capacity without promoting: a newcomer still queues behind those waiting.
    await world.groups.edit(GUILD, group.id, capacity=3)
    late = await world.members.join(GUILD, group.id, 13)
    assert (late.status, late.position) == ("waitlisted", 3)
    again = await world.members.join(GUILD, group.id, 11)
    assert (again.status, again.position) == ("waitlisted", 1)
    with pytest.raises(UserFacingError, match="already in"):
        await world.members.join(GUILD, group.id, 10)


async def test_many_joins_at_once_fill_exactly_the_places(world: World) -> None:
    group = await world.group(capacity=3)
    results = await asyncio.gather(
        *(world.members.join(GUILD, group.id, user) for user in range(100, 120))
    )
    joined = [r for r in results if r.status == "joined"]
    positions = sorted(r.position or 0 for r in results if r.status == "waitlisted")
    assert len(joined) == 3
    assert positions == list(range(1, 18))
    summary = await world.groups.get(GUILD, group.id)
    assert (summary.member_count, summary.waitlist_count) == (3, 17)


async def test_leave_frees_a_place_and_promotion_takes_the_first_in_line(world: World) -> None:
    group = await world.group(capacity=1)
    await world.members.join(GUILD, group.id, 10)
    await world.members.join(GUILD, group.id, 11)
    await world.members.join(GUILD, group.id, 12)
    assert await world.members.promote_next(GUILD, group.id) is None  # no room yet
    assert (await world.members.leave(GUILD, group.id, 10)).status == "left"
    promoted = await world.members.promote_next(GUILD, group.id)
    assert promoted is not None and promoted.user_id == 11
    assert await world.members.promote_next(GUILD, group.id) is None  # full again
    assert await world.members.is_member(group.id, 11)
    assert await world.members.position(group.id, 12) == 1
    assert (await world.members.leave(GUILD, group.id, 12)).status == "unqueued"
    with pytest.raises(UserFacingError, match="nothing to leave"):
        await world.members.leave(GUILD, group.id, 12)
    with pytest.raises(UserFacingError, match="That member isn't in"):
        await world.members.leave(GUILD, group.id, 12, by_coordinator=True)


async def test_a_reverted_promotion_keeps_the_member_first_in_line(world: World) -> None:
    group = await world.group(capacity=1)
    for user in (10, 11, 12):
        await world.members.join(GUILD, group.id, user)
    await world.members.leave(GUILD, group.id, 10)
    promoted = await world.members.promote_next(GUILD, group.id)
    assert promoted is not None
    await world.members.join(GUILD, group.id, 13)  # queues while the promotion is pending
    await world.members.revert_promotion(promoted)
    assert not await world.members.is_member(group.id, 11)
    roster = await world.members.roster(GUILD, group.id)
    assert [entry.user_id for entry in roster.waitlist] == [11, 12, 13]
    assert roster.members == []


async def test_filling_places_passes_over_the_departed_and_stops_at_a_refused_role(
    world: World,
) -> None:
    group = await world.group(capacity=3)
    for user in (10, 11, 12, 20, 21, 22, 23):
        await world.members.join(GUILD, group.id, user)  # 10-12 in; 20-23 waiting
    for user in (10, 11, 12):
        await world.members.leave(GUILD, group.id, user)
    outcomes: dict[int, RoleOutcome] = {20: "given", 21: "member_gone", 22: "given", 23: "refused"}
    asked: list[int] = []

    async def give_role(promotion: Promotion) -> RoleOutcome:
        asked.append(promotion.user_id)
        return outcomes[promotion.user_id]

    filled = await world.members.fill_places(GUILD, group.id, give_role)
    assert asked == [20, 21, 22, 23]  # 21 had left the server: their place went on to 22, 23
    assert [p.user_id for p in filled.promoted] == [20, 22]
    assert filled.refused is not None and filled.refused.user_id == 23
    roster = await world.members.roster(GUILD, group.id)
    assert sorted(entry.user_id for entry in roster.members) == [20, 22]
    assert [entry.user_id for entry in roster.waitlist] == [23]  # back first in line, not in

    outcomes[23] = "given"  # the coordinator fixed the role
    again = await world.members.fill_places(GUILD, group.id, give_role)
    assert [p.user_id for p in again.promoted] == [23] and again.refused is None
    assert (await world.members.fill_places(GUILD, group.id, give_role)).promoted == []


async def test_lowering_capacity_keeps_members_and_stops_joins(world: World) -> None:
    group = await world.group(capacity=3)
    for user in (10, 11, 12):
        await world.members.join(GUILD, group.id, user)
    await world.groups.edit(GUILD, group.id, capacity=1)
    summary = await world.groups.get(GUILD, group.id)
    assert (summary.member_count, summary.spaces_left) == (3, 0)
    assert (await world.members.join(GUILD, group.id, 13)).status == "waitlisted"
    await world.members.leave(GUILD, group.id, 10)
    assert await world.members.promote_next(GUILD, group.id) is None  # still over capacity


async def test_archive_stops_joins_and_closes_the_waitlist(world: World) -> None:
    group = await world.group(capacity=1)
    for user in (10, 11, 12):
        await world.members.join(GUILD, group.id, user)
    archived, waiting = await world.groups.archive(GUILD, group.id)
    assert archived.archived and waiting == [11, 12]
    assert await world.members.is_member(group.id, 10)  # members keep their place
    summary = await world.groups.get(GUILD, group.id)
    with pytest.raises(UserFacingError, match="archived"):
        await world.members.check_can_join(summary, 13)
    with pytest.raises(UserFacingError, match="archived"):
        await world.members.join(GUILD, group.id, 13)
    with pytest.raises(UserFacingError, match="already archived"):
        await world.groups.archive(GUILD, group.id)
    assert await world.groups.count_open(GUILD) == 0
    assert await world.groups.summaries(GUILD) == []
    assert len(await world.groups.summaries(GUILD, include_archived=True)) == 1


async def test_leaving_the_server_leaves_every_group_and_queue(world: World) -> None:
    first = await world.group("A", capacity=1)
    second = await world.group("B", capacity=1)
    await world.members.join(GUILD, first.id, 10)
    await world.members.join(GUILD, second.id, 11)
    await world.members.join(GUILD, second.id, 10)  # waiting for B
    assert await world.members.forget_member(GUILD, 10) == [first.id]
    assert await world.members.position(second.id, 10) is None
    assert not await world.members.is_member(first.id, 10)


async def test_autocomplete_names_and_about_count(world: World) -> None:
    await world.group("Carers circle")
    walking = await world.group("Walking 100% group")
    await world.members.join(GUILD, walking.id, 10)
    assert await world.groups.names(GUILD, "CIR") == ["Carers circle"]
    assert await world.groups.names(GUILD, "100%") == ["Walking 100% group"]
    assert await world.groups.names(GUILD, "") == ["Carers circle", "Walking 100% group"]
    assert await world.groups.names_for_member(GUILD, 10, "") == ["Walking 100% group"]
    assert await world.groups.count_open(GUILD) == 2
    assert await world.groups.count_open(2) == 0


async def test_check_can_join_refuses_before_any_gate(world: World) -> None:
    group = await world.group(capacity=1)
    await world.members.join(GUILD, group.id, 10)
    await world.members.join(GUILD, group.id, 11)
    summary = await world.groups.get(GUILD, group.id)
    with pytest.raises(UserFacingError, match="already in"):
        await world.members.check_can_join(summary, 10)
    with pytest.raises(UserFacingError, match="number 1 in line"):
        await world.members.check_can_join(summary, 11)
    await world.members.check_can_join(summary, 12)


async def test_panels_are_remembered_per_server(world: World) -> None:
    await world.groups.add_panel(GUILD, 50, [500], 99)
    await world.groups.add_panel(2, 60, [600], 99)
    assert [p.message_id for p in await world.groups.panels(GUILD)] == [500]
    await world.groups.forget_panel(GUILD, 500)
    assert await world.groups.panels(GUILD) == []
    assert len(await world.groups.panels(2)) == 1


async def test_deleting_a_group_row_cascades(world: World) -> None:
    group = await world.group(capacity=1)
    await world.members.join(GUILD, group.id, 10)
    await world.members.join(GUILD, group.id, 11)
    await world.db.execute("DELETE FROM groups WHERE id = ?", (group.id,))
    assert await world.db.fetchval("SELECT COUNT(*) FROM group_members") == 0
    assert await world.db.fetchval("SELECT COUNT(*) FROM group_waitlist") == 0


async def test_a_panel_of_several_messages_keeps_its_first_and_changes_the_rest(
    world: World,
) -> None:
    await world.groups.add_panel(GUILD, 50, [500, 501, 502], 99)
    (panel,) = await world.groups.panels(GUILD)
    assert (panel.message_id, panel.parts) == (500, [500, 501, 502])
    await world.groups.set_panel_parts(panel, [500, 510])
    (panel,) = await world.groups.panels(GUILD)
    assert panel.parts == [500, 510] and panel.channel_id == 50
    await world.groups.forget_panel(GUILD, 500)
    assert await world.groups.panels(GUILD) == []
    assert await world.db.fetchval("SELECT COUNT(*) FROM group_panels") == 0
