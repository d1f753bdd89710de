"""Open segments: the in-transaction working set (loaded once, flushed once) and merging."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from aitally.core.observation import TOKEN_KINDS

TokenList = list[int | None]


def add_tokens(acc: TokenList, values: TokenList) -> None:
    """None means "not recorded": a kind stays None until some reply records it."""
    for i, v in enumerate(values):
        if v is not None:
            acc[i] = (acc[i] or 0) + v


@dataclass(slots=True)
class OpenSegment:
    """An open segment's row plus what this transaction added to it, not yet written."""

    id: int
    started_at: float
    last_activity_at: float | None
    last_seen_at: float
    signals: set[str]
    pids: set[str]
    active: float = 0.0
    present: float = 0.0
    turns: int = 0
    tokens: TokenList = field(default_factory=lambda: [None] * len(TOKEN_KINDS))
    models: dict[str, TokenList] = field(default_factory=dict)
    dirty: bool = False

    @classmethod
    def load(cls, conn: sqlite3.Connection, session_id: int) -> OpenSegment | None:
        row = conn.execute(
            "SELECT id, started_at, last_activity_at, last_seen_at, signals, pids FROM segments"
            " WHERE session_id = ? AND ended_at IS NULL",
            (session_id,),
        ).fetchone()
        if row is None:
            return None
        return cls(
            int(row[0]),
            row[1],
            row[2],
            row[3],
            set(filter(None, row[4].split(","))),
            set(filter(None, row[5].split(","))),
        )

    def flush(self, conn: sqlite3.Connection) -> None:
        if not self.dirty:
            return
        sets = ", ".join(
            f"tok_{k} = CASE WHEN ? IS NULL THEN tok_{k} ELSE COALESCE(tok_{k}, 0) + ? END"
            for k in TOKEN_KINDS
        )
        args: list[object] = []
        for v in self.tokens:
            args += [v, v]
        conn.execute(
            "UPDATE segments SET started_at = ?, last_seen_at = ?, last_activity_at = ?,"
            " active_seconds = active_seconds + ?, present_seconds = present_seconds + ?,"
            f" turns = turns + ?, signals = ?, pids = ?, {sets} WHERE id = ?",
            (
                self.started_at,
                self.last_seen_at,
                self.last_activity_at,
                self.active,
                self.present,
                self.turns,
                ",".join(sorted(self.signals)),
                ",".join(sorted(self.pids, key=int)),
                *args,
                self.id,
            ),
        )
        cols = ", ".join(TOKEN_KINDS)
        upd = ", ".join(
            f"{k} = CASE WHEN excluded.{k} IS NULL THEN {k}"
            f" ELSE COALESCE({k}, 0) + excluded.{k} END"
            for k in TOKEN_KINDS
        )
        conn.executemany(
            f"INSERT INTO segment_models(segment_id, model, {cols}) VALUES (?, ?, ?, ?, ?, ?, ?)"
            f" ON CONFLICT(segment_id, model) DO UPDATE SET {upd}",
            [(self.id, model, *values) for model, values in self.models.items()],
        )
        self.active = self.present = 0.0
        self.turns = 0
        self.tokens = [None] * len(TOKEN_KINDS)
        self.models = {}
        self.dirty = False


def merge_segments(conn: sqlite3.Connection, src: int, dst: int) -> None:
    """Folds open segment `src` into `dst` (a process joining its tool session); src goes."""
    a = conn.execute("SELECT * FROM segments WHERE id = ?", (src,)).fetchone()
    b = conn.execute("SELECT * FROM segments WHERE id = ?", (dst,)).fetchone()
    signals = sorted(set(filter(None, (a["signals"] + "," + b["signals"]).split(","))))
    pids = sorted(set(filter(None, (a["pids"] + "," + b["pids"]).split(","))), key=int)
    lasts = [x for x in (a["last_activity_at"], b["last_activity_at"]) if x is not None]
    conn.execute(
        "UPDATE segments SET started_at = ?, last_seen_at = ?, last_activity_at = ?,"
        " active_seconds = MAX(active_seconds, ?), present_seconds = present_seconds + ?,"
        " signals = ?, pids = ? WHERE id = ?",
        (
            min(a["started_at"], b["started_at"]),
            max(a["last_seen_at"], b["last_seen_at"]),
            max(lasts) if lasts else None,
            a["active_seconds"],
            a["present_seconds"],
            ",".join(signals),
            ",".join(pids),
            dst,
        ),
    )
    conn.execute("DELETE FROM segments WHERE id = ?", (src,))
