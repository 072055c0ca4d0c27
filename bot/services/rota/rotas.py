"""Rotas and their slots: creating, finding, listing and removing them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.db import Row, Tx, is_row_id, to_ts
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.data import TableData
from bot.services.group_names import find_group, group_names
from bot.services.rota.base import RotaPart
from bot.services.rota.models import Rota, Slot
from bot.services.rota.parsing import name_key
from bot.services.rows import model_of
from bot.services.text import one_line

# Audit actions: "feature.what_happened", lowercase, past tense (stored in audit_log).
AUDIT_ROTA_CREATED = "rota.created"
AUDIT_ROTA_SLOTS_ADDED = "rota.slots_added"
AUDIT_ROTA_SLOTS_REMOVED = "rota.slots_removed"
AUDIT_ROTA_LIMITS_SET = "rota.limits_set"
AUDIT_ROTA_TRAINING_GRANTED = "rota.training_granted"
AUDIT_ROTA_TRAINING_REVOKED = "rota.training_revoked"

MAX_NAME = 80
MAX_NEEDED = 20
MAX_SLOT_LIST = 25
MAX_COVERAGE_WEEKS = 12
# A slot option carries the id from its autocomplete, or what the member typed: "12", "#12", or
# a picker label ("#12 Evening duty …", at most 100 characters as Discord shows choices).
MAX_SLOT_TEXT = 100


SLOT_SELECT = (
    "SELECT s.id, s.guild_id, s.rota_id, s.starts_at, s.ends_at, r.name AS rota_name, r.needed "
    "FROM rota_slots s JOIN rotas r ON r.id = s.rota_id "
)


def load_slots(tx: Tx, where: str, params: Sequence[Any], *, limit: int = 500) -> list[Slot]:
    """Slots matching `where` (on alias `s`), ordered by start, with who has claimed each."""
    rows = tx.fetchall(_slots_sql(where, limit), params)
    if not rows:
        return []
    slots = _slots_from(rows)
    return _with_claims(slots, tx.fetchall(_claims_sql(slots), list(slots)))


def _slots_sql(where: str, limit: int) -> str:
    return f"{SLOT_SELECT} WHERE {where} ORDER BY s.starts_at, s.id LIMIT {int(limit)}"


def _claims_sql(slots: dict[int, Slot]) -> str:
    marks = ",".join("?" * len(slots))
    return (
        f"SELECT slot_id, user_id, swap_offered_at FROM rota_claims WHERE slot_id IN ({marks}) "
        "ORDER BY claimed_at, id"
    )


def _slots_from(rows: list[Row]) -> dict[int, Slot]:
    return {row["id"]: model_of(Slot, row) for row in rows}


def _with_claims(slots: dict[int, Slot], claims: list[Row]) -> list[Slot]:
    for claim in claims:
        slot = slots[claim["slot_id"]]
        slot.claimers.append(claim["user_id"])
        if claim["swap_offered_at"] is not None:
            slot.swap_offers.append(claim["user_id"])
    return list(slots.values())


def find_slot(tx: Tx, guild_id: int, slot_id: int) -> Slot | None:
    if not is_row_id(slot_id):
        return None
    found = load_slots(tx, "s.guild_id = ? AND s.id = ?", (guild_id, slot_id))
    return found[0] if found else None


def get_slot(tx: Tx, guild_id: int, slot_id: int) -> Slot:
    found = find_slot(tx, guild_id, slot_id)
    if found is None:
        raise no_slot(slot_id)
    return found


def known_slot_id(slot_id: int) -> int:
    """A number that can name a slot, or the kind "no such slot": a member can type any number,
    and SQLite cannot even hold some of them."""
    if not is_row_id(slot_id):
        raise no_slot(slot_id)
    return slot_id


def parse_slot_id(text: str) -> int:
    """The slot a member picked or typed: the number at the start, as `#12 …` labels show it."""
    shown = one_line(text)
    cleaned = shown.lstrip("#").split(" ", 1)[0]
    if not cleaned.isascii() or not cleaned.isdecimal():
        raise UserFacingError(
            N_(
                "“{shown}” isn't a slot I know. Pick one from the list as you type, or give its "
                "number (e.g. `12`)."
            ),
            shown=shown,
        )
    return known_slot_id(int(cleaned))


def no_slot(slot_id: int) -> UserFacingError:
    return UserFacingError(
        N_(
            "There's no slot #{slot} on this server (it may have been removed). "
            "`/rota view` shows the current slots."
        ),
        slot=slot_id,
    )


class RotasPart(RotaPart):
    async def slot(self, guild_id: int, slot_id: int) -> Slot:
        """The slot as it stands, or a kind "no such slot" for the member."""
        return await self._db.read(lambda tx: get_slot(tx, guild_id, slot_id))

    async def slot_if_any(self, guild_id: int, slot_id: int) -> Slot | None:
        """For timers, whose slot may have been removed since they were set."""
        return await self._db.read(lambda tx: find_slot(tx, guild_id, slot_id))

    async def find_group_id(self, guild_id: int, name: str) -> int:
        """The id of an open group in this server, by the groups feature's own name rule."""
        group = await self._db.read(lambda tx: find_group(tx, guild_id, name))
        if group is None:
            raise UserFacingError(
                N_("There's no group called “{name}” on this server."), name=one_line(name)
            )
        if group.archived:
            raise UserFacingError(
                N_("“{name}” is archived. `/group reopen` it first if it is meeting again."),
                name=group.name,
            )
        return group.id

    async def open_group_names(self, guild_id: int, typed: str) -> list[str]:
        return await self._db.read(lambda tx: group_names(tx, guild_id, typed))

    async def create_rota(
        self,
        guild_id: int,
        actor_id: int,
        name: str,
        *,
        needed: int = 1,
        group_id: int | None = None,
        requires_training: bool = True,
    ) -> Rota:
        now = self._clock.now()
        cleaned = one_line(name)
        if not cleaned:
            raise UserFacingError(N_("A rota needs a name, such as “Evening duty”."))
        if len(cleaned) > MAX_NAME:
            raise UserFacingError(
                N_("Please keep the rota name under {most} characters."), most=MAX_NAME
            )
        if not 1 <= needed <= MAX_NEEDED:
            raise UserFacingError(
                N_("`needed` can be 1 to {most} supporters per slot."), most=MAX_NEEDED
            )
        rows = await self._db.write_fetchall(
            "INSERT INTO rotas (guild_id, name, name_key, group_id, needed, requires_training, "
            "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (guild_id, name_key) DO NOTHING RETURNING *",
            (guild_id, cleaned, name_key(cleaned), group_id, needed, int(requires_training),
             actor_id, to_ts(now)),
        )  # fmt: skip
        if not rows:
            raise UserFacingError(
                N_("There's already a rota called “{name}”. Pick another name."), name=cleaned
            )
        return model_of(Rota, rows[0])

    async def find_rota(self, guild_id: int, name: str) -> Rota:
        row = await self._db.fetchone(
            "SELECT * FROM rotas WHERE guild_id = ? AND name_key = ?", (guild_id, name_key(name))
        )
        if row is None:
            raise UserFacingError(
                N_("There's no rota called “{name}” here. Pick one from the list as you type."),
                name=name,
            )
        return model_of(Rota, row)

    async def get_rota(self, guild_id: int, rota_id: int) -> Rota:
        """By id, for pages that carry the rota in their buttons; it may be gone since."""
        row = await self._db.fetchone(
            "SELECT * FROM rotas WHERE guild_id = ? AND id = ?", (guild_id, rota_id)
        )
        if row is None:
            raise UserFacingError(
                N_("That rota no longer exists. `/rota view` shows the ones here.")
            )
        return model_of(Rota, row)

    async def rota_names(self, guild_id: int, typed: str) -> list[str]:
        rows = await self._db.fetchall(
            "SELECT name FROM rotas WHERE guild_id = ? AND name_key LIKE ? "
            "ORDER BY name_key LIMIT 25",
            (guild_id, f"%{name_key(typed)}%"),
        )
        return [row["name"] for row in rows]

    async def count_rotas(self, guild_id: int) -> int:
        return int(
            await self._db.fetchval("SELECT COUNT(*) FROM rotas WHERE guild_id = ?", (guild_id,))
        )

    async def add_slots(
        self, rota: Rota, actor_id: int, starts: list[datetime], length: timedelta,
    ) -> tuple[list[Slot], int]:  # fmt: skip
        """Create the slots in one transaction; returns them and how many already existed."""
        now = self._clock.now()

        def add(tx: Tx) -> list[Slot]:
            created: list[int] = []
            for start in starts:
                rows = tx.fetchall(
                    "INSERT INTO rota_slots (guild_id, rota_id, starts_at, ends_at, created_by, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (rota_id, starts_at) DO NOTHING RETURNING id",
                    (rota.guild_id, rota.id, to_ts(start), to_ts(start + length), actor_id,
                     to_ts(now)),
                )  # fmt: skip
                created += [row["id"] for row in rows]
            if not created:
                return []
            return load_slots(tx, f"s.id IN ({','.join('?' * len(created))})", created)

        slots = await self._db.write(add)
        return slots, len(starts) - len(slots)

    async def claim_ids_of(self, guild_id: int, slot_id: int) -> list[int]:
        """The claims on a slot, read before `remove_slot` deletes them so their timers can go."""
        rows = await self._db.fetchall(
            "SELECT id FROM rota_claims WHERE guild_id = ? AND slot_id = ?", (guild_id, slot_id)
        )
        return [int(row["id"]) for row in rows]

    async def remove_slot(self, rota: Rota, slot_id: int) -> Slot:
        """Delete a slot (and its claims); returns it as it was, so its supporters can be told."""

        def remove(tx: Tx) -> Slot:
            slot = get_slot(tx, rota.guild_id, slot_id)
            if slot.rota_id != rota.id:
                raise UserFacingError(
                    N_("Slot #{slot} belongs to “{rota}”, not “{chosen}”."),
                    slot=slot_id,
                    rota=slot.rota_name,
                    chosen=rota.name,
                )
            tx.execute(
                "DELETE FROM rota_slots WHERE id = ? AND guild_id = ?", (slot_id, rota.guild_id)
            )
            return slot

        return await self._db.write(remove)

    async def slots_between(
        self, guild_id: int, start: datetime, end: datetime, rota_id: int | None = None
    ) -> list[Slot]:
        where = "s.guild_id = ? AND s.starts_at >= ? AND s.starts_at < ?"
        params: list[Any] = [guild_id, to_ts(start), to_ts(end)]
        if rota_id is not None:
            where += " AND s.rota_id = ?"
            params.append(rota_id)
        return await self._db.read(lambda tx: load_slots(tx, where, params))

    async def coverage_gaps(self, rota: Rota, weeks: int) -> list[Slot]:
        """Upcoming slots of a rota with fewer supporters than needed, soonest first."""
        now = self._clock.now()
        if not 1 <= weeks <= MAX_COVERAGE_WEEKS:
            raise UserFacingError(N_("`weeks` can be 1 to {most}."), most=MAX_COVERAGE_WEEKS)
        slots = await self.slots_between(rota.guild_id, now, now + timedelta(weeks=weeks), rota.id)
        return [slot for slot in slots if slot.open_places > 0]

    async def upcoming_slots(
        self, guild_id: int, *, user_id: int | None = None,
        swaps_only: bool = False, rota_id: int | None = None, limit: int = MAX_SLOT_LIST,
        number: str | None = None,
    ) -> list[Slot]:  # fmt: skip
        """Slots not yet started, for pickers: all, a member's own, or those offered for swap.

        `number` (digits someone typed) keeps the slots whose number contains them, so a picker
        reaches any slot however many come before it.
        """
        now = self._clock.now()
        where = "s.guild_id = ? AND s.starts_at > ?"
        params: list[Any] = [guild_id, to_ts(now)]
        if number is not None and number.isdigit():
            where += " AND CAST(s.id AS TEXT) LIKE ?"
            params.append(f"%{number}%")
        if user_id is not None:
            where += (
                " AND EXISTS (SELECT 1 FROM rota_claims c WHERE c.slot_id = s.id AND c.user_id = ?)"
            )
            params.append(user_id)
        if swaps_only:
            where += (
                " AND EXISTS (SELECT 1 FROM rota_claims c WHERE c.slot_id = s.id "
                "AND c.swap_offered_at IS NOT NULL)"
            )
        if rota_id is not None:
            where += " AND s.rota_id = ?"
            params.append(rota_id)
        return await self._db.read(lambda tx: load_slots(tx, where, params, limit=limit))


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData.server_setup("rotas", "created_by", N_("rotas you created")),
    TableData.server_setup("rota_slots", "created_by", N_("rota shifts you created")),
)
