"""Per-sender rate limiting: a token bucket, so a flooding sender is told to wait (429).

Why per sender: one misbehaving PI system must not take the intake away from
another, and the sender is known (authenticated) before anything is read. A
bucket holds at most ``burst`` requests and refills ``rate_per_s`` a second;
an empty bucket answers with the seconds until the next request fits
(``Retry-After``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class Emmers:
    """One token bucket per key, thread-safe; ``clock`` is injectable for tests."""

    def __init__(self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        if not rate_per_s > 0 or burst < 1:
            raise ValueError("rate_per_s > 0 en burst >= 1")
        self.rate = rate_per_s
        self.burst = float(burst)
        self._clock = clock
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def neem(self, key: str) -> int:
        """Take one request from ``key``'s bucket: 0 when allowed, else whole seconds to wait (>= 1)."""
        with self._lock:
            now = self._clock()
            tokens, at = self._state.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return 0
            self._state[key] = (tokens, now)
            return max(1, math.ceil((1.0 - tokens) / self.rate))
