"""Peer-supporter rotas: slots, claims, swaps, training, on-duty and the timers around them.

Discord-free; cogs/rota is the glue. Other features use `on_duty` and `next_shift_start`.
"""

from bot.services.rota.claims import (
    LAST_PLACE_TAKEN,
    NOT_SUPPORTER,
    TRAINING_MISSING,
    claim_slot,
    close_debrief,
    my_shifts,
    offer_swap,
    release_claim,
    shift_by_claim,
    take_swap,
    withdraw_swap,
)
from bot.services.rota.duty import next_shift_start, on_duty
from bot.services.rota.ics import shifts_calendar
from bot.services.rota.models import (
    OnDutyShift,
    Released,
    Rota,
    Shift,
    Slot,
    SwapTaken,
    Training,
)
from bot.services.rota.rotas import (
    add_slots,
    count_rotas,
    coverage_gaps,
    create_rota,
    find_group_id,
    find_rota,
    find_slot,
    get_rota,
    get_slot,
    group_names,
    parse_slot_id,
    remove_slot,
    rota_names,
    slots_between,
    upcoming_slots,
)
from bot.services.rota.training import grant_training, list_training, revoke_training

__all__ = [
    "LAST_PLACE_TAKEN",
    "NOT_SUPPORTER",
    "TRAINING_MISSING",
    "OnDutyShift",
    "Released",
    "Rota",
    "Shift",
    "Slot",
    "SwapTaken",
    "Training",
    "add_slots",
    "claim_slot",
    "close_debrief",
    "count_rotas",
    "coverage_gaps",
    "create_rota",
    "find_group_id",
    "find_rota",
    "find_slot",
    "get_rota",
    "get_slot",
    "grant_training",
    "group_names",
    "list_training",
    "my_shifts",
    "next_shift_start",
    "offer_swap",
    "on_duty",
    "parse_slot_id",
    "release_claim",
    "remove_slot",
    "revoke_training",
    "rota_names",
    "shift_by_claim",
    "shifts_calendar",
    "slots_between",
    "take_swap",
    "upcoming_slots",
    "withdraw_swap",
]
