"""The small interface every signal source implements so the daemon can drive it."""

from __future__ import annotations

from typing import Protocol


class Collector(Protocol):
    """Started once, stepped on every tick of the agent loop, stopped on shutdown.

    A collector hands its own observations to the sink it was given (core/sink.py), so that
    each batch commits together with its read positions.
    """

    name: str

    def start(self) -> None:
        """Begins collecting; may first catch up on history (interruptible, see below)."""
        ...

    def step(self, now: float) -> None:
        """One tick of the agent loop at wall-clock time `now`."""
        ...

    def interrupt(self) -> None:
        """Asks a long start() (a catch-up) to return early. Called from a signal handler,
        so it may only set a flag."""
        ...

    def stop(self) -> None:
        """Stops collecting and releases what start() took (threads, watches, connections)."""
        ...
