"""Services as tests build them, and seeding through them: on the test's own store, at the moment
the test chooses. Seeding goes through the services the commands use (never a raw INSERT), so
a column added to a table later breaks no test."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.clock import Clock, FakeClock, SystemClock
from bot.db import Database
from bot.services.group_membership import MembershipService
from bot.services.groups import GroupService
from bot.services.rota import RotaService


def rota_service(db: Database, at: datetime | None = None) -> RotaService:
    """The rota service with its clock stopped at `at`: rules that depend on the time (rest,
    notice, expiry) are tested at exact moments. Without `at`, the time doesn't matter."""
    return RotaService(db, FakeClock(at) if at else SystemClock())


async def seeded_group(
    db: Database,
    guild_id: int,
    name: str = "Carers circle",
    *,
    role_id: int = 999,
    members: Iterable[int] = (),
    clock: Clock | None = None,
) -> int:
    """A group as `/group create` stores it, with `members` joined as `/group join` would: its
    id. No Discord is involved (the role is only an id)."""
    clock = clock or SystemClock()
    group = await GroupService(db, clock).create(
        guild_id, 1, name=name, description="", capacity=None, meets=None, role_id=role_id,
        channel_id=None,
    )  # fmt: skip
    joining = MembershipService(db, clock)
    for user_id in members:
        await joining.join(guild_id, group.id, user_id)
    return group.id
