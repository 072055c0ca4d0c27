"""The capacity benchmark's search finds the rate a bot sustains, on a simulated bot.

The figures themselves are never pass/fail, but a search that stopped at the wrong step, or
counted a stalled step as met, would print a confident wrong number; these pin its rules.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench import capacity
from bench.capacity import Plan, Search, Step


def simulated(limit: float, stalls: set[float] | None = None) -> tuple[list[float], Any]:
    """A `_step` for a bot that answers in time up to `limit`/s; each rate in `stalls` misses
    once (a neighbour's stall) and is met when tried again."""
    tried: list[float] = []
    stalled = set(stalls or ())

    async def step(harness: Any, act: Any, rate: float, seconds: float) -> Step:
        tried.append(rate)
        if rate in stalled:
            stalled.discard(rate)
            return Step(rate, rate, rate, 400.0)
        return Step(rate, rate, min(rate, limit), 5.0 if rate <= limit else 120.0)

    return tried, step


async def test_doubles_then_bisects_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    tried, step = simulated(limit=1000)
    monkeypatch.setattr(capacity, "_step", step)
    found = await capacity.search(None, None, Plan(2.0, 3, 1))  # type: ignore[arg-type]  # unused
    assert found.rate == 1000
    assert found.missed is not None and found.missed.rate == 1100
    # a warm-up, doubling from 100 until a miss, then 1200, 1000, 1100; each miss tried twice
    assert tried == [100, 100, 200, 400, 800, 1600, 1600, 1200, 1200, 1000, 1100, 1100]


async def test_a_single_stall_does_not_end_the_search(monkeypatch: pytest.MonkeyPatch) -> None:
    tried, step = simulated(limit=1000, stalls={400})
    monkeypatch.setattr(capacity, "_step", step)
    found = await capacity.search(None, None, Plan(2.0, 0, 1))  # type: ignore[arg-type]  # unused
    assert found.rate == 800
    assert tried.count(400) == 2


def test_a_step_is_met_only_in_time_at_the_offered_rate_and_never_cut() -> None:
    assert Step(500, 480, 480, 49.0).ok
    assert not Step(500, 480, 480, 50.0).ok  # p99 at the limit
    assert not Step(500, 400, 400, 5.0).ok  # the fake could not offer the rate
    assert not Step(500, 500, 300, 5.0, cut=True).ok  # answers fell behind: stopped early
    assert "offered only 400/s" in Step(500, 400, 400, 5.0).why()


def test_the_best_search_counts_and_the_others_are_shown() -> None:
    low, high = Search(best=Step(400, 400, 400, 9.0)), Search(best=Step(800, 800, 800, 20.0))
    best, others = capacity._best([low, high])
    assert best is high
    assert others == " (best of 2 searches: 400, 800/s)"
    assert Search().describe().startswith("< 100/s")
