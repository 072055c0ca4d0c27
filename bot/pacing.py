"""Keep Hearth's REST requests under Discord's global limit instead of bouncing off it.

Discord allows a bot about 50 requests per second in total (interaction callbacks and webhooks
excepted) and answers more with global 429s. discord.py retries a 429 only five times, so a big
fan-out (10,000 check-ins due in the same minute) that leans on the limit has requests refused
five times in a row, and those check-ins — already claimed — would be lost. Waiting for a free
place in a sliding one-second window costs nothing below the limit and turns a burst into a
steady stream at it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from discord.http import HTTPClient, Route

# A little under Discord's 50/s, and never two requests closer than SPACING: a burst sent all at
# once reaches Discord bunched up (late), which can tip its window over even when ours is not.
REQUESTS_PER_SECOND = 47
WINDOW_SECONDS = 1.0
SPACING_SECONDS = 0.01
EXEMPT_PREFIXES = ("/interactions/", "/webhooks/")


class RequestPacer:
    def __init__(
        self,
        per_window: int = REQUESTS_PER_SECOND,
        window: float = WINDOW_SECONDS,
        spacing: float = SPACING_SECONDS,
    ) -> None:
        self.per_window = per_window
        self.window = window
        self.spacing = spacing
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def wait_turn(self) -> None:
        """Return once one more request fits in the last `window` seconds (first come first)."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            while True:
                now = loop.time()
                while self._sent and now - self._sent[0] >= self.window:
                    self._sent.popleft()
                if self._sent and now - self._sent[-1] < self.spacing:
                    await asyncio.sleep(self._sent[-1] + self.spacing - now)
                elif len(self._sent) < self.per_window:
                    self._sent.append(now)
                    return
                else:
                    await asyncio.sleep(self._sent[0] + self.window - now)

    def install(self, http: HTTPClient) -> None:
        """Route every counted request of this client through `wait_turn` first."""
        original = http.request

        async def paced_request(route: Route, **kwargs: Any) -> Any:
            if not route.path.startswith(EXEMPT_PREFIXES):
                await self.wait_turn()
            return await original(route, **kwargs)

        http.request = paced_request  # type: ignore[method-assign]  # wraps discord.py's client in place
