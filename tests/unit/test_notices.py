"""Held notices: the in-memory 'may have notices' set never hides a notice, and a stale entry
(rows erased behind the service's back) yields nothing rather than an empty message."""

from __future__ import annotations

from bot.clock import FakeClock
from bot.db import Database
from bot.services.notices import NoticeService


async def test_held_notices_are_taken_once_in_order_and_stale_entries_clear(
    db: Database,
) -> None:
    notices = NoticeService(db, FakeClock())
    await notices.load()
    assert not notices.may_have_pending(7)
    await notices.hold(1, 7, "first")
    await notices.hold(2, 7, "second")
    await notices.hold(1, 8, "erased")
    await db.execute("DELETE FROM pending_notices WHERE user_id = 8")

    reloaded = NoticeService(db, FakeClock())
    await reloaded.load()
    assert reloaded.may_have_pending(7) and not reloaded.may_have_pending(8)

    assert notices.may_have_pending(8)  # stale: erased behind the service's back
    assert await notices.take(8) == []
    assert not notices.may_have_pending(8)
    assert await notices.take(7) == ["first", "second"]
    assert not notices.may_have_pending(7) and await notices.take(7) == []
