"""429s on demand and an optional global limit, shaped so discord.py handles them as real ones.

discord.py only retries a 429 that carries `Via` (otherwise it assumes a Cloudflare ban and raises),
and reads `retry_after`/`global` from the JSON body. Successful responses carry generous bucket
headers so discord.py neither serialises requests nor pre-emptively sleeps.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections import deque
from dataclasses import dataclass

from aiohttp import web


@dataclass
class RateLimitRule:
    method: str
    pattern: re.Pattern[str]
    retry_after: float
    global_: bool
    remaining: int
    status: int = 429  # or a server error (5xx) to answer instead of a 429


class RateLimiter:
    def __init__(self) -> None:
        self.rules: list[RateLimitRule] = []
        self.hits: list[tuple[str, str, bool]] = []  # (method, path, global) of every 429 sent
        self.per_second: int | None = None
        self.window = 1.0
        self._window: deque[float] = deque()
        # Per bot token: arrival times of counted requests in the last second, and the most
        # seen in any sliding second (what Discord's global limit is measured against).
        self._arrivals: dict[str, deque[float]] = {}
        self.max_per_second: dict[str, int] = {}

    def limit_next(
        self, method: str, path_regex: str, retry_after: float, global_: bool, count: int
    ) -> None:
        self.rules.append(
            RateLimitRule(method.upper(), re.compile(path_regex), retry_after, global_, count)
        )

    def fail_next(self, method: str, path_regex: str, status: int, count: int) -> None:
        pattern = re.compile(path_regex)
        self.rules.append(RateLimitRule(method.upper(), pattern, 0, False, count, status))

    def enforce_global(self, per_second: int | None, window: float = 1.0) -> None:
        self.per_second = per_second
        self.window = window
        self._window.clear()

    def record(self, token: str) -> None:
        """Note one counted request's arrival for `token`, keeping the busiest second's count."""
        now = time.monotonic()
        arrivals = self._arrivals.setdefault(token, deque())
        while arrivals and now - arrivals[0] >= 1.0:
            arrivals.popleft()
        arrivals.append(now)
        self.max_per_second[token] = max(self.max_per_second.get(token, 0), len(arrivals))

    def reset_peaks(self) -> None:
        self._arrivals.clear()
        self.max_per_second.clear()

    def check(
        self, method: str, path: str, *, exempt: bool, token: str | None = None
    ) -> web.Response | None:
        """A 429 response if this request must be refused, else None (and it is counted)."""
        if token is not None and not exempt:
            self.record(token)
        for rule in self.rules:
            if rule.remaining > 0 and rule.method in (method, "*") and rule.pattern.search(path):
                rule.remaining -= 1
                self.rules = [r for r in self.rules if r.remaining > 0]
                if rule.status != 429:
                    self.hits.append((method, path, False))
                    body = {"message": f"{rule.status}: Server Error", "code": 0}
                    return web.json_response(body, status=rule.status)
                return self._too_many(method, path, rule.retry_after, rule.global_)
        if self.per_second is None or exempt:
            return None
        now = time.monotonic()
        while self._window and now - self._window[0] >= self.window:
            self._window.popleft()
        if len(self._window) >= self.per_second:
            return self._too_many(method, path, self.window - (now - self._window[0]), True)
        self._window.append(now)
        return None

    def _too_many(self, method: str, path: str, retry_after: float, global_: bool) -> web.Response:
        self.hits.append((method, path, global_))
        retry_after = max(round(retry_after, 3), 0.001)
        headers = {
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
            "X-RateLimit-Reset-After": f"{retry_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash(method, path),
            "X-RateLimit-Scope": "global" if global_ else "user",
            "Via": "1.1 google",
        }
        if global_:
            headers["X-RateLimit-Global"] = "true"
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": global_,
            "code": 0,
        }
        return web.json_response(body, status=429, headers=headers)


def bucket_hash(method: str, template: str) -> str:
    return hashlib.sha1(f"{method} {template}".encode()).hexdigest()[:16]


def success_headers(method: str, template: str) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": "50",
        "X-RateLimit-Remaining": "49",
        "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
        "X-RateLimit-Reset-After": "1.000",
        "X-RateLimit-Bucket": bucket_hash(method, template),
        "Via": "1.1 google",
    }
