"""What every part of the rota service shares: the store and the clock.

The service is one class made of a part per module (claims, breaks, training, …), so each module
keeps its SQL beside its rules. Every part reads the time from the clock once, at the start of a
call, and hands that one `now` down to the transaction functions it runs, so a unit of work never
sees the time move under it.
"""

from __future__ import annotations

from bot.services.base import Service


class RotaPart(Service):
    """One part of the rota service; `RotaService` is all of them over one store and clock."""
