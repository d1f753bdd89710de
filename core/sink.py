"""Where collectors hand their observations: the sink interface and the read positions it commits.

Collectors never write the store themselves. They pass each batch of observations, together
with the file positions read up to and the counters of what was skipped, to an
`ObservationSink`; the agent supplies one (the sessionizer) that commits all of it in one
transaction, so a crash neither loses nor double-counts a line (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from aitally.core.observation import Observation

# (counter name, reason, amount): e.g. ("file_skipped", "claude-code/line_too_long", 1).
Counter = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class FilePosition:
    """A tailer's committed read position, saved with the observations it produced."""

    path: str
    tool: str
    offset: int
    dev: int | None = None
    ino: int | None = None
    size: int | None = None
    mtime: float | None = None
    state: str | None = None


class ObservationSink(Protocol):
    """Takes a batch of observations and commits it with its positions and counters, or not at
    all (an exception leaves nothing committed, and the caller reads the batch again)."""

    def apply(
        self,
        observations: Iterable[Observation],
        *,
        positions: Sequence[FilePosition] = (),
        counters: Iterable[Counter] = (),
        now: float | None = None,
    ) -> None:
        """Commits the batch; `now` also closes segments idle since before `now`."""
        ...
