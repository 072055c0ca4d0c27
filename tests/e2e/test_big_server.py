"""The big-server world end to end: every list, panel and menu stays within Discord's limits
(the fake refuses anything over them) and still reaches every item."""

from __future__ import annotations

import time

from tests.bigworld import build_big_world
from tests.harness import Harness


async def test_world_builds(hearth: Harness) -> None:
    started = time.perf_counter()
    world = await build_big_world(hearth)
    print(f"built in {time.perf_counter() - started:.2f}s")
    assert len(world.group_names) >= 30
