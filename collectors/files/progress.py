"""A one-line progress bar on a terminal for the history catch-up; silent otherwise."""

from __future__ import annotations

import sys
import time


class Progress:
    """Bytes read out of a total, drawn at most every `every` seconds."""

    def __init__(self, total: int, *, enabled: bool, every: float = 0.2) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.enabled = enabled and total > 0
        self.every = every
        self._last = 0.0

    def advance(self, n: int) -> None:
        """Counts n more bytes read and redraws the bar if due."""
        self.done += n
        now = time.monotonic()
        if self.enabled and now - self._last >= self.every:
            self._last = now
            pct = min(100.0, 100.0 * self.done / self.total)
            width = 30
            fill = int(width * pct / 100)
            sys.stderr.write(
                f"\raitally: reading tool history [{'#' * fill}{'.' * (width - fill)}] "
                f"{pct:5.1f}% {self.done / 1e6:,.0f}/{self.total / 1e6:,.0f} MB"
            )
            sys.stderr.flush()

    def close(self) -> None:
        """Clears the bar."""
        if self.enabled:
            sys.stderr.write("\r" + " " * 79 + "\r")
            sys.stderr.flush()
