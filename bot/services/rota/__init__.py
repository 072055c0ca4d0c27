"""Peer-supporter rotas: slots, claims, swaps, training, on-duty and the timers around them.

Discord-free; cogs/rota is the glue. `RotaService(db, clock)` is the whole public API, one part
per module so each keeps its SQL beside its rules; other features use its `on_duty` and
`next_shift_start`.
"""

from bot.services.rota.breaks import BreaksPart
from bot.services.rota.claims import LAST_PLACE_TAKEN, NOT_SUPPORTER, TRAINING_MISSING, ClaimsPart
from bot.services.rota.duty import DutyPart
from bot.services.rota.followups import FollowupsPart
from bot.services.rota.ics import shifts_calendar
from bot.services.rota.load import LoadPart
from bot.services.rota.models import (
    OnDutyShift,
    Released,
    Rota,
    Shift,
    Slot,
    SwapTaken,
    Training,
)
from bot.services.rota.reminders import RemindersPart
from bot.services.rota.renewals import RenewalsPart
from bot.services.rota.rotas import RotasPart, parse_slot_id
from bot.services.rota.training import TrainingPart


class RotaService(
    RotasPart,
    ClaimsPart,
    TrainingPart,
    BreaksPart,
    DutyPart,
    FollowupsPart,
    LoadPart,
    RemindersPart,
    RenewalsPart,
):
    """Built once, by `HearthBot.service`, and shared: it holds only the store and the clock."""


__all__ = [
    "LAST_PLACE_TAKEN",
    "NOT_SUPPORTER",
    "TRAINING_MISSING",
    "OnDutyShift",
    "Released",
    "Rota",
    "RotaService",
    "Shift",
    "Slot",
    "SwapTaken",
    "Training",
    "parse_slot_id",
    "shifts_calendar",
]
