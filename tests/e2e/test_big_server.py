"""The big-server world end to end: every list, panel and menu stays within Discord's limits and
still reaches every item.

The fake answers any request over Discord's limits with 400 / 50035, which fails the test (the
bot logs it, or the person never sees an answer); `no_rejections` also checks the request log,
so a refused request that the bot swallowed quietly fails too.
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from datetime import timedelta
from typing import Any

import discord
import pytest

from bot.services.groups import GroupService
from bot.services.settings import SETTING_KEYS
from tests.bigworld import BigWorld, build_big_world
from tests.fakediscord.views import MessageView, Reply
from tests.harness import Harness, Person, bot_of


@pytest.fixture
async def world(hearth: Harness) -> BigWorld:
    started = time.perf_counter()
    built = await build_big_world(hearth)
    print(f"big world built in {time.perf_counter() - started:.2f}s")
    return built


def no_rejections(hearth: Harness) -> None:
    refused = [entry for entry in hearth.fake.request_log if entry[2] == 400]
    assert refused == [], refused


async def every_page(
    hearth: Harness, person: Person, reply: Reply, forward: str = "Next →"
) -> list[str]:
    """Press `forward` until it is disabled; the text of every page, in order."""
    texts = [reply.text]
    while any(c.label == forward and not c.disabled for c in reply.components):
        page = await hearth.click(person, reply, label=forward)
        assert page.message_id == reply.message_id  # the same private message, edited
        texts.append(page.text)
    return texts


def ids_in(texts: list[str]) -> list[int]:
    return [int(found) for text in texts for found in re.findall(r"(?<!<)#(\d+)\b", text)]


async def test_the_sign_up_panel_covers_every_group_and_keeps_up(
    hearth: Harness, world: BigWorld
) -> None:
    reply = await hearth.slash(
        hearth.coordinator, hearth.general, "group panel", channel=hearth.general
    )
    parts = hearth.messages(hearth.general)
    assert len(parts) >= 3 and f"({len(parts)} messages" in reply.content, reply.content
    shown = [field["name"] for part in parts for field in part.embeds[0]["fields"]]
    assert shown == world.group_names  # each open group once, in order
    for part in parts:
        (menu,) = part.components
        names = [field["name"] for field in part.embeds[0]["fields"]]
        assert [label for label, _ in menu.options] == names  # its own groups, at full length
    stored = await bot_of(hearth).db.fetchall(
        "SELECT message_id, part FROM group_panels ORDER BY part"
    )
    assert [(r["message_id"], r["part"]) for r in stored] == [
        (p.message_id, n) for n, p in enumerate(parts)
    ]

    # The panel shortens descriptions; picking a group shows all of it, privately.
    last = world.group_names[-1]
    await hearth.restart()
    picked = await hearth.select(hearth.member, parts[-1], [last])
    assert picked.ephemeral and picked.embeds[0]["title"] == last
    description = picked.embeds[0]["description"]
    assert description.startswith("What group 31 is for:") and len(description) > 1000
    joined = await hearth.click(hearth.member, picked, label="Join")
    assert world.guidelines in joined.text  # the 4,000-character guidelines come first
    agreed = await hearth.click(hearth.member, joined, label="I have read and agree")
    await hearth.wait_for(lambda: f"You're in “{last}”" in agreed.content)
    await hearth.wait_for(lambda: "19 places left (of 20)" in parts[-1].text)

    # Archiving most groups shrinks the panel: its extra messages go, and the store follows.
    # (All but the last change go straight to the store; the last command refreshes.)
    service = GroupService(bot_of(hearth).db, bot_of(hearth).clock)
    for group_id in world.group_ids[:23]:
        await service.archive(hearth.guild.id, group_id)
    archived = await hearth.slash(
        hearth.coordinator, hearth.general, "group archive", name=world.group_names[23]
    )
    assert "Archived" in archived.content
    await hearth.wait_for(lambda: all(part.deleted for part in parts[1:]))
    assert [f["name"] for f in parts[0].embeds[0]["fields"]] == world.group_names[24:]
    assert await bot_of(hearth).db.fetchval("SELECT COUNT(*) FROM group_panels") == 1

    # Reopening them grows it again with new messages, which work like the first.
    for group_id in world.group_ids[:23]:
        await service.reopen(hearth.guild.id, group_id)
    await hearth.slash(
        hearth.coordinator, hearth.general, "group reopen", name=world.group_names[23]
    )

    def live() -> list[MessageView]:
        return [m for m in hearth.messages(hearth.general) if not m.deleted]

    await hearth.wait_for(lambda: len(live()) == len(parts))
    shown = live()
    assert [f["name"] for m in shown for f in m.embeds[0]["fields"]] == world.group_names
    await hearth.restart()
    again = await hearth.select(hearth.supporter, shown[-1], [last])
    assert again.embeds[0]["title"] == last
    no_rejections(hearth)


async def test_deleting_the_first_panel_message_forgets_the_whole_panel(
    hearth: Harness, world: BigWorld
) -> None:
    await hearth.slash(hearth.coordinator, hearth.general, "group panel", channel=hearth.general)
    first, *rest = hearth.messages(hearth.general)
    channel = bot_of(hearth).get_channel(hearth.general.id)
    assert isinstance(channel, discord.TextChannel)
    await channel.get_partial_message(first.message_id).delete()
    await hearth.slash(
        hearth.coordinator, hearth.general, "group archive", name=world.group_names[0]
    )
    await hearth.wait_for(lambda: all(m.deleted for m in rest))
    assert await bot_of(hearth).db.fetchval("SELECT COUNT(*) FROM group_panels") == 0


async def test_group_lists_and_menus_reach_every_group_and_member(
    hearth: Harness, world: BigWorld
) -> None:
    listed = await hearth.slash(hearth.member, hearth.general, "group list")
    pages = await every_page(hearth, hearth.member, listed)
    assert len(pages) > 1 and "(page 1 of" in pages[0]
    text = "\n".join(pages)
    assert all(f"**{name}**" in text for name in world.group_names)

    # Autocomplete holds 25; typing reaches the rest.
    choices = await hearth.autocomplete(hearth.member, hearth.general, "group join", "name", "")
    assert len(choices) == 25
    typed = await hearth.autocomplete(
        hearth.member, hearth.general, "group join", "name", "Group 31"
    )
    assert [c["value"] for c in typed] == [world.group_names[31]]

    # A group with 41 members and a long waitlist: every one on some page.
    membership = bot_of(hearth).get_cog("Groups").members  # type: ignore[union-attr]  # get_cog: a Cog by name, or None
    target = world.group_ids[1]
    for person in world.supporters:
        await membership.join(hearth.guild.id, target, person.id)
    await GroupService(bot_of(hearth).db, bot_of(hearth).clock).edit(
        hearth.guild.id, target, capacity=10
    )
    for person in world.supporters:
        await membership.leave(hearth.guild.id, target, person.id)
    for person in world.supporters:
        await membership.join(hearth.guild.id, target, person.id)
    roster = await hearth.slash(
        hearth.coordinator, hearth.general, "group members", name=world.group_names[1]
    )
    seen = "\n".join(await every_page(hearth, hearth.coordinator, roster))
    assert all(f"<@{person.id}>" in seen for person in world.supporters)
    assert "**Waitlist**" in seen and "30. <@" in seen  # 10 members, 30 waiting
    no_rejections(hearth)


async def test_rota_lists_reach_every_slot_and_shift(hearth: Harness, world: BigWorld) -> None:
    sam = hearth.supporter
    view = await hearth.slash(sam, hearth.general, "rota view", rota=world.rota_name, week=1)
    assert view.embeds[0]["title"].startswith(world.rota_name)
    pages: list[str] = [view.text]
    claim_ids: list[str] = []
    while True:
        claim_ids += [
            c.custom_id or "" for c in view.components if (c.label or "").startswith("Claim")
        ]
        if not any(c.label == "Next →" and not c.disabled for c in view.components):
            break
        await hearth.click(sam, view, label="Next →")
        pages.append(view.text)
    assert len(pages) >= 3
    assert sorted(set(ids_in(pages))) == world.week_slot_ids  # all 42 slots, none twice
    assert len(claim_ids) == len(world.week_slot_ids)  # every slot has open places

    # A Claim button on a later page works, also after a restart.
    await hearth.restart()
    newcomer = world.supporters[-1]
    theirs = await hearth.slash(newcomer, hearth.general, "rota view", rota=world.rota_name, week=1)
    while not any(c.custom_id == claim_ids[-1] for c in theirs.components):
        await hearth.click(newcomer, theirs, label="Next →")
    claimed = await hearth.click(newcomer, theirs, custom_id=claim_ids[-1])
    assert "You're on" in claimed.content, claimed.content
    claimers = await bot_of(hearth).db.fetchall(
        "SELECT user_id FROM rota_claims WHERE slot_id = ?", (world.week_slot_ids[-1],)
    )
    assert newcomer.id in [row["user_id"] for row in claimers]

    mine = await hearth.slash(sam, hearth.general, "rota mine", ics=True)
    assert mine.file("hearth-shifts.ics")
    shifts = await every_page(hearth, sam, mine)
    assert len(shifts) > 1
    assert sorted(set(ids_in(shifts))) == world.sam_slot_ids
    calendar = mine.file("hearth-shifts.ics").data.decode()
    assert calendar.count("BEGIN:VEVENT") == len(world.sam_slot_ids)  # still there after paging

    coverage = await hearth.slash(
        hearth.coordinator, hearth.general, "rota coverage", rota=world.rota_name, weeks=3
    )
    gaps = await every_page(hearth, hearth.coordinator, coverage)
    assert sorted(set(ids_in(gaps))) == world.slot_ids

    trained = await hearth.slash(hearth.coordinator, hearth.general, "rota training list")
    training_pages = await every_page(hearth, hearth.coordinator, trained)
    assert len(training_pages) > 1
    seen = "\n".join(training_pages)
    assert all(f"<@{p.id}>" in seen for p in [sam, *world.supporters])

    # A year of weekly slots at once: the confirmation lists every one, over several messages.
    added = await hearth.slash(
        hearth.coordinator, hearth.general, "rota slots add", rota=world.rota_name,
        start="sun 23:00", duration="30m", repeat_weeks=52,
    )  # fmt: skip
    await hearth.wait_for(
        lambda: len(ids_in([added.text, *(m.text for m in added.followups)])) == 52,
        what="all 52 new slots in the confirmation",
    )
    # 136 upcoming slots now: typing a number still finds one far down the list.
    newest = max(ids_in([added.text, *(m.text for m in added.followups)]))
    found = await hearth.autocomplete(sam, hearth.general, "rota claim", "slot", f"#{newest}")
    assert [c["value"] for c in found] == [str(newest)]

    hearth.clock.advance(timedelta(weeks=1, hours=1))
    onduty = await hearth.slash(hearth.member, hearth.general, "rota onduty")
    assert "On duty now" in onduty.text

    choices = await hearth.autocomplete(sam, hearth.general, "rota release", "slot", "")
    assert len(choices) == 25

    # A coordinator's pages re-check the role on every press, as the command did.
    hearth.guild.set_member_roles(hearth.coordinator, [])
    refused = await hearth.click(hearth.coordinator, trained, label="← Previous")
    assert refused.ephemeral and "Only coordinators" in refused.content
    no_rejections(hearth)


async def test_helplines_check_ins_and_guidelines_reach_everything(
    hearth: Harness, world: BigWorld
) -> None:
    crisis = await hearth.slash(hearth.member, hearth.general, "crisis")

    def everything(reply: Reply) -> str:
        return "\n".join([reply.text, *(m.text for m in reply.followups)])

    await hearth.wait_for(
        lambda: (
            all(name in everything(crisis) for name in world.helplines)
            and "/support" in everything(crisis)
        ),
        what="every helpline, in as many messages as it takes",
    )
    assert all(m.ephemeral for m in crisis.followups) and crisis.followups

    listed = await hearth.slash(hearth.coordinator, hearth.general, "admin crisis list")
    seen = "\n".join(await every_page(hearth, hearth.coordinator, listed))
    assert all(name in seen for name in world.helplines) and "Keyword watch" in seen

    schedules = await hearth.slash(hearth.coordinator, hearth.general, "checkin schedule list")
    pages = await every_page(hearth, hearth.coordinator, schedules)
    assert len(pages) > 5
    assert sorted(set(ids_in(pages))) == world.schedule_ids
    typed = await hearth.autocomplete(
        hearth.coordinator,
        hearth.general,
        "checkin schedule pause",
        "id",
        f"#{world.schedule_ids[-1]}",
    )
    assert typed and typed[0]["value"] == world.schedule_ids[-1]

    # The longest prompt, posted with its thread; the longest guidelines, posted and pinned.
    before = len(hearth.messages(hearth.general))
    tested = await hearth.slash(
        hearth.coordinator, hearth.general, "checkin schedule test", id=world.schedule_ids[0]
    )
    assert tested.ephemeral
    await hearth.wait_for(lambda: len(hearth.messages(hearth.general)) > before)
    prompt = hearth.messages(hearth.general)[before]
    assert prompt.text.count("how are you doing today?") >= 1 and len(prompt.text) >= 1500
    posted = await hearth.slash(
        hearth.coordinator, hearth.general, "guidelines post", channel=hearth.alerts
    )
    assert posted.ephemeral
    await hearth.wait_for(
        lambda: any(world.guidelines in m.text for m in hearth.messages(hearth.alerts))
    )

    shown = await hearth.slash(hearth.member, hearth.general, "guidelines show")
    assert shown.embeds[0]["description"] == world.guidelines
    history = await hearth.slash(hearth.coordinator, hearth.general, "guidelines history")
    assert "Version 1** — current" in history.text
    no_rejections(hearth)


async def test_admin_help_about_exports_and_my_data(hearth: Harness, world: BigWorld) -> None:
    cora = hearth.coordinator
    audit = await hearth.slash(cora, hearth.general, "admin audit")
    pages = await every_page(hearth, cora, audit, forward="Older →")
    assert len(pages) >= 22
    text = "\n".join(pages)
    assert all(detail[:12] in text for detail in world.audit_details)

    settings = await hearth.slash(cora, hearth.general, "admin settings")
    assert all(f"`{key}`" in settings.text for key in SETTING_KEYS)
    for person in (cora, hearth.member):
        helped = await hearth.slash(person, hearth.general, "help")
        assert "/group" in helped.text and "/crisis" in helped.text
    about = await hearth.slash(hearth.member, hearth.general, "about")
    assert f"{len(world.group_names)} groups" in about.text

    exported = await hearth.slash(cora, hearth.general, "admin export")
    [attachment] = exported.files
    with zipfile.ZipFile(io.BytesIO(attachment.data)) as archive:
        tables = json.loads(archive.read("hearth-export.json"))["tables"]
    assert [g["name"] for g in tables["groups"]["rows"]] == world.group_names
    assert len(tables["rota_slots"]["rows"]) == len(world.slot_ids)
    assert len(tables["crisis_resources"]["rows"]) == len(world.helplines)
    assert {row["detail"] for row in tables["audit_log"]["rows"]} >= set(world.audit_details)
    mine = await hearth.slash(hearth.supporter, hearth.general, "mydata show")
    assert "What Hearth stores about you" in mine.text
    no_rejections(hearth)


class TestSignpostsWithTheIntent:
    @pytest.fixture
    def hearth_config(self) -> dict[str, Any]:
        return {"discord": {"message_content": True}}

    async def test_signpost_dms_and_support_replies_carry_every_helpline(
        self, hearth: Harness, world: BigWorld
    ) -> None:
        cora = hearth.coordinator
        await hearth.slash(
            cora, hearth.general, "admin crisis watch-channel", action="add", channel=hearth.general
        )
        await hearth.slash(
            cora, hearth.general, "admin crisis watch-phrase", action="add", phrase="disappear"
        )
        await hearth.slash(cora, hearth.general, "admin crisis watch", state="on")
        await hearth.say(hearth.member, hearth.general, "i just want to disappear")

        def dm_text() -> str:
            return "\n".join(m.text for m in hearth.dms(hearth.member))

        await hearth.wait_for(
            lambda: all(name in dm_text() for name in world.helplines) and "/support" in dm_text(),
            what="every helpline in the signpost DMs",
        )
        assert len(hearth.dms(hearth.member)) > 1

        await bot_of(hearth).settings.update(
            hearth.guild.id, None, support_channel_id=hearth.general.id
        )
        # Someone whose DMs are closed gets the same signpost, all of it, at their next command.
        closed = hearth.guild.add_member("quiet", dms_closed=True)
        await hearth.say(closed, hearth.general, "some days i want to disappear")
        await hearth.wait_for(
            lambda: any(f"<@{closed.id}>" in m.text for m in hearth.messages(hearth.alerts)),
            what="the coordinators' alert, sent after the signpost was held",
        )
        later = await hearth.slash(closed, hearth.general, "about")
        await hearth.wait_for(
            lambda: all(
                name in "\n".join(m.text for m in later.followups) for name in world.helplines
            ),
            what="the held signpost, in full, after their next command",
        )

        asked = await hearth.slash(hearth.member, hearth.general, "support")
        await hearth.wait_for(
            lambda: all(
                name in "\n".join([asked.text, *(m.text for m in asked.followups)])
                for name in world.helplines
            ),
            what="every helpline in the answer to /support (nobody is on duty yet)",
        )
        no_rejections(hearth)


AUTOCOMPLETES: list[tuple[str, str, dict[str, Any]]] = [
    ("group info", "name", {}),
    ("group join", "name", {}),
    ("group members", "name", {}),
    ("guidelines show", "group", {}),
    ("guidelines gate", "group", {}),
    ("checkin schedule pause", "id", {}),
    ("checkin summary", "id", {}),
    ("admin crisis remove", "name", {}),
    ("admin set", "key", {}),
    ("help", "command", {}),
    ("rota view", "rota", {}),
    ("rota claim", "slot", {}),
    ("rota release", "slot", {}),
    ("rota swap offer", "slot", {}),
    ("rota create", "group", {}),
]


async def test_every_autocomplete_stays_within_25_and_typing_reaches_the_rest(
    hearth: Harness, world: BigWorld
) -> None:
    for path, option, others in AUTOCOMPLETES:
        for typed in ("", "1", "Group 3", "#9"):
            choices = await hearth.autocomplete(
                hearth.coordinator, hearth.general, path, option, typed, **others
            )
            assert len(choices) <= 25, (path, typed)
    slots = await hearth.autocomplete(
        hearth.supporter, hearth.general, "rota release", "slot", f"#{world.sam_slot_ids[-1]}"
    )
    assert [c["value"] for c in slots] == [str(world.sam_slot_ids[-1])]
    helplines = await hearth.autocomplete(
        hearth.coordinator, hearth.general, "admin crisis remove", "name", "Helpline 29"
    )
    assert [c["value"] for c in helplines] == [world.helplines[29]]
    no_rejections(hearth)
