"""Back-pressure: a token bucket per device (429) and a cap on batches in flight (503)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class DeviceBuckets:
    """Each device may send `rate` batches per second on average, `burst` at once."""

    def __init__(self, rate: float, burst: float, max_devices: int = 100_000) -> None:
        self.rate = rate
        self.burst = burst
        self._max = max_devices
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}  # device -> (tokens, at)

    def _tokens(self, key: str, now: float) -> float:
        """key's bucket refilled up to now (call with the lock held)."""
        tokens, at = self._state.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - at) * self.rate)

    def take(self, device: str, now: float | None = None) -> float:
        """0 when allowed, else the seconds to wait (for Retry-After)."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens = self._tokens(device, now)
            if tokens >= 1.0:
                if len(self._state) >= self._max and device not in self._state:
                    # Bounded memory: forget full buckets, which carry no information.
                    self._state = {
                        d: s
                        for d, s in self._state.items()
                        if s[0] + (now - s[1]) * self.rate < self.burst
                    }
                self._state[device] = (tokens - 1.0, now)
                return 0.0
            self._state[device] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def wait(self, key: str, now: float | None = None) -> float:
        """The seconds until `key` may take again (0: now), without taking anything."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            tokens = self._tokens(key, time.monotonic() if now is None else now)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate


def retry_after(seconds: float) -> str:
    """A Retry-After header value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


class InFlight:
    """Counts batches being processed; past the limit the server says 503, not queue forever."""

    def __init__(self, limit: int, report: Callable[[int], None] = lambda _n: None) -> None:
        self.limit = limit
        self._n = 0
        self._lock = threading.Lock()
        self._report = report  # told each new count (the metrics gauge)

    def enter(self) -> bool:
        """Takes a slot; False when all are in use."""
        with self._lock:
            if self._n >= self.limit:
                return False
            self._n += 1
            self._report(self._n)
            return True

    def leave(self) -> None:
        """Gives a slot back."""
        with self._lock:
            self._n -= 1
            self._report(self._n)
