"""Boundary guidelines: versioned text per scope (the server or one group), who accepted which
version, the copies posted in channels and their re-post schedules.

Versions are never edited: saving appends version N+1, so an acceptance always refers to the
exact text a member agreed to. A scope is the server (`group_id=None`) or one group; the tables
carry a generated `scope_id` (0 for the server) so lookups never compare NULLs.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from pydantic import BaseModel

from bot.db import Tx, from_ts, to_ts
from bot.errors import UserFacingError
from bot.i18n import ENGLISH, N_, Texts
from bot.services.base import Service
from bot.services.data import PersonColumn, TableData
from bot.services.group_names import GroupRef, find_group, group_names
from bot.services.rows import model_of
from bot.services.text import one_line

# Audit actions: "feature.what_happened", lowercase, past tense (stored in audit_log).
AUDIT_GUIDELINES_EDITED = "guidelines.edited"
AUDIT_GUIDELINES_POSTED = "guidelines.posted"
AUDIT_GUIDELINES_REPOST_SCHEDULED = "guidelines.repost_scheduled"
AUDIT_GUIDELINES_REPOST_STOPPED = "guidelines.repost_stopped"
AUDIT_GUIDELINES_GATE_ON = "guidelines.gate_on"
AUDIT_GUIDELINES_GATE_OFF = "guidelines.gate_off"

MAX_LENGTH = 4000
HISTORY_PAGE = 15

# The starting text `/guidelines edit` offers, one catalogue text: a server gets it in its
# language (`starter_template`); what a coordinator then saves is stored and shown as written.
STARTER_TEMPLATE = N_(
    """\
**Peer support is an equal relationship.** We are here as peers: nobody is the expert, nobody \
is in charge of anyone else, and everyone's experience counts the same.

**What is said in the group stays in the group.** Don't share what others tell you, screenshot \
conversations or repeat people's stories elsewhere, even without names.

**Befriending, not friendship.** The support here works because it has clear edges:
- no sexual or romantic relationships between members;
- no lending or borrowing money, and no gifts;
- nothing illegal;
- don't share contact details or arrange to meet in person through the group.

**Look after yourself, and don't over-burden others.** Share at a pace that feels safe, take \
breaks when you need them, and remember the people supporting you have their own lives and \
limits too. It's fine to say "I can't help with that right now".

**Supporters are peers, not therapists or a crisis service.** They listen and share what helped \
them; they can't diagnose, treat or keep anyone safe in an emergency.

**If you need urgent help:** if you or someone else is in immediate danger, call your local \
emergency number (999 in the UK, 911 in the US and Canada, 112 across Europe). For urgent \
emotional support, contact a crisis line such as Samaritans (116 123 in the UK and Ireland) or \
988 (US), or use `/crisis` for the helplines this server lists. Please also tell a coordinator.
"""
)


def starter_template(tr: Texts = ENGLISH) -> str:
    """The starter template in `tr`'s language (a coordinator's starting point, not data: the
    server's language when offered; what a coordinator saves is stored and shown as written)."""
    return tr.gettext(STARTER_TEMPLATE)


class GuidelineVersion(BaseModel):
    guild_id: int
    group_id: int | None
    version: int
    body: str
    edited_by: int
    created_at: datetime


class Acceptance(BaseModel):
    version: int
    newly: bool


class StatusCounts(BaseModel):
    version: int
    accepted_current: int
    accepted_older: int
    accepted_none: int
    population: int


def scope_of(group_id: int | None) -> int:
    return group_id or 0


def group_of(scope_id: int) -> int | None:
    return scope_id or None


def normalise(body: str) -> str:
    """Line endings and trailing spaces differ between clients; they are not a new version."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip()


class GuidelinesService(Service):
    # --- groups (owned by the groups feature; read by name only) ------------------------------
    async def find_group(self, guild_id: int, name: str) -> GroupRef:
        ref = await self._db.read(lambda tx: find_group(tx, guild_id, name))
        if ref is None:
            raise UserFacingError(
                N_("I couldn't find a group called “{name}”. Pick one from the list as you type."),
                name=one_line(name)[:100],
            )
        return ref

    async def group_name(self, guild_id: int, group_id: int) -> str | None:
        name: str | None = await self._db.fetchval(
            "SELECT name FROM groups WHERE guild_id = ? AND id = ?", (guild_id, group_id)
        )
        return name

    async def group_member_ids(self, guild_id: int, group_id: int) -> list[int]:
        rows = await self._db.fetchall(
            "SELECT user_id FROM group_members WHERE guild_id = ? AND group_id = ?",
            (guild_id, group_id),
        )
        return [row["user_id"] for row in rows]

    async def search_groups(self, guild_id: int, typed: str, limit: int = 25) -> list[str]:
        return await self._db.read(lambda tx: group_names(tx, guild_id, typed, limit=limit))

    # --- versions ------------------------------------------------------------------------------
    async def current(self, guild_id: int, group_id: int | None) -> GuidelineVersion | None:
        row = await self._db.fetchone(
            "SELECT * FROM guideline_versions WHERE guild_id = ? AND scope_id = ? "
            "ORDER BY version DESC LIMIT 1",
            (guild_id, scope_of(group_id)),
        )
        return None if row is None else model_of(GuidelineVersion, row)

    async def save(
        self, guild_id: int, group_id: int | None, body: str, editor_id: int
    ) -> GuidelineVersion | None:
        """Append the next version, or return None when the text is unchanged.

        Read and insert share one transaction, so two coordinators saving at once get
        consecutive versions instead of a clash.
        """
        text = normalise(body)
        if not text:
            raise UserFacingError(N_("The guidelines can't be empty. Nothing was saved."))
        if len(text) > MAX_LENGTH:
            raise UserFacingError(
                N_("That's {length:,} characters; the limit is {limit:,}. Nothing was saved."),
                length=len(text),
                limit=MAX_LENGTH,
            )
        now = to_ts(self._clock.now())
        scope = scope_of(group_id)

        def save(tx: Tx) -> int | None:
            latest = tx.fetchone(
                "SELECT version, body FROM guideline_versions WHERE guild_id = ? AND scope_id = ? "
                "ORDER BY version DESC LIMIT 1",
                (guild_id, scope),
            )
            if latest is not None and latest["body"] == text:
                return None
            version: int = 1 if latest is None else latest["version"] + 1
            tx.execute(
                "INSERT INTO guideline_versions "
                "(guild_id, group_id, version, body, edited_by, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (guild_id, group_id, version, text, editor_id, now),
            )
            return version

        version = await self._db.write(save)
        if version is None:
            return None
        return GuidelineVersion(
            guild_id=guild_id,
            group_id=group_id,
            version=version,
            body=text,
            edited_by=editor_id,
            created_at=from_ts(now),
        )

    async def history(
        self, guild_id: int, group_id: int | None, limit: int = HISTORY_PAGE, offset: int = 0
    ) -> tuple[list[GuidelineVersion], int]:
        """A page of versions, newest first, and how many there are in all."""
        scope = scope_of(group_id)
        total = await self._db.fetchval(
            "SELECT COUNT(*) FROM guideline_versions WHERE guild_id = ? AND scope_id = ?",
            (guild_id, scope),
        )
        rows = await self._db.fetchall(
            "SELECT * FROM guideline_versions WHERE guild_id = ? AND scope_id = ? "
            "ORDER BY version DESC LIMIT ? OFFSET ?",
            (guild_id, scope, limit, offset),
        )
        return [model_of(GuidelineVersion, row) for row in rows], int(total)

    # --- acceptance ----------------------------------------------------------------------------
    async def accept(self, guild_id: int, group_id: int | None, version: int, user_id: int) -> bool:
        """Record acceptance of one version; False when this member had already accepted it."""
        inserted = await self._db.execute(
            "INSERT INTO guideline_acceptances (guild_id, group_id, version, user_id, accepted_at) "
            "SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM guideline_versions "
            "WHERE guild_id = ? AND scope_id = ? AND version = ?) "
            "ON CONFLICT DO NOTHING",
            (
                guild_id,
                group_id,
                version,
                user_id,
                to_ts(self._clock.now()),
                guild_id,
                scope_of(group_id),
                version,
            ),
        )
        return inserted == 1

    async def accept_current(self, guild_id: int, group_id: int | None, user_id: int) -> Acceptance:
        current = await self.current(guild_id, group_id)
        if current is None:
            raise UserFacingError(N_("There are no guidelines to accept here yet."))
        newly = await self.accept(guild_id, group_id, current.version, user_id)
        return Acceptance(version=current.version, newly=newly)

    async def has_accepted(
        self, guild_id: int, group_id: int | None, version: int, user_id: int
    ) -> bool:
        found = await self._db.fetchval(
            "SELECT 1 FROM guideline_acceptances WHERE guild_id = ? AND scope_id = ? "
            "AND user_id = ? AND version = ?",
            (guild_id, scope_of(group_id), user_id, version),
        )
        return found is not None

    async def pending(self, guild_id: int, user_id: int, group_id: int) -> list[GuidelineVersion]:
        """What this member must accept before joining: the server's text, then the group's."""
        # One read: each scope's current version this member has not accepted, unless the
        # group's gate is off (`gate_enabled`, `current`, `has_accepted` in one statement).
        rows = await self._db.fetchall(
            "SELECT v.* FROM guideline_versions v "
            "WHERE v.guild_id = :guild AND v.scope_id IN (:server, :group) "
            "AND NOT EXISTS (SELECT 1 FROM guideline_gate_off o "
            "                WHERE o.group_id = :group AND o.guild_id = :guild) "
            "AND v.version = (SELECT MAX(c.version) FROM guideline_versions c "
            "                 WHERE c.guild_id = :guild AND c.scope_id = v.scope_id) "
            "AND NOT EXISTS (SELECT 1 FROM guideline_acceptances a WHERE a.guild_id = :guild "
            "                AND a.scope_id = v.scope_id AND a.user_id = :user "
            "                AND a.version = v.version) "
            "ORDER BY v.scope_id != :server",
            {"guild": guild_id, "server": scope_of(None), "group": scope_of(group_id),
             "user": user_id},
        )  # fmt: skip
        return [model_of(GuidelineVersion, row) for row in rows]

    async def status(
        self,
        guild_id: int,
        group_id: int | None,
        *,
        member_ids: Collection[int] | None = None,
        population: int | None = None,
    ) -> StatusCounts:
        """Counts over `member_ids` when known, else over a head count (`population`)."""
        current = await self.current(guild_id, group_id)
        if current is None:
            raise UserFacingError(N_("There are no guidelines here yet, so nothing to count."))
        rows = await self._db.fetchall(
            "SELECT user_id, MAX(version) AS latest FROM guideline_acceptances "
            "WHERE guild_id = ? AND scope_id = ? GROUP BY user_id",
            (guild_id, scope_of(group_id)),
        )
        latest = {row["user_id"]: row["latest"] for row in rows}
        if member_ids is not None:
            members = set(member_ids)
            latest = {user: v for user, v in latest.items() if user in members}
            population = len(members)
        on_current = sum(1 for v in latest.values() if v == current.version)
        on_older = len(latest) - on_current
        total = max(population or 0, on_current + on_older)
        return StatusCounts(
            version=current.version,
            accepted_current=on_current,
            accepted_older=on_older,
            accepted_none=total - on_current - on_older,
            population=total,
        )

    # --- the join gate ---------------------------------------------------------------------
    async def gate_enabled(self, guild_id: int, group_id: int) -> bool:
        off = await self._db.fetchval(
            "SELECT 1 FROM guideline_gate_off WHERE group_id = ? AND guild_id = ?",
            (group_id, guild_id),
        )
        return off is None

    async def set_gate(self, guild_id: int, group_id: int, enabled: bool, actor_id: int) -> bool:
        """Turn the gate on or off for a group; False when it already was."""
        if enabled:
            changed = await self._db.execute(
                "DELETE FROM guideline_gate_off WHERE group_id = ? AND guild_id = ?",
                (group_id, guild_id),
            )
        else:
            changed = await self._db.execute(
                "INSERT INTO guideline_gate_off (group_id, guild_id, turned_off_by, turned_off_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (group_id, guild_id, actor_id, to_ts(self._clock.now())),
            )
        return changed == 1


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData.server_setup("guideline_versions", "edited_by", N_("guideline versions you wrote")),
    TableData(
        "guideline_acceptances",
        export="counts",
        why="how many accepted each version, not who",
        count_by=("group_id", "version"),
        people=(PersonColumn("user_id", "delete", N_("guideline acceptances")),),
    ),
    TableData.server_setup(
        "guideline_gate_off", "turned_off_by", N_("guideline gates you turned off")
    ),
)
