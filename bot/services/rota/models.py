"""What the rota service hands to cogs and to other features (never Discord objects)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from bot.db import Row
from bot.services.rows import model_of


class Rota(BaseModel):
    id: int
    guild_id: int
    name: str
    group_id: int | None
    needed: int
    requires_training: bool


class Slot(BaseModel):
    id: int
    guild_id: int
    rota_id: int
    rota_name: str
    needed: int
    starts_at: datetime
    ends_at: datetime
    claimers: list[int] = []
    swap_offers: list[int] = []

    @property
    def open_places(self) -> int:
        return max(0, self.needed - len(self.claimers))


class Shift(BaseModel):
    """One supporter's claim on a slot."""

    claim_id: int
    user_id: int
    slot: Slot
    swap_offered: bool = False
    # Set when the claim was just made: the earliest of the reminders scheduled with it, so the
    # caller can wake the dispatcher without another read.
    first_timer_due: datetime | None = None


class Released(BaseModel):
    slot: Slot
    claim_id: int
    short_notice: bool


class SwapTaken(BaseModel):
    shift: Shift
    from_user_id: int


class OnDutyShift(BaseModel):
    """Who is on duty now and until when; the safety feature routes requests with this."""

    user_id: int
    slot_id: int
    rota_name: str
    starts_at: datetime
    ends_at: datetime


class Training(BaseModel):
    user_id: int
    granted_by: int
    granted_at: datetime
    expires_at: datetime | None

    def valid_at(self, moment: datetime) -> bool:
        return self.expires_at is None or self.expires_at > moment


def training_of(row: Row) -> Training:
    return model_of(Training, row)
