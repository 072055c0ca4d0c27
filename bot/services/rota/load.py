"""A fair share: each supporter's shifts, hours and late cover, behind and ahead of now.

Operational figures for coordinators (and each supporter's own in `/rota mine`), computed from
claims as they stand: nothing new is stored. A "late cover" is a shift taken less than a day
before it started (a late release, or a gap nobody had filled, covered at short notice), the
same 24 hours after which a release alerts coordinators.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from bot.db import to_ts
from bot.services.rota.base import RotaPart
from bot.services.rota.claims import SHORT_NOTICE
from bot.services.rota.parsing import week_bounds

MAX_LOAD_WEEKS = 12
DEFAULT_LOAD_WEEKS = 4
CAP_STREAK_WEEKS = 3  # "several weeks running" at the weekly cap
# Flag who took most of the late cover only once there is enough of it to mean something.
MIN_LATE_FOR_FLAG = 3


class Load(BaseModel):
    user_id: int
    past_shifts: int = 0
    past_hours: float = 0.0
    late_covers: int = 0
    ahead_shifts: int = 0
    ahead_hours: float = 0.0
    cap_streak: int = 0  # the longest run of weeks at the cap, behind and ahead

    @property
    def at_cap_for_long(self) -> bool:
        return self.cap_streak >= CAP_STREAK_WEEKS


class LoadReport(BaseModel):
    weeks: int
    since: datetime
    until: datetime
    loads: list[Load]  # most hours behind first
    late_total: int
    most_late_cover: int | None  # the supporter who took more than half of it, if anyone


def _streak(weeks_at_cap: list[bool]) -> int:
    best = run = 0
    for at_cap in weeks_at_cap:
        run = run + 1 if at_cap else 0
        best = max(best, run)
    return best


class LoadPart(RotaPart):
    async def supporter_load(
        self, guild_id: int, weeks: int, zone: ZoneInfo, max_per_week: int,
        user_id: int | None = None,
    ) -> LoadReport:  # fmt: skip
        """Figures from the start of the week `weeks` back to the end of the week `weeks` ahead."""
        now = self._clock.now()
        this_week, _ = week_bounds(now, zone)
        since, _ = week_bounds(this_week - timedelta(weeks=weeks), zone)
        _, until = week_bounds(this_week + timedelta(weeks=weeks), zone)
        sql = (
            "SELECT c.user_id, c.claimed_at, s.starts_at, s.ends_at FROM rota_claims c "
            "JOIN rota_slots s ON s.id = c.slot_id WHERE s.guild_id = ? AND s.starts_at >= ? "
            "AND s.starts_at < ? AND c.user_id != 0"
        )
        params: list[int] = [guild_id, to_ts(since), to_ts(until)]
        if user_id is not None:
            sql += " AND c.user_id = ?"
            params.append(user_id)
        week_starts: list[int] = []  # Unix seconds: the loop below stays in plain integers
        moment = since
        while moment < until:
            week_starts.append(to_ts(moment))
            moment = week_bounds(moment, zone)[1]
        now_ts, notice = to_ts(now), SHORT_NOTICE.total_seconds()
        loads: dict[int, Load] = {}
        per_week: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for row in await self._db.fetchall(sql, params):
            load = loads.setdefault(row["user_id"], Load(user_id=row["user_id"]))
            starts = row["starts_at"]
            hours = (row["ends_at"] - starts) / 3600
            if starts < now_ts:
                load.past_shifts += 1
                load.past_hours += hours
            else:
                load.ahead_shifts += 1
                load.ahead_hours += hours
            if starts - row["claimed_at"] < notice:
                load.late_covers += 1
            per_week[row["user_id"]][bisect_right(week_starts, starts) - 1] += 1
        for uid, load in loads.items():
            counts = per_week[uid]
            load.cap_streak = _streak(
                [counts.get(week, 0) >= max_per_week for week in range(len(week_starts))]
            )
        late_total = sum(load.late_covers for load in loads.values())
        most = max(loads.values(), key=lambda load: load.late_covers, default=None)
        most_late = (
            most.user_id
            if most is not None
            and late_total >= MIN_LATE_FOR_FLAG
            and most.late_covers * 2 > late_total
            else None
        )
        ordered = sorted(
            loads.values(), key=lambda load: (-load.past_hours, -load.ahead_hours, load.user_id)
        )
        return LoadReport(
            weeks=weeks, since=since, until=until, loads=ordered, late_total=late_total,
            most_late_cover=most_late,
        )  # fmt: skip
