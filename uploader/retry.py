"""When to try next: full-jitter backoff, Retry-After, auth pauses, kept across restarts."""

from __future__ import annotations

import email.utils
import hashlib
import json
import random
from dataclasses import asdict, dataclass, field
from typing import Any

from aitally.core.store import Store

KV_KEY = "upload_state"


@dataclass
class State:
    """The upload state kept in the store across restarts: waits, pause and last results."""

    not_before: float = 0.0  # wall clock, so a restart keeps honouring the server
    delay: float = 0.0  # the wait that set not_before: bounds it when the clock moves back
    failures: int = 0
    from_server: bool = False  # the wait is the server's Retry-After: even `upload` honours it
    paused: dict[str, Any] | None = None  # {"status", "at", "credential"} after a 401/403
    last_attempt: float | None = None
    last_success: float | None = None
    last_error: str | None = None
    last_batch: dict[str, Any] | None = field(default=None)

    def remaining(self, now: float) -> float:
        """Seconds still to wait. A wall clock that moved back never stretches the wait."""
        left = self.not_before - now
        if left > self.delay:
            self.not_before = now + self.delay
            left = self.delay
        return max(0.0, left)

    def failed(self, now: float, error: str, delay: float, *, from_server: bool = False) -> None:
        """A failed attempt: wait `delay` seconds from `now` before the next."""
        self.failures += 1
        self.delay = delay
        self.not_before = now + delay
        self.from_server = from_server
        self.last_error = error

    def succeeded(self, now: float) -> None:
        """A pass that sent everything: waits, failures and any pause are cleared."""
        self.failures = 0
        self.delay = 0.0
        self.not_before = 0.0
        self.from_server = False
        self.paused = None
        self.last_error = None
        self.last_success = now


def token_fingerprint(token: str) -> str:
    """A pause lifts when the token changes (re-enrollment); only a hash of it is kept."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def load(store: Store) -> State:
    """The saved state; a fresh one when none is saved or it cannot be read."""
    raw = store.kv_get(KV_KEY)
    if not raw:
        return State()
    try:
        data = json.loads(raw)
        return State(**{k: v for k, v in data.items() if k in State.__dataclass_fields__})
    except (ValueError, TypeError):
        return State()


def save(store: Store, state: State) -> None:
    """Saves the state for the next pass and the next start."""
    store.kv_set(KV_KEY, json.dumps(asdict(state), sort_keys=True))


def backoff(failures: int, base: float, cap: float, rng: random.Random) -> float:
    """Full jitter (AWS, Vector): spreads a fleet's retries after an outage."""
    ceiling = min(cap, base * 2 ** min(failures, 32))
    # A floor of a tenth of the base keeps a run of tiny draws from becoming a busy loop.
    return max(base / 10, rng.uniform(0, ceiling))


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds from delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)
