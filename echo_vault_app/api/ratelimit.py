"""Token buckets keyed by user name or client address, for logins and other password checks.

Each key has a bucket of ``burst`` tokens that refills at ``per_minute``; a try takes one
token, and an empty bucket answers how long until the next token. The table is bounded: when
it is full, the fullest buckets (those that would have refilled anyway) are dropped first, so
a flood of made-up user names cannot grow memory without limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MAX_KEYS = 10_000


class TokenBuckets:
    """Thread-safe buckets for one kind of key."""

    def __init__(
        self,
        burst: int,
        per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.burst = float(burst)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _level(self, key: str, now: float) -> float:
        tokens, stamp = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - stamp) * self.rate)

    def take(self, key: str) -> float:
        """Take a token; returns 0 when allowed, else the seconds to wait before retrying."""
        with self._lock:
            now = self._clock()
            tokens = self._level(key, now)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / self.rate if self.rate > 0 else float("inf")
            if key not in self._buckets and len(self._buckets) >= self._max_keys:
                self._evict(now)
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0

    def _evict(self, now: float) -> None:
        by_level = sorted(self._buckets, key=lambda k: self._level(k, now), reverse=True)
        for key in by_level[: max(1, len(by_level) // 10)]:
            del self._buckets[key]
