"""The small interface every signal source implements so the daemon can drive it."""

from __future__ import annotations

from typing import Protocol


class Collector(Protocol):
    """Started once, stepped on every tick of the agent loop, stopped on shutdown.

    A collector applies its own observations through the sessionizer, so that each
    batch commits together with its read positions.
    """

    name: str

    def start(self) -> None: ...

    def step(self, now: float) -> None: ...

    def interrupt(self) -> None:
        """Asks a long start() (a catch-up) to return early. Called from a signal handler,
        so it may only set a flag."""
        ...

    def stop(self) -> None: ...
