"""What every feature service is built from: the store and the clock.

`HearthBot.service(kind)` builds each feature's service as `kind(db, clock)`, once; a service
that needs nothing more than that subclasses `Service` rather than spelling the pair out again.
"""

from __future__ import annotations

from bot.clock import Clock
from bot.db import Database


class Service:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
