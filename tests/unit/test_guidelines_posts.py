"""Posted copies and re-post schedules: remembered per channel, claimed exactly once, DST-safe."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.clock import FakeClock
from bot.db import Database
from bot.errors import UserFacingError
from bot.services.guideline_posts import GuidelinePostsService, next_repost_after
from tests.services import seeded_group

GUILD = 111
CORA = 7
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 20, 18, 30, tzinfo=UTC))


@pytest.fixture
def posts(db: Database, clock: FakeClock) -> GuidelinePostsService:
    return GuidelinePostsService(db, clock)


async def test_posts_are_remembered_per_scope_and_channel_and_forgotten(
    posts: GuidelinePostsService,
) -> None:
    await posts.remember_post(GUILD, None, 10, 1001, 1, CORA)
    await posts.remember_post(GUILD, None, 11, 1002, 1, CORA)
    assert [p.message_id for p in await posts.posts(GUILD, None)] == [1001, 1002]
    assert [p.message_id for p in await posts.posts(GUILD, None, 11)] == [1002]
    await posts.post_updated(GUILD, 1001, 2)
    assert (await posts.posts(GUILD, None, 10))[0].version == 2
    assert await posts.forget_post(GUILD, 1001)
    assert not await posts.forget_post(GUILD, 1001)
    assert [p.message_id for p in await posts.posts(GUILD, None)] == [1002]


async def test_a_schedule_starts_n_days_later_at_the_same_local_time(
    posts: GuidelinePostsService, clock: FakeClock
) -> None:
    schedule = await posts.set_repost(GUILD, None, 10, 7, LONDON, CORA)
    # 18:30 GMT on 20 March; a week later London is on BST, still 18:30 local.
    assert schedule.local_time == "18:30"
    assert schedule.next_due_at == datetime(2026, 3, 27, 18, 30, tzinfo=UTC)
    again = await posts.set_repost(GUILD, None, 10, 14, LONDON, CORA)
    assert again.id == schedule.id and again.every_days == 14
    assert await posts.next_repost_due() == datetime(2026, 4, 3, 17, 30, tzinfo=UTC)
    with pytest.raises(UserFacingError):
        await posts.set_repost(GUILD, None, 10, 0, LONDON, CORA)


def test_next_occurrence_keeps_local_time_across_dst_and_skips_missed_ones() -> None:
    due = datetime(2026, 3, 27, 18, 30, tzinfo=UTC)  # 18:30 GMT
    after = next_repost_after(due, due, 7, "18:30", LONDON)
    assert after == datetime(2026, 4, 3, 17, 30, tzinfo=UTC)  # 18:30 BST
    offline_until = due + timedelta(days=30)
    later = next_repost_after(due, offline_until, 7, "18:30", LONDON)
    assert later > offline_until and later - offline_until <= timedelta(days=7)
    assert later.astimezone(LONDON).strftime("%H:%M") == "18:30"


async def test_an_occurrence_is_claimed_exactly_once(
    posts: GuidelinePostsService, clock: FakeClock
) -> None:
    schedule = await posts.set_repost(GUILD, None, 10, 1, LONDON, CORA)
    clock.advance(timedelta(days=1))
    due = await posts.due_reposts(clock.now())
    assert [d.id for d in due] == [schedule.id]
    following = next_repost_after(due[0].next_due_at, clock.now(), 1, "18:30", LONDON)
    wins = await asyncio.gather(*(posts.claim_repost(due[0], following) for _ in range(10)))
    assert sum(wins) == 1
    assert await posts.due_reposts(clock.now()) == []


async def test_stopping_removes_every_schedule_in_the_channel(
    posts: GuidelinePostsService, db: Database
) -> None:
    group_id = await seeded_group(db, GUILD, "Carers")
    await posts.set_repost(GUILD, None, 10, 7, LONDON, CORA)
    await posts.set_repost(GUILD, group_id, 10, 3, LONDON, CORA)
    await posts.set_repost(GUILD, None, 11, 7, LONDON, CORA)
    assert await posts.stop_reposts(GUILD, 10) == 2
    assert await posts.stop_reposts(GUILD, 10) == 0
    remaining = await db.fetchall("SELECT channel_id FROM guideline_reposts")
    assert [row["channel_id"] for row in remaining] == [11]
