"""Open segments: the in-transaction working set of the sessionizer (loaded once, flushed once)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from aitally.core.store import segments
from aitally.core.store.segments import (
    OpenSegmentRow,
    OutcomeTotals,
    SegmentAdditions,
    TokenList,
)
from aitally.core.wire import TOKEN_KINDS


def add_tokens(acc: TokenList, values: TokenList) -> None:
    """None means "not recorded": a kind stays None until some reply records it."""
    for i, v in enumerate(values):
        if v is not None:
            acc[i] = (acc[i] or 0) + v


@dataclass(slots=True)
class OpenSegment(OpenSegmentRow):
    """An open segment's row plus what this transaction added to it, not yet written."""

    active: float = 0.0
    present: float = 0.0
    turns: int = 0
    tokens: TokenList = field(default_factory=lambda: [None] * len(TOKEN_KINDS))
    models: dict[str, TokenList] = field(default_factory=dict)
    outcomes: OutcomeTotals = field(default_factory=dict)
    dirty: bool = False

    @classmethod
    def load(cls, conn: sqlite3.Connection, session_id: int) -> OpenSegment | None:
        """The session's open segment, or None."""
        return segments.load_open(conn, session_id, cls)

    def flush(self, conn: sqlite3.Connection) -> None:
        """Writes what this transaction added, then starts counting afresh."""
        if not self.dirty:
            return
        segments.add_to_segment(
            conn,
            self.id,
            SegmentAdditions(
                started_at=self.started_at,
                last_seen_at=self.last_seen_at,
                last_activity_at=self.last_activity_at,
                active=self.active,
                present=self.present,
                turns=self.turns,
                signals=",".join(sorted(self.signals)),
                pids=",".join(sorted(self.pids, key=int)),
                tokens=self.tokens,
                models=self.models,
                outcomes=self.outcomes,
            ),
        )
        self.active = self.present = 0.0
        self.turns = 0
        self.tokens = [None] * len(TOKEN_KINDS)
        self.models = {}
        self.outcomes = {}
        self.dirty = False
