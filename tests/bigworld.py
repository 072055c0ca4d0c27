"""A big server, built through Hearth's own services: everything that grows with a server, at
the longest lengths Hearth accepts, so every list, panel and menu is tried at its worst.

    world = await build_big_world(hearth)
    reply = await hearth.slash(hearth.member, hearth.general, "group list")

Lengths come from the services' own limits (imported, not copied), so the world follows them
if they change. Building goes through the same service calls the commands use, with no
Discord round trip per item, so a test can afford a fresh world (about a second).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.services.checkin_schedules import CheckinSchedules
from bot.services.checkins import MAX_PROMPT
from bot.services.crisis import MAX_FIELD, CrisisService
from bot.services.group_membership import MembershipService
from bot.services.group_names import NAME_MAX
from bot.services.groups import DESCRIPTION_MAX, MEETS_MAX, GroupService
from bot.services.guidelines import MAX_LENGTH as GUIDELINES_MAX
from bot.services.guidelines import GuidelinesService
from bot.services.rota.parsing import week_bounds
from bot.services.rota.rotas import MAX_NAME as ROTA_NAME_MAX
from tests.fakediscord import FakeMember
from tests.harness import Harness, bot_of
from tests.pseudo_locale import given
from tests.services import rota_service

GROUPS = 32
SLOT_DAYS = 7
SLOTS_PER_DAY = 6  # two-hour slots from 08:00: 42 a week
SLOT_WEEKS = 2
NEEDED = 3
HELPLINES = 30
SCHEDULES = 100
AUDIT_ENTRIES = 220
SUPPORTERS = 60
DISPLAY_NAME = 32  # Discord's longest nickname


def padded(prefix: str, length: int, filler: str = " and more words") -> str:
    """`prefix` followed by readable filler, exactly `length` characters long: data, as a
    coordinator would write it (`given`: the pseudo-locale run does not count it)."""
    text = (prefix + filler * length)[:length]
    return given(text[:-1] + "x" if text.endswith(" ") else text)


@dataclass
class BigWorld:
    group_names: list[str] = field(default_factory=list)
    group_ids: list[int] = field(default_factory=list)
    rota_name: str = ""
    slot_ids: list[int] = field(default_factory=list)  # every slot, in time order
    week_slot_ids: list[int] = field(default_factory=list)  # next week's
    sam_slot_ids: list[int] = field(default_factory=list)  # the standard supporter's shifts
    helplines: list[str] = field(default_factory=list)
    schedule_ids: list[int] = field(default_factory=list)
    audit_details: list[str] = field(default_factory=list)
    supporters: list[FakeMember] = field(default_factory=list)
    guidelines: str = ""


async def build_big_world(hearth: Harness) -> BigWorld:
    bot = bot_of(hearth)
    gid = hearth.guild.id
    cora = hearth.coordinator.id
    now = bot.clock.now()
    world = BigWorld()
    await bot.settings.update(
        gid,
        None,
        supporter_role_id=hearth.supporter_role.id,
        alerts_channel_id=hearth.alerts.id,
        log_channel_id=hearth.log.id,
        timezone="Europe/London",
        max_shifts_per_week=21,
        min_rest_hours=0,
    )

    # Members with the longest display names Discord allows, all trained supporters.
    for n in range(SUPPORTERS):
        name = padded(f"Supporter {n:02d} ", DISPLAY_NAME, "·")
        world.supporters.append(
            hearth.guild.add_member(name, roles=[hearth.supporter_role], nick=name)
        )

    # Groups: longest names, descriptions and meeting texts; some full with a waitlist.
    groups = GroupService(bot.db, bot.clock)
    members = MembershipService(bot.db, bot.clock)
    for n in range(GROUPS):
        name = padded(f"Group {n:02d} for people who", NAME_MAX)
        role = hearth.guild.add_role(name)
        created = await groups.create(
            gid,
            cora,
            name=name,
            description=padded(f"What group {n:02d} is for:", DESCRIPTION_MAX),
            capacity=2 if n % 3 == 0 else 20,
            meets=padded(f"Meets on day {n % 7} at 19:00,", MEETS_MAX),
            role_id=role.id,
            channel_id=None,
        )
        world.group_names.append(created.name)
        world.group_ids.append(created.id)
        if n % 3 == 0:
            for person in world.supporters[:3]:
                await members.join(gid, created.id, person.id)

    # A rota with two weeks of slots needing several supporters; sam holds 21 a week.
    rota_name = padded("Evening listening duty", ROTA_NAME_MAX)
    chosen = await rota_service(bot.db, now).create_rota(gid, cora, rota_name, needed=NEEDED)
    world.rota_name = chosen.name
    start, _ = week_bounds(now + timedelta(weeks=1), ZoneInfo("Europe/London"))
    starts = [
        start + timedelta(days=week * 7 + day, hours=8 + 2 * slot)
        for week in range(SLOT_WEEKS)
        for day in range(SLOT_DAYS)
        for slot in range(SLOTS_PER_DAY)
    ]
    created_slots, _ = await rota_service(bot.db, now).add_slots(
        chosen, cora, starts, timedelta(hours=2)
    )
    world.slot_ids = [slot.id for slot in created_slots]
    world.week_slot_ids = world.slot_ids[: SLOT_DAYS * SLOTS_PER_DAY]
    settings = await bot.settings.get(gid)
    people = [hearth.supporter, *world.supporters]
    for person in people:
        await rota_service(bot.db, now).grant_training(gid, person.id, cora, None)
    for index, slot_id in enumerate(world.slot_ids):
        takers = [hearth.supporter] if index % 2 == 0 else []
        takers.append(world.supporters[index % SUPPORTERS])
        for person in takers:
            await rota_service(bot.db, now).claim_slot(
                settings, gid, slot_id, person.id, is_supporter=True
            )
        if index % 2 == 0:
            world.sam_slot_ids.append(slot_id)

    # Helplines at their longest.
    crisis = CrisisService(bot.db, bot.clock)
    for n in range(HELPLINES):
        added = await crisis.add(
            gid,
            cora,
            padded(f"Helpline {n:02d}", MAX_FIELD["name"]),
            padded(f"Call 0800 000 {n:03d} or text", MAX_FIELD["contact"]),
            padded("United Kingdom and", MAX_FIELD["region"]),
            padded("Every day, 24 hours", MAX_FIELD["hours"]),
        )
        world.helplines.append(added.name)

    # Check-in schedules with the longest prompt.
    schedules = CheckinSchedules(bot.db, bot.clock, bot.settings)
    for n in range(SCHEDULES):
        made = await schedules.add_group(
            gid,
            cora,
            hearth.general.id,
            padded(f"Check-in {n:03d}: how are you doing today?", MAX_PROMPT),
            "daily",
            f"{n % 24:02d}:{n % 60:02d}",
            None,
            n % 2 == 0,
        )
        world.schedule_ids.append(made.id)

    # Guidelines at their longest.
    world.guidelines = padded("Be kind. Keep what people share here private.", GUIDELINES_MAX)
    await GuidelinesService(bot.db, bot.clock).save(gid, None, world.guidelines, cora)

    # A long audit trail.
    for n in range(AUDIT_ENTRIES):
        detail = padded(f"entry {n:03d}:", 300)
        await bot.audit_log.record(gid, cora, given("world.built"), detail)
        world.audit_details.append(detail)
    return world
