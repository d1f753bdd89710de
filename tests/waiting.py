"""Waiting for what another process does: a condition polled until true, within a bound."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(cond: Callable[[], object], timeout: float = 30.0, step: float = 0.2) -> object:
    """The condition's first true value, asked every `step` seconds; AssertionError when it
    is still false after `timeout` seconds (a bound generous enough for a loaded machine)."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:.0f} s")
        time.sleep(step)
