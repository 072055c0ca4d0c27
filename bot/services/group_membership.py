"""Joining, leaving and the waitlist of peer groups.

Every change runs in one write transaction, and the place itself is taken by a single guarded
INSERT that counts members and checks the waitlist in the same statement, so N members racing
for the last place produce exactly one member and N-1 waitlist entries, in arrival order.
Nobody jumps the queue: while anyone is waiting, newcomers wait behind them.

Discord's role grant happens after the row is written (the caller's job); if it fails the caller
undoes the row (`undo_join`, `revert_promotion`) so the store never says someone joined when they
did not get the role.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from bot.db import Tx, from_ts, to_ts
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.base import Service
from bot.services.data import PersonColumn, TableData
from bot.services.groups import Group, GroupSummary, to_group

# Takes a place if the group is open, has room and nobody is queueing (params: user, now, group).
_TAKE_PLACE = (
    "INSERT INTO group_members (group_id, guild_id, user_id, joined_at) "
    "SELECT g.id, g.guild_id, :user, :now FROM groups g "
    "WHERE g.id = :group AND g.archived_at IS NULL "
    "AND (g.capacity IS NULL "
    "     OR (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) < g.capacity) "
    "AND NOT EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = g.id AND m.user_id = :user)"
)


GROUP_GONE = N_("That group no longer exists. `/group list` shows the groups.")
ARCHIVED = N_("“{name}” is archived, so it isn't taking new members. Nothing was changed.")
ALREADY_IN = N_("You're already in “{name}”. Nothing was changed.")


class JoinResult(BaseModel):
    status: Literal["joined", "waitlisted"]
    group: Group
    position: int | None = None  # 1 = next in line


class LeaveResult(BaseModel):
    status: Literal["left", "unqueued"]
    group: Group


class Promotion(BaseModel):
    """A member moved from the waitlist into a place, pending their role."""

    group: Group
    user_id: int
    position: int
    queued_at: int


# What became of the role of someone moved up: given; not needed, as they have left the server;
# or refused by Discord (a permission or hierarchy problem a coordinator has to fix).
RoleOutcome = Literal["given", "member_gone", "refused"]
GiveRole = Callable[[Promotion], Awaitable[RoleOutcome]]


class Filled(BaseModel):
    """What `fill_places` did: who is in now, and whose role Discord refused (if anyone)."""

    promoted: list[Promotion]
    refused: Promotion | None = None


class RosterEntry(BaseModel):
    user_id: int
    since: datetime


class Roster(BaseModel):
    members: list[RosterEntry]
    waitlist: list[RosterEntry]


def _group(tx: Tx, guild_id: int, group_id: int) -> Group:
    row = tx.fetchone("SELECT * FROM groups WHERE guild_id = ? AND id = ?", (guild_id, group_id))
    if row is None:
        raise UserFacingError(GROUP_GONE)
    return to_group(row)


_POSITION = (
    "SELECT COUNT(*) FROM group_waitlist w WHERE w.group_id = ? AND w.position <= "
    "(SELECT position FROM group_waitlist WHERE group_id = ? AND user_id = ?)"
)


def _position(tx: Tx, group_id: int, user_id: int) -> int | None:
    return int(tx.fetchval(_POSITION, (group_id, group_id, user_id))) or None


class MembershipService(Service):
    async def check_can_join(self, group: GroupSummary, user_id: int) -> None:
        """Refuse early (before any guidelines are shown) when a join could not go ahead."""
        if group.archived:
            raise UserFacingError(ARCHIVED, name=group.name)
        row = await self._db.fetchone(
            "SELECT EXISTS (SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?) "
            f"AS member, ({_POSITION}) AS position",
            (group.id, user_id, group.id, group.id, user_id),
        )
        assert row is not None
        if row["member"]:
            raise UserFacingError(ALREADY_IN, name=group.name)
        position = int(row["position"]) or None
        if position is not None:
            raise UserFacingError(
                N_(
                    "You're already on the waitlist for “{name}” (number {position} in line). "
                    "I'll DM you when a place opens."
                ),
                name=group.name,
                position=position,
            )

    async def is_member(self, group_id: int, user_id: int) -> bool:
        return bool(
            await self._db.fetchval(
                "SELECT EXISTS (SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?)",
                (group_id, user_id),
            )
        )

    async def position(self, group_id: int, user_id: int) -> int | None:
        value = await self._db.fetchval(_POSITION, (group_id, group_id, user_id))
        return int(value) or None

    async def join(self, guild_id: int, group_id: int, user_id: int) -> JoinResult:
        """Take a place if there is one for this member, otherwise queue them."""
        now = to_ts(self._clock.now())

        def join(tx: Tx) -> JoinResult:
            row = tx.fetchone(
                "SELECT * FROM groups WHERE guild_id = ? AND id = ?", (guild_id, group_id)
            )
            if row is None:
                raise UserFacingError(GROUP_GONE)
            group = to_group(row)
            if group.archived:
                raise UserFacingError(ARCHIVED, name=group.name)
            if tx.fetchone(
                "SELECT 1 FROM group_members WHERE group_id = ? AND user_id = ?",
                (group_id, user_id),
            ):
                raise UserFacingError(ALREADY_IN, name=group.name)
            waiting = _position(tx, group_id, user_id)
            if waiting is not None:
                return JoinResult(status="waitlisted", group=group, position=waiting)
            queue = tx.fetchval(
                "SELECT COUNT(*) FROM group_waitlist WHERE group_id = ?", (group_id,)
            )
            if not queue and tx.execute(
                _TAKE_PLACE, {"user": user_id, "now": now, "group": group_id}
            ):
                return JoinResult(status="joined", group=group)
            tx.execute(
                "INSERT INTO group_waitlist (group_id, guild_id, user_id, queued_at) "
                "VALUES (?, ?, ?, ?)",
                (group_id, guild_id, user_id, now),
            )
            return JoinResult(
                status="waitlisted", group=group, position=_position(tx, group_id, user_id)
            )

        return await self._db.write(join)

    async def undo_join(self, guild_id: int, group_id: int, user_id: int) -> None:
        """The role could not be given: the member did not join after all."""
        await self._db.execute(
            "DELETE FROM group_members WHERE guild_id = ? AND group_id = ? AND user_id = ?",
            (guild_id, group_id, user_id),
        )

    async def leave(
        self, guild_id: int, group_id: int, user_id: int, *, by_coordinator: bool = False
    ) -> LeaveResult:
        """Take a member out of a group, or off its waitlist."""

        def leave(tx: Tx) -> LeaveResult:
            group = _group(tx, guild_id, group_id)
            if tx.execute(
                "DELETE FROM group_members WHERE group_id = ? AND user_id = ?", (group_id, user_id)
            ):
                return LeaveResult(status="left", group=group)
            if tx.execute(
                "DELETE FROM group_waitlist WHERE group_id = ? AND user_id = ?",
                (group_id, user_id),
            ):
                return LeaveResult(status="unqueued", group=group)
            if by_coordinator:
                raise UserFacingError(
                    N_("That member isn't in “{name}” or on its waitlist. Nothing was changed."),
                    name=group.name,
                )
            raise UserFacingError(
                N_(
                    "You aren't in “{name}” or on its waitlist, so there's nothing to leave. "
                    "Nothing was changed."
                ),
                name=group.name,
            )

        return await self._db.write(leave)

    async def promote_next(self, guild_id: int, group_id: int) -> Promotion | None:
        """Give a free place to the first in line; None when nobody waits or nothing is free."""
        now = to_ts(self._clock.now())

        def promote(tx: Tx) -> Promotion | None:
            head = tx.fetchone(
                "SELECT position, user_id, queued_at FROM group_waitlist "
                "WHERE group_id = ? AND guild_id = ? ORDER BY position LIMIT 1",
                (group_id, guild_id),
            )
            if head is None:
                return None
            if not tx.execute(
                _TAKE_PLACE, {"user": head["user_id"], "now": now, "group": group_id}
            ):
                return None
            tx.execute("DELETE FROM group_waitlist WHERE position = ?", (head["position"],))
            return Promotion(
                group=_group(tx, guild_id, group_id),
                position=head["position"],
                user_id=head["user_id"],
                queued_at=head["queued_at"],
            )

        return await self._db.write(promote)

    async def fill_places(self, guild_id: int, group_id: int, give_role: GiveRole) -> Filled:
        """Move people up from the waitlist while places are free, giving each their role.

        Someone who has left the server passes the place on to the next in line. A refused role
        puts that person back at the head of the queue, at their old place, and stops: everyone
        after them would be refused the same role, and nobody may be in without it.
        """
        promoted: list[Promotion] = []
        while (promotion := await self.promote_next(guild_id, group_id)) is not None:
            outcome = await give_role(promotion)
            if outcome == "member_gone":
                await self.undo_join(guild_id, group_id, promotion.user_id)
            elif outcome == "refused":
                await self.revert_promotion(promotion)
                return Filled(promoted=promoted, refused=promotion)
            else:
                promoted.append(promotion)
        return Filled(promoted=promoted)

    async def revert_promotion(self, promotion: Promotion) -> None:
        """The role could not be given: back to the head of the queue, at their old place."""
        group = promotion.group

        def revert(tx: Tx) -> None:
            tx.execute(
                "DELETE FROM group_members WHERE group_id = ? AND user_id = ?",
                (group.id, promotion.user_id),
            )
            tx.execute(
                "INSERT INTO group_waitlist (position, group_id, guild_id, user_id, queued_at) "
                "SELECT ?, id, guild_id, ?, ? FROM groups WHERE id = ? ON CONFLICT DO NOTHING",
                (promotion.position, promotion.user_id, promotion.queued_at, group.id),
            )

        await self._db.write(revert)

    async def forget_member(self, guild_id: int, user_id: int) -> list[int]:
        """A member left the server: out of every group and queue; returns groups now with room."""

        def forget(tx: Tx) -> list[int]:
            left = tx.fetchall(
                "DELETE FROM group_members WHERE guild_id = ? AND user_id = ? RETURNING group_id",
                (guild_id, user_id),
            )
            tx.execute(
                "DELETE FROM group_waitlist WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
            )
            return sorted(row["group_id"] for row in left)

        return await self._db.write(forget)

    async def roster(self, guild_id: int, group_id: int) -> Roster:
        members = await self._db.fetchall(
            "SELECT user_id, joined_at FROM group_members WHERE guild_id = ? AND group_id = ? "
            "ORDER BY joined_at, user_id",
            (guild_id, group_id),
        )
        waiting = await self._db.fetchall(
            "SELECT user_id, queued_at FROM group_waitlist WHERE guild_id = ? AND group_id = ? "
            "ORDER BY position",
            (guild_id, group_id),
        )
        return Roster(
            members=[
                RosterEntry(user_id=r["user_id"], since=from_ts(r["joined_at"])) for r in members
            ],
            waitlist=[
                RosterEntry(user_id=r["user_id"], since=from_ts(r["queued_at"])) for r in waiting
            ],
        )


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData(
        "group_members",
        export="rows",
        people=(PersonColumn("user_id", "delete", N_("group memberships")),),
    ),
    TableData(
        "group_waitlist",
        export="rows",
        people=(PersonColumn("user_id", "delete", N_("waitlist places")),),
    ),
)
