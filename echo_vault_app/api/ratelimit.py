"""Token buckets keyed by user name or client address, for logins and other password checks.

Each key has a bucket of ``burst`` tokens that refills at ``per_minute``; a try takes one
token, and an empty bucket answers how long until the next token. The table is bounded: when
it is full, the fullest buckets (those that would have refilled anyway) are dropped first, so
a flood of made-up user names cannot grow memory without limit.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable

MAX_KEYS = 10_000
PROBE = 8
"""Entries of the shared table a key may occupy: its hash picks a group of this many."""
_ENTRY = struct.Struct("=Qdd")  # key hash, tokens, time of the last take


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


class SharedTokenBuckets:
    """The same buckets in memory shared by the server's worker processes.

    Made before the workers are forked: the table is an anonymous shared mapping and the lock
    a process-shared semaphore, so a login refused in one worker is refused in all of them and
    ``--workers N`` does not multiply an attacker's tries by N. Keys are hashed with a key
    drawn at start-up into a fixed table (``slots`` entries, probed in groups of
    :data:`PROBE`); when a key's group is full, the fullest bucket in it is replaced, as
    :class:`TokenBuckets` drops its fullest buckets. The hash key keeps anyone from choosing
    names that share a victim's bucket.
    """

    def __init__(
        self,
        burst: int,
        per_minute: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        slots: int = 16_384,
    ) -> None:
        import mmap
        import multiprocessing
        import secrets

        self.burst = float(burst)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._slots = slots
        self._table = mmap.mmap(-1, slots * _ENTRY.size)  # shared and anonymous: fork keeps it
        self._lock = multiprocessing.get_context("fork").Lock()
        self._hash_key = secrets.token_bytes(16)

    def _digest(self, key: str) -> int:
        import hashlib

        raw = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), key=self._hash_key,
                              digest_size=8).digest()  # fmt: skip
        return int.from_bytes(raw, "big") | 1  # 0 marks an empty entry

    def _level(self, tokens: float, stamp: float, now: float) -> float:
        return min(self.burst, tokens + (now - stamp) * self.rate)

    def take(self, key: str) -> float:
        """Take a token; returns 0 when allowed, else the seconds to wait before retrying."""
        digest = self._digest(key)
        start = (digest % self._slots) // PROBE * PROBE
        with self._lock:
            now = self._clock()
            slot, fullest, fullest_level = None, start, -1.0
            for index in range(start, start + PROBE):
                owner, tokens, stamp = _ENTRY.unpack_from(self._table, index * _ENTRY.size)
                if owner == digest:
                    slot, level = index, self._level(tokens, stamp, now)
                    break
                level = self.burst if owner == 0 else self._level(tokens, stamp, now)
                if level > fullest_level:
                    fullest, fullest_level = index, level
            else:
                slot, level = fullest, self.burst
            if level < 1.0:
                _ENTRY.pack_into(self._table, slot * _ENTRY.size, digest, level, now)
                return (1.0 - level) / self.rate if self.rate > 0 else float("inf")
            _ENTRY.pack_into(self._table, slot * _ENTRY.size, digest, level - 1.0, now)
            return 0.0
