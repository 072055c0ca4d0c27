"""Claiming, releasing and swapping shifts, with every rule that protects supporters.

Each change runs its checks and its write inside one `BEGIN IMMEDIATE` transaction, so two
supporters pressing Claim for the last place at once are serialised: exactly one gets it. The
insert itself is also guarded by the slot's current count.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.db import Tx, from_ts, to_ts
from bot.errors import UserFacingError
from bot.i18n import N_
from bot.services.data import PersonColumn, TableData
from bot.services.rota.base import RotaPart
from bot.services.rota.breaks import break_of, judge_break
from bot.services.rota.models import Released, Shift, Slot, SwapTaken
from bot.services.rota.parsing import week_bounds
from bot.services.rota.reminders import cancel_claim_timers_in, claim_timers
from bot.services.rota.rotas import (
    get_slot,
    known_slot_id,
    load_slots,
    no_slot,
)
from bot.services.settings import GuildSettings
from bot.services.text import discord_time
from bot.services.timers import schedule_in

SHORT_NOTICE = timedelta(hours=24)

NOT_SUPPORTER = N_(
    "Only peer supporters can take shifts (members with the supporter role). If you'd like to "
    "help, a coordinator can tell you about becoming one."
)
TRAINING_MISSING = N_(
    "This rota needs supporter training first, and I don't have yours recorded yet. Once you've "
    "done it, a coordinator can add you with `/rota training grant`."
)
LAST_PLACE_TAKEN = N_(
    "Sorry — someone just took the last place on that shift. `/rota coverage` or `/rota view` "
    "shows shifts that still need someone."
)


def _check_training(tx: Tx, slot: Slot, user_id: int, now: datetime) -> None:
    row = tx.one(
        "SELECT r.requires_training, t.user_id IS NOT NULL AS trained, t.expires_at "
        "FROM rotas r LEFT JOIN rota_training t ON t.guild_id = ? AND t.user_id = ? "
        "WHERE r.id = ?",
        (slot.guild_id, user_id, slot.rota_id),
    )
    if row["requires_training"]:
        _judge_training(bool(row["trained"]), row["expires_at"], slot.starts_at, now)


def _judge_training(
    trained: bool, expires_at: int | None, starts_at: datetime, now: datetime
) -> None:
    if not trained:
        raise UserFacingError(TRAINING_MISSING)
    if expires_at is not None and expires_at <= to_ts(now):
        raise UserFacingError(
            N_(
                "Your supporter training expired {day}, so I can't give you shifts until it's "
                "renewed. A coordinator can renew it with `/rota training grant`."
            ),
            day=discord_time(from_ts(expires_at), "D"),
        )
    if expires_at is not None and expires_at <= to_ts(starts_at):
        raise UserFacingError(
            N_(
                "Your supporter training runs out {day}, before this shift starts. Once it's "
                "renewed (`/rota training grant`) you can claim it."
            ),
            day=discord_time(from_ts(expires_at), "D"),
        )


def check_fit(
    tx: Tx, settings: GuildSettings, slot: Slot, user_id: int, now: datetime, *,
    taking_swap: bool = False, was_open: bool = True,
) -> None:  # fmt: skip
    """Refuse, with the reason, a shift this supporter may not (or should not) take.

    The one statement of the claim rules, for a claim and a swap alike; it runs inside the
    write that takes the place, so the rules and the insert see the same data."""
    judge_break(break_of(tx, slot.guild_id, user_id), slot.starts_at, now)
    _check_training(tx, slot, user_id, now)
    _judge_place(
        slot.starts_at, slot.needed, len(slot.claimers), user_id in slot.claimers, now,
        taking_swap=taking_swap, was_open=was_open,
    )  # fmt: skip
    others = load_slots(tx, *_others_filter(settings, slot, user_id))
    _judge_others(settings, slot, others)


def _judge_place(
    starts_at: datetime, needed: int, taken: int, mine: bool, now: datetime, *,
    taking_swap: bool, was_open: bool,
) -> None:  # fmt: skip
    if starts_at <= now:
        raise UserFacingError(
            N_("That shift started {starts}, so it can't be taken any more."),
            starts=discord_time(starts_at, "F"),
        )
    if mine:
        raise UserFacingError(N_("You've already claimed that shift — it's in `/rota mine`."))
    if not taking_swap and taken >= needed:
        if was_open:
            raise UserFacingError(LAST_PLACE_TAKEN)
        raise UserFacingError(
            N_(
                "That shift already has all the supporters it needs ({needed}/{needed}). "
                "Thank you for offering!"
            ),
            needed=needed,
        )


def _others_filter(
    settings: GuildSettings, slot: Slot, user_id: int
) -> tuple[str, tuple[int, ...]]:
    """This supporter's other shifts near `slot`: its week, and the rest time either side."""
    week_start, week_end = week_bounds(slot.starts_at, ZoneInfo(settings.timezone))
    rest = timedelta(hours=settings.min_rest_hours)
    return (
        "s.guild_id = ? AND s.id != ? AND s.starts_at < ? AND s.ends_at > ? AND EXISTS "
        "(SELECT 1 FROM rota_claims c WHERE c.slot_id = s.id AND c.user_id = ?)",
        (slot.guild_id, slot.id, to_ts(max(week_end, slot.ends_at + rest)),
         to_ts(min(week_start, slot.starts_at - rest)), user_id),
    )  # fmt: skip


def _judge_others(settings: GuildSettings, slot: Slot, others: list[Slot]) -> None:
    week_start, week_end = week_bounds(slot.starts_at, ZoneInfo(settings.timezone))
    rest = timedelta(hours=settings.min_rest_hours)
    for other in others:
        if other.starts_at < slot.ends_at and other.ends_at > slot.starts_at:
            raise UserFacingError(
                N_("That shift overlaps another of yours: {rota}, {starts}."),
                rota=other.rota_name,
                starts=discord_time(other.starts_at, "F"),
            )
    in_week = [o for o in others if week_start <= o.starts_at < week_end]
    if len(in_week) >= settings.max_shifts_per_week:
        raise UserFacingError(
            N_(
                "You already have {count} shifts that week, the most this server allows "
                "({most}) so that nobody burns out. Thank you for being so willing — perhaps a "
                "week with fewer shifts?"
            ),
            count=len(in_week),
            most=settings.max_shifts_per_week,
        )
    for other in others:
        if other.starts_at < slot.ends_at + rest and other.ends_at > slot.starts_at - rest:
            raise UserFacingError(
                N_(
                    "That would leave you less than {rest} hours' rest next to your shift "
                    "{rota}, {starts}. Rest between shifts matters; please pick another."
                ),
                rest=settings.min_rest_hours,
                rota=other.rota_name,
                starts=discord_time(other.starts_at, "F"),
            )


_CLAIM_INSERT = (
    "INSERT INTO rota_claims (guild_id, slot_id, user_id, claimed_at) "
    "SELECT ?, ?, ?, ? WHERE (SELECT COUNT(*) FROM rota_claims WHERE slot_id = ?) < ? "
    "RETURNING id"
)


_OWN_CLAIM = "SELECT id FROM rota_claims WHERE guild_id = ? AND slot_id = ? AND user_id = ?"
NOT_YOURS = N_(
    "You haven't claimed that shift, so there's nothing to change. `/rota mine` lists yours."
)


def _own_claim(tx: Tx, guild_id: int, slot_id: int, user_id: int) -> int:
    claim_id = tx.fetchval(_OWN_CLAIM, (guild_id, slot_id, user_id))
    if claim_id is None:
        raise UserFacingError(NOT_YOURS)
    return int(claim_id)


def _not_started(slot: Slot, now: datetime) -> None:
    if slot.starts_at <= now:
        raise UserFacingError(
            N_(
                "That shift has already started. If you can't finish it, please tell a "
                "coordinator directly so they can help."
            )
        )


class ClaimsPart(RotaPart):
    async def claim_slot(
        self,
        settings: GuildSettings,
        guild_id: int,
        slot_id: int,
        user_id: int,
        *,
        is_supporter: bool,
    ) -> Shift:
        now = self._clock.now()
        if not is_supporter:
            raise UserFacingError(NOT_SUPPORTER)
        known_slot_id(slot_id)
        # Whether the member saw a free place before queueing for the writer: losing the race then
        # reads "someone just took it", not "already full". One committed read, off the write lock.
        seen_open = await self._db.fetchval(
            "SELECT r.needed > (SELECT COUNT(*) FROM rota_claims c WHERE c.slot_id = s.id) "
            "FROM rota_slots s JOIN rotas r ON r.id = s.rota_id WHERE s.guild_id = ? AND s.id = ?",
            (guild_id, slot_id),
        )
        if seen_open is None:
            raise no_slot(slot_id)

        def claim(tx: Tx) -> Shift:
            slot = get_slot(tx, guild_id, slot_id)
            check_fit(tx, settings, slot, user_id, now, was_open=bool(seen_open))
            rows = tx.fetchall(
                _CLAIM_INSERT, (guild_id, slot_id, user_id, to_ts(now), slot_id, slot.needed)
            )  # read RETURNING to the end before COMMIT
            if not rows:
                raise UserFacingError(LAST_PLACE_TAKEN)
            slot.claimers.append(user_id)
            shift = Shift(claim_id=rows[0]["id"], user_id=user_id, slot=slot)
            timers = claim_timers(shift, settings.reminder_hours, now)
            schedule_in(tx, guild_id, timers)
            shift.first_timer_due = min(due for _, _, due, _ in timers)
            return shift

        return await self._db.write(claim)

    async def release_claim(self, guild_id: int, slot_id: int, user_id: int) -> Released:
        """End the claim and its reminders and debrief together, in one transaction."""
        now = self._clock.now()
        known_slot_id(slot_id)

        def release(tx: Tx) -> Released:
            slot = get_slot(tx, guild_id, slot_id)
            claim_id = _own_claim(tx, guild_id, slot_id, user_id)
            _not_started(slot, now)
            tx.execute("DELETE FROM rota_claims WHERE id = ?", (claim_id,))
            cancel_claim_timers_in(tx, claim_id)
            slot.claimers.remove(user_id)
            if user_id in slot.swap_offers:
                slot.swap_offers.remove(user_id)
            short_notice = slot.starts_at - now < SHORT_NOTICE
            return Released(slot=slot, claim_id=claim_id, short_notice=short_notice)

        return await self._db.write(release)

    async def offer_swap(self, guild_id: int, slot_id: int, user_id: int) -> Shift:

        now = self._clock.now()

        def offer(tx: Tx) -> Shift:
            slot = get_slot(tx, guild_id, slot_id)
            claim_id = _own_claim(tx, guild_id, slot_id, user_id)
            _not_started(slot, now)
            if not tx.execute(
                "UPDATE rota_claims SET swap_offered_at = ? "
                "WHERE id = ? AND swap_offered_at IS NULL",
                (to_ts(now), claim_id),
            ):
                raise UserFacingError(N_("You've already offered that shift for a swap."))
            slot.swap_offers.append(user_id)
            return Shift(claim_id=claim_id, user_id=user_id, slot=slot, swap_offered=True)

        return await self._db.write(offer)

    async def withdraw_swap(self, guild_id: int, slot_id: int, user_id: int) -> Shift:

        def withdraw(tx: Tx) -> Shift:
            slot = get_slot(tx, guild_id, slot_id)
            claim_id = _own_claim(tx, guild_id, slot_id, user_id)
            tx.execute("UPDATE rota_claims SET swap_offered_at = NULL WHERE id = ?", (claim_id,))
            if user_id in slot.swap_offers:
                slot.swap_offers.remove(user_id)
            return Shift(claim_id=claim_id, user_id=user_id, slot=slot)

        return await self._db.write(withdraw)

    async def take_swap(
        self,
        settings: GuildSettings,
        guild_id: int,
        slot_id: int,
        user_id: int,
        *,
        is_supporter: bool,
    ) -> SwapTaken:
        """Move an offered claim to the taker in one guarded UPDATE; the cover never lapses."""
        now = self._clock.now()
        if not is_supporter:
            raise UserFacingError(NOT_SUPPORTER)

        def take(tx: Tx) -> SwapTaken:
            slot = get_slot(tx, guild_id, slot_id)
            offer = tx.fetchone(
                "SELECT id, user_id FROM rota_claims "
                "WHERE slot_id = ? AND swap_offered_at IS NOT NULL "
                "AND user_id != ? ORDER BY swap_offered_at, id LIMIT 1",
                (slot_id, user_id),
            )
            if offer is None:
                raise UserFacingError(
                    N_(
                        "Nobody is offering that shift for a swap any more — someone may have "
                        "just taken it. `/rota view` shows shifts that still need cover."
                    )
                )
            check_fit(tx, settings, slot, user_id, now, taking_swap=True)
            if not tx.execute(
                "UPDATE rota_claims SET user_id = ?, claimed_at = ?, swap_offered_at = NULL, "
                "debrief_closed_at = NULL "
                "WHERE id = ? AND user_id = ? AND swap_offered_at IS NOT NULL",
                (user_id, to_ts(now), offer["id"], offer["user_id"]),
            ):
                raise UserFacingError(N_("Someone just took that swap. Thank you for offering!"))
            slot.claimers[slot.claimers.index(offer["user_id"])] = user_id
            slot.swap_offers.remove(offer["user_id"])
            return SwapTaken(
                shift=Shift(claim_id=offer["id"], user_id=user_id, slot=slot),
                from_user_id=offer["user_id"],
            )

        return await self._db.write(take)

    async def my_shifts(self, guild_id: int, user_id: int) -> list[Shift]:
        """A supporter's shifts not yet over (including one in progress), soonest first."""
        now = self._clock.now()
        rows = await self._db.fetchall(
            "SELECT c.id, c.slot_id, c.swap_offered_at FROM rota_claims c "
            "JOIN rota_slots s ON s.id = c.slot_id "
            "WHERE c.guild_id = ? AND c.user_id = ? AND s.ends_at > ? "
            "ORDER BY s.starts_at LIMIT 100",
            (guild_id, user_id, to_ts(now)),
        )
        if not rows:
            return []
        marks = ",".join("?" * len(rows))
        slots = {
            slot.id: slot
            for slot in await self._db.read(
                lambda tx: load_slots(tx, f"s.id IN ({marks})", [r["slot_id"] for r in rows])
            )
        }
        return [
            Shift(
                claim_id=row["id"],
                user_id=user_id,
                slot=slots[row["slot_id"]],
                swap_offered=row["swap_offered_at"] is not None,
            )
            for row in rows
        ]

    async def shift_by_claim(self, claim_id: int) -> Shift | None:
        """The claim behind a timer, if it still exists (released or removed claims do not)."""
        row = await self._db.fetchone(
            "SELECT id, guild_id, slot_id, user_id, swap_offered_at FROM rota_claims WHERE id = ?",
            (claim_id,),
        )
        if row is None:
            return None
        slot = await self._db.read(lambda tx: get_slot(tx, row["guild_id"], row["slot_id"]))
        return Shift(
            claim_id=row["id"],
            user_id=row["user_id"],
            slot=slot,
            swap_offered=row["swap_offered_at"] is not None,
        )

    async def close_debrief(self, claim_id: int, user_id: int) -> bool:
        """Whether to act on this answer to the after-shift question: only the first time.

        Only the fact that it was answered is stored, never the answer. If the slot was removed
        since (taking the claim with it) the answer is acted on: a "yes" must never be lost.
        """
        now = self._clock.now()
        if await self._db.execute(
            "UPDATE rota_claims SET debrief_closed_at = ? "
            "WHERE id = ? AND user_id = ? AND debrief_closed_at IS NULL",
            (to_ts(now), claim_id, user_id),
        ):
            return True
        exists = await self._db.fetchval("SELECT 1 FROM rota_claims WHERE id = ?", (claim_id,))
        return exists is None


# What /admin export and /mydata do with this module's tables (bot/services/data.py).
TABLES = (
    TableData(
        "rota_claims",
        export="rows",
        people=(
            PersonColumn(
                "user_id",
                "anonymise",
                N_("rota shifts you took"),
                "coverage counts stay right: 'a former supporter'",
            ),
        ),
    ),
)
