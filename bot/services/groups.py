"""Peer groups: the catalogue (create, edit, archive, look up) and the sign-up panels.

Joining, leaving and the waitlist live in `group_membership.py`. A group's name is unique per
server ignoring case and spacing, so "Carers Circle" and "carers  circle" cannot both exist and
members can type either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from bot.db import IntegrityError, Row, Tx, to_ts
from bot.errors import UserFacingError
from bot.i18n import ENGLISH, N_, Texts
from bot.services.audit import Phrase
from bot.services.base import Service
from bot.services.data import TableData
from bot.services.group_names import NAME_MAX, GroupState, clean_name, group_names, name_key
from bot.services.rows import model_of
from bot.services.text import contains_pattern, paragraphs

# Audit actions: "feature.what_happened", lowercase, past tense (stored in audit_log).
AUDIT_GROUP_CREATED = "group.created"
AUDIT_GROUP_EDITED = "group.edited"
AUDIT_GROUP_ARCHIVED = "group.archived"
AUDIT_GROUP_REOPENED = "group.reopened"
AUDIT_GROUP_MEMBER_REMOVED = "group.member_removed"
AUDIT_GROUP_PANEL_POSTED = "group.panel_posted"

DESCRIPTION_MAX = 1000
MEETS_MAX = 100
CAPACITY_MAX = 1000

_SUMMARY_SQL = (
    "SELECT g.*, "
    "(SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS member_count, "
    "(SELECT COUNT(*) FROM group_waitlist w WHERE w.group_id = g.id) AS waitlist_count "
    "FROM groups g"
)


class Group(BaseModel):
    id: int
    guild_id: int
    name: str
    description: str
    capacity: int | None
    meets: str | None
    role_id: int
    channel_id: int | None
    archived_at: datetime | None
    created_at: datetime

    @property
    def archived(self) -> bool:
        return self.archived_at is not None


class GroupSummary(Group):
    """A group with its counts: what members see (never who is in it)."""

    member_count: int
    waitlist_count: int

    @property
    def spaces_left(self) -> int | None:
        """Places free now; None when the group has no limit."""
        if self.capacity is None:
            return None
        return max(0, self.capacity - self.member_count)

    @property
    def full(self) -> bool:
        return self.spaces_left == 0 or self.waitlist_count > 0


class Panel(BaseModel):
    """A sign-up panel: `message_id` is its first message, `parts` all of them in order."""

    message_id: int
    guild_id: int
    channel_id: int
    parts: list[int]


class Unchanged:
    """Marks an edit option the coordinator left out (None already means "no limit")."""


UNCHANGED = Unchanged()


@dataclass(frozen=True)
class Change:
    """One thing an edit changed, as the catalogue's English (marked `N_`) and its values, so
    each reader sees it in their language: the coordinator's reply in theirs (`text(tr)`), the
    audit trail as a template (`phrase`). A value of None is shown as "no limit"."""

    template: str
    values: tuple[tuple[str, str | int | None], ...] = ()

    @property
    def phrase(self) -> Phrase:
        return Phrase(self.template, **{k: NO_LIMIT if v is None else v for k, v in self.values})

    def text(self, tr: Texts = ENGLISH) -> str:
        return self.phrase.render(tr)


NO_LIMIT = Phrase(N_("no limit"))
TOO_LONG_DESCRIPTION = N_("The description can be at most {limit} characters. Nothing was changed.")
TOO_LONG_MEETS = N_("The meeting time can be at most {limit} characters. Nothing was changed.")


def _text(value: str | None, limit: int, too_long: str) -> str | None:
    """`too_long`: the refusal (marked `N_`) naming the field, with a `{limit}` placeholder."""
    if value is None:
        return None
    cleaned = paragraphs(value)
    if len(cleaned) > limit:
        raise UserFacingError(too_long, limit=limit)
    return cleaned or None


def _capacity(value: int | None) -> int | None:
    """0 or nothing means no limit."""
    if value is None or value == 0:
        return None
    if not 1 <= value <= CAPACITY_MAX:
        raise UserFacingError(
            N_("Capacity must be between 1 and {most} (or 0 for no limit). Nothing was changed."),
            most=CAPACITY_MAX,
        )
    return value


def to_group(row: Row) -> Group:
    return model_of(Group, row)


def to_summary(row: Row) -> GroupSummary:
    return model_of(GroupSummary, row)


class GroupService(Service):
    # --- look-ups ------------------------------------------------------------------------------
    async def find(self, guild_id: int, name: str) -> GroupSummary:
        """The group a member typed, or a clear refusal naming what they typed."""
        row = await self._db.fetchone(
            f"{_SUMMARY_SQL} WHERE g.guild_id = ? AND g.name_key = ?", (guild_id, name_key(name))
        )
        if row is None:
            shown = " ".join(name.split())[:NAME_MAX]
            unknown = N_(
                "I couldn't find a group called “{name}”. `/group list` shows the groups here."
            )
            if not shown:
                unknown = N_(
                    "I couldn't find a group called “that”. `/group list` shows the groups here."
                )
            raise UserFacingError(unknown, name=shown)
        return to_summary(row)

    async def get(self, guild_id: int, group_id: int) -> GroupSummary:
        row = await self._db.fetchone(
            f"{_SUMMARY_SQL} WHERE g.guild_id = ? AND g.id = ?", (guild_id, group_id)
        )
        if row is None:
            raise UserFacingError(
                N_("That group no longer exists. `/group list` shows the groups.")
            )
        return to_summary(row)

    async def summaries(
        self, guild_id: int, *, include_archived: bool = False
    ) -> list[GroupSummary]:
        where = "" if include_archived else " AND g.archived_at IS NULL"
        rows = await self._db.fetchall(
            f"{_SUMMARY_SQL} WHERE g.guild_id = ?{where} ORDER BY g.name_key", (guild_id,)
        )
        return [to_summary(row) for row in rows]

    async def names(
        self, guild_id: int, typed: str, *, which: GroupState = "open", limit: int = 25
    ) -> list[str]:
        """Group names containing what was typed, for autocomplete."""
        return await self._db.read(
            lambda tx: group_names(tx, guild_id, typed, which=which, limit=limit)
        )

    async def names_for_member(self, guild_id: int, user_id: int, typed: str) -> list[str]:
        """Groups a member is in or waiting for: what `/group leave` can act on."""
        pattern = contains_pattern(typed)
        rows = await self._db.fetchall(
            "SELECT g.name FROM groups g WHERE g.guild_id = ? AND g.name_key LIKE ? ESCAPE '\\' "
            "AND g.id IN (SELECT group_id FROM group_members WHERE guild_id = ? AND user_id = ? "
            "UNION SELECT group_id FROM group_waitlist WHERE guild_id = ? AND user_id = ?) "
            "ORDER BY g.name_key LIMIT 25",
            (guild_id, pattern, guild_id, user_id, guild_id, user_id),
        )
        return [row["name"] for row in rows]

    async def count_open(self, guild_id: int) -> int:
        return int(
            await self._db.fetchval(
                "SELECT COUNT(*) FROM groups WHERE guild_id = ? AND archived_at IS NULL",
                (guild_id,),
            )
        )

    async def by_role(self, guild_id: int, role_id: int) -> Group | None:
        row = await self._db.fetchone(
            "SELECT * FROM groups WHERE guild_id = ? AND role_id = ?", (guild_id, role_id)
        )
        return None if row is None else to_group(row)

    # --- changes -------------------------------------------------------------------------------
    async def check_name_free(self, guild_id: int, name: str, *, except_id: int = 0) -> str:
        """Refuse a taken name before any role or channel is made for it; returns it cleaned."""
        cleaned = clean_name(name)
        taken = await self._db.fetchval(
            "SELECT name FROM groups WHERE guild_id = ? AND name_key = ? AND id != ?",
            (guild_id, name_key(cleaned), except_id),
        )
        if taken is not None:
            raise UserFacingError(
                N_(
                    "There is already a group called “{name}” (names ignore capitals). "
                    "Please pick another name. Nothing was changed."
                ),
                name=taken,
            )
        return cleaned

    async def check_role_free(self, guild_id: int, role_id: int) -> None:
        owner = await self.by_role(guild_id, role_id)
        if owner is not None:
            raise UserFacingError(
                N_(
                    "That role already belongs to the group “{name}”. Each group needs its own "
                    "role. Nothing was changed."
                ),
                name=owner.name,
            )

    async def create(
        self,
        guild_id: int,
        actor_id: int,
        *,
        name: str,
        description: str,
        capacity: int | None,
        meets: str | None,
        role_id: int,
        channel_id: int | None,
    ) -> Group:
        cleaned = clean_name(name)
        fields = (
            guild_id,
            cleaned,
            name_key(cleaned),
            _text(description, DESCRIPTION_MAX, TOO_LONG_DESCRIPTION) or "",
            _capacity(capacity),
            _text(meets, MEETS_MAX, TOO_LONG_MEETS),
            role_id,
            channel_id,
            to_ts(self._clock.now()),
            actor_id,
        )
        try:
            rows = await self._db.write_fetchall(
                "INSERT INTO groups (guild_id, name, name_key, description, capacity, meets, "
                "role_id, channel_id, created_at, created_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                fields,
            )
        except IntegrityError:
            # Another coordinator created the same name a moment ago.
            await self.check_name_free(guild_id, cleaned)
            raise
        return to_group(rows[0])

    async def edit(
        self,
        guild_id: int,
        group_id: int,
        *,
        new_name: str | None = None,
        description: str | None = None,
        capacity: int | Unchanged | None = UNCHANGED,
        meets: str | None = None,
    ) -> tuple[Group, list[Change]]:
        """Apply the given changes; returns the group and what changed (`Change.text(tr)`)."""
        current = await self.get(guild_id, group_id)
        sets: list[str] = []
        params: list[Any] = []
        changes: list[Change] = []
        if new_name is not None:
            cleaned = await self.check_name_free(guild_id, new_name, except_id=group_id)
            sets += ["name = ?", "name_key = ?"]
            params += [cleaned, name_key(cleaned)]
            changes.append(
                Change(N_("name “{old}” → “{new}”"), (("old", current.name), ("new", cleaned)))
            )
        if description is not None:
            sets.append("description = ?")
            params.append(_text(description, DESCRIPTION_MAX, TOO_LONG_DESCRIPTION) or "")
            changes.append(Change(N_("description")))
        if not isinstance(capacity, Unchanged):
            limit = _capacity(capacity)
            sets.append("capacity = ?")
            params.append(limit)
            values = (("old", current.capacity or None), ("new", limit or None))
            changes.append(Change(N_("capacity {old} → {new}"), values))
        if meets is not None:
            sets.append("meets = ?")
            params.append(_text(meets, MEETS_MAX, TOO_LONG_MEETS))
            changes.append(Change(N_("meeting time")))
        if not sets:
            raise UserFacingError(N_("Tell me at least one thing to change. Nothing was changed."))
        try:
            rows = await self._db.write_fetchall(
                f"UPDATE groups SET {', '.join(sets)} WHERE guild_id = ? AND id = ? RETURNING *",
                [*params, guild_id, group_id],
            )
        except IntegrityError:
            await self.check_name_free(guild_id, new_name or "", except_id=group_id)
            raise
        if not rows:
            raise UserFacingError(N_("That group no longer exists. Nothing was changed."))
        return to_group(rows[0]), changes

    async def archive(self, guild_id: int, group_id: int) -> tuple[Group, list[int]]:
        """Close a group to new joins and close its waitlist; returns who was waiting, in order."""
        now = to_ts(self._clock.now())

        def archive(tx: Tx) -> tuple[Row, list[Row]]:
            row = tx.fetchone(
                "UPDATE groups SET archived_at = ? WHERE guild_id = ? AND id = ? "
                "AND archived_at IS NULL RETURNING *",
                (now, guild_id, group_id),
            )
            if row is None:
                raise UserFacingError(N_("That group is already archived. Nothing was changed."))
            return row, tx.fetchall(
                "DELETE FROM group_waitlist WHERE group_id = ? RETURNING user_id, position",
                (group_id,),
            )

        row, waiting = await self._db.write(archive)
        ordered = sorted(waiting, key=lambda item: item["position"])
        return to_group(row), [item["user_id"] for item in ordered]

    async def reopen(self, guild_id: int, group_id: int) -> Group:
        """Undo `archive`: the group takes joins again (its old waitlist stays closed)."""
        rows = await self._db.write_fetchall(
            "UPDATE groups SET archived_at = NULL WHERE guild_id = ? AND id = ? "
            "AND archived_at IS NOT NULL RETURNING *",
            (guild_id, group_id),
        )
        if not rows:
            raise UserFacingError(
                N_("That group isn't archived: it is already open to joins. Nothing was changed.")
            )
        return to_group(rows[0])

    # --- panels ---------------------------------------------------------------------------------
    async def add_panel(
        self, guild_id: int, channel_id: int, message_ids: list[int], actor_id: int
    ) -> None:
        """Record a panel posted as one message or several (first message first)."""
        now = to_ts(self._clock.now())
        rows = [
            (message_id, guild_id, channel_id, now, actor_id, message_ids[0], part)
            for part, message_id in enumerate(message_ids)
        ]
        await self._db.write(
            lambda tx: tx.executemany(
                "INSERT INTO group_panels "
                "(message_id, guild_id, channel_id, created_at, created_by, panel_id, part) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        )

    async def panels(self, guild_id: int) -> list[Panel]:
        rows = await self._db.fetchall(
            "SELECT message_id, channel_id, panel_id FROM group_panels WHERE guild_id = ? "
            "ORDER BY panel_id, part",
            (guild_id,),
        )
        found: dict[int, Panel] = {}
        for row in rows:
            panel = found.setdefault(
                row["panel_id"],
                Panel(
                    message_id=row["panel_id"],
                    guild_id=guild_id,
                    channel_id=row["channel_id"],
                    parts=[],
                ),
            )
            panel.parts.append(row["message_id"])
        return list(found.values())

    async def set_panel_parts(self, panel: Panel, message_ids: list[int]) -> None:
        """After a refresh added, replaced or removed messages: the panel's messages now.

        The first message never changes here (a panel whose first message is gone is
        forgotten instead), so the panel keeps its identity.
        """

        def replace(tx: Tx) -> None:
            tx.execute(
                "DELETE FROM group_panels WHERE guild_id = ? AND panel_id = ? AND part > 0",
                (panel.guild_id, panel.message_id),
            )
            tx.executemany(
                "INSERT INTO group_panels "
                "(message_id, guild_id, channel_id, created_at, created_by, panel_id, part) "
                "SELECT ?, guild_id, channel_id, created_at, created_by, panel_id, ? "
                "FROM group_panels WHERE guild_id = ? AND message_id = ?",
                [
                    (message_id, part, panel.guild_id, panel.message_id)
                    for part, message_id in enumerate(message_ids)
                    if part > 0
                ],
            )

        await self._db.write(replace)

    async def forget_panel(self, guild_id: int, message_id: int) -> None:
        """Forget a whole panel, by its first message."""
        await self._db.execute(
            "DELETE FROM group_panels WHERE guild_id = ? AND panel_id = ?",
            (guild_id, message_id),
        )


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData.server_setup("groups", "created_by", N_("groups you created")),
    TableData.server_setup("group_panels", "created_by", N_("sign-up panels you posted")),
)
