"""Services as tests build them: on the test's own store, at the moment the test chooses."""

from __future__ import annotations

from datetime import datetime

from bot.clock import FakeClock, SystemClock
from bot.db import Database
from bot.services.rota import RotaService


def rota_service(db: Database, at: datetime | None = None) -> RotaService:
    """The rota service with its clock stopped at `at`: rules that depend on the time (rest,
    notice, expiry) are tested at exact moments. Without `at`, the time doesn't matter."""
    return RotaService(db, FakeClock(at) if at else SystemClock())
