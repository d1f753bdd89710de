"""Queries of the segments, segment_models and segment_outcomes tables: open segments, their
flush, closing, merging.

Token columns are named after `TOKEN_KINDS`; a NULL figure means the tool records no such
kind, so additions keep NULL until some reply records it. Outcome counts are rows of
segment_outcomes, one per recorded kind of `OUTCOME_KINDS`: no row means not recorded.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from aitally.core.wire import TOKEN_KINDS

TokenList = list[int | None]
OutcomeTotals = dict[str, int]


@dataclass(slots=True)
class OpenSegmentRow:
    """The stored part of an open segment that the sessionizer works on; its working copy
    (core/segment_state.py `OpenSegment`) extends it with what a transaction adds."""

    id: int
    started_at: float
    last_activity_at: float | None
    last_seen_at: float
    signals: set[str]
    pids: set[str]


Row = TypeVar("Row", bound=OpenSegmentRow)


@dataclass(frozen=True, slots=True)
class SegmentAdditions:
    """What one transaction adds to an open segment, written at once by `add_to_segment`."""

    started_at: float
    last_seen_at: float
    last_activity_at: float | None
    active: float
    present: float
    turns: int
    signals: str
    pids: str
    tokens: TokenList
    models: dict[str, TokenList]
    outcomes: OutcomeTotals


@dataclass(frozen=True, slots=True)
class IdleSegment:
    """An open segment without activity since before the idle limit."""

    session_id: int
    started_at: float
    last_activity_at: float | None
    last_seen_at: float


def _split(text: str) -> set[str]:
    return set(filter(None, text.split(",")))


def load_open(conn: sqlite3.Connection, session_id: int, kind: type[Row]) -> Row | None:
    """The session's open segment as a `kind` (an OpenSegmentRow or an extension of it), if
    it has one."""
    row = conn.execute(
        "SELECT id, started_at, last_activity_at, last_seen_at, signals, pids FROM segments"
        " WHERE session_id = ? AND ended_at IS NULL",
        (session_id,),
    ).fetchone()
    if row is None:
        return None
    return kind(int(row[0]), row[1], row[2], row[3], _split(row[4]), _split(row[5]))


def add_to_segment(conn: sqlite3.Connection, segment_id: int, add: SegmentAdditions) -> None:
    """Writes a transaction's additions to an open segment and its per-model tokens."""
    sets = ", ".join(
        f"tok_{k} = CASE WHEN ? IS NULL THEN tok_{k} ELSE COALESCE(tok_{k}, 0) + ? END"
        for k in TOKEN_KINDS
    )
    args: list[object] = []
    for v in add.tokens:
        args += [v, v]
    conn.execute(
        "UPDATE segments SET started_at = ?, last_seen_at = ?, last_activity_at = ?,"
        " active_seconds = active_seconds + ?, present_seconds = present_seconds + ?,"
        f" turns = turns + ?, signals = ?, pids = ?, {sets} WHERE id = ?",
        (
            add.started_at,
            add.last_seen_at,
            add.last_activity_at,
            add.active,
            add.present,
            add.turns,
            add.signals,
            add.pids,
            *args,
            segment_id,
        ),
    )
    cols = ", ".join(TOKEN_KINDS)
    upd = ", ".join(
        f"{k} = CASE WHEN excluded.{k} IS NULL THEN {k} ELSE COALESCE({k}, 0) + excluded.{k} END"
        for k in TOKEN_KINDS
    )
    conn.executemany(
        f"INSERT INTO segment_models(segment_id, model, {cols}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        f" ON CONFLICT(segment_id, model) DO UPDATE SET {upd}",
        [(segment_id, model, *values) for model, values in add.models.items()],
    )
    conn.executemany(
        "INSERT INTO segment_outcomes(segment_id, kind, count) VALUES (?, ?, ?)"
        " ON CONFLICT(segment_id, kind) DO UPDATE SET count = count + excluded.count",
        [(segment_id, kind, n) for kind, n in add.outcomes.items()],
    )


def merge_segments(conn: sqlite3.Connection, src: int, dst: int) -> None:
    """Folds open segment `src` into `dst` (a process joining its tool session); src goes."""
    a = conn.execute("SELECT * FROM segments WHERE id = ?", (src,)).fetchone()
    b = conn.execute("SELECT * FROM segments WHERE id = ?", (dst,)).fetchone()
    signals = sorted(_split(a["signals"]) | _split(b["signals"]))
    pids = sorted(_split(a["pids"]) | _split(b["pids"]), key=int)
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
    # `WHERE true`: SQLite's upsert after a SELECT needs a WHERE to parse unambiguously.
    conn.execute(
        "INSERT INTO segment_outcomes(segment_id, kind, count)"
        " SELECT ?, kind, count FROM segment_outcomes WHERE segment_id = ? AND true"
        " ON CONFLICT(segment_id, kind) DO UPDATE SET count = count + excluded.count",
        (dst, src),
    )
    conn.execute("DELETE FROM segments WHERE id = ?", (src,))


def next_index(conn: sqlite3.Connection, session_id: int) -> int:
    """The index the session's next segment gets."""
    row = conn.execute(
        "SELECT COALESCE(MAX(idx) + 1, 0) FROM segments WHERE session_id = ?", (session_id,)
    ).fetchone()
    return int(row[0])


def insert_segment(conn: sqlite3.Connection, session_id: int, started_at: float, at: float) -> int:
    """Opens a new segment of the session; returns its id."""
    cur = conn.execute(
        "INSERT INTO segments(session_id, idx, started_at, last_seen_at, signals, pids)"
        " VALUES (?, ?, ?, ?, '', '')",
        (session_id, next_index(conn, session_id), started_at, at),
    )
    return int(cur.lastrowid or 0)


def move_segment(conn: sqlite3.Connection, segment_id: int, session_id: int) -> None:
    """Moves a segment to another session, as that session's next segment."""
    conn.execute(
        "UPDATE segments SET session_id = ?, idx = ? WHERE id = ?",
        (session_id, next_index(conn, session_id), segment_id),
    )


def close_segment(conn: sqlite3.Connection, segment_id: int, end: float) -> tuple[str, str, int]:
    """Ends the segment at `end` (presence never longer than the segment); returns the
    (tool, session key, index) its upload record id is made of."""
    row = conn.execute(
        "SELECT s.tool, s.session_key, g.idx FROM segments g"
        " JOIN sessions s ON s.id = g.session_id WHERE g.id = ?",
        (segment_id,),
    ).fetchone()
    conn.execute(
        "UPDATE segments SET ended_at = ?, present_seconds = MIN(present_seconds, ? -"
        " started_at) WHERE id = ?",
        (end, end, segment_id),
    )
    return str(row[0]), str(row[1]), int(row[2])


def idle_open_segments(conn: sqlite3.Connection, before: float) -> Sequence[IdleSegment]:
    """Open segments whose last activity (or start, if none) is before `before`."""
    rows = conn.execute(
        "SELECT session_id, started_at, last_activity_at, last_seen_at FROM segments"
        " WHERE ended_at IS NULL AND COALESCE(last_activity_at, started_at) < ?",
        (before,),
    ).fetchall()
    return [IdleSegment(int(r[0]), r[1], r[2], r[3]) for r in rows]


def session_in_use(conn: sqlite3.Connection, tool: str, at: float, idle: float) -> int | None:
    """The session of the tool whose open segment was active last within `idle` seconds of
    `at` (after it too: a tool may write its counts before its process is next scanned), or
    None."""
    row = conn.execute(
        "SELECT g.session_id FROM segments g JOIN sessions s ON s.id = g.session_id"
        " WHERE g.ended_at IS NULL AND s.tool = ? AND g.last_activity_at BETWEEN ? AND ?"
        " ORDER BY g.last_activity_at DESC LIMIT 1",
        (tool, at - idle, at + idle),
    ).fetchone()
    return None if row is None else int(row[0])


def count_open(conn: sqlite3.Connection) -> int:
    """How many segments are open (sessions in use or not yet idle)."""
    return int(conn.execute("SELECT COUNT(*) FROM segments WHERE ended_at IS NULL").fetchone()[0])


def segments_with_sessions(
    conn: sqlite3.Connection,
    *,
    since: float | None = None,
    until: float | None = None,
    tool: str | None = None,
    limit: int | None = None,
) -> list[sqlite3.Row]:
    """Segments joined with their session's labels, newest first: those still going at or
    after `since`, started before `until`, of `tool`; at most `limit`."""
    where: list[str] = ["1=1"]
    args: list[object] = []
    if since is not None:
        where.append("COALESCE(g.ended_at, g.last_seen_at) >= ?")
        args.append(since)
    if until is not None:
        where.append("g.started_at < ?")
        args.append(until)
    if tool:
        where.append("s.tool = ?")
        args.append(tool)
    sql = (
        "SELECT g.*, s.tool, s.tool_session_id, s.surface, s.tool_version, s.project"
        " FROM segments g JOIN sessions s ON s.id = g.session_id"
        f" WHERE {' AND '.join(where)} ORDER BY g.started_at DESC, g.id DESC"
    )
    if limit:
        sql += f" LIMIT {int(limit)}"
    return conn.execute(sql, args).fetchall()


def models_of(conn: sqlite3.Connection, segment_ids: Sequence[int]) -> list[sqlite3.Row]:
    """The per-model token rows of these segments."""
    if not segment_ids:
        return []
    marks = ",".join("?" * len(segment_ids))
    return conn.execute(
        f"SELECT * FROM segment_models WHERE segment_id IN ({marks})", list(segment_ids)
    ).fetchall()


def outcomes_of(conn: sqlite3.Connection, segment_ids: Sequence[int]) -> dict[int, OutcomeTotals]:
    """The outcome counts of these segments, by segment id (segments without any left out)."""
    out: dict[int, OutcomeTotals] = {}
    for chunk in range(0, len(segment_ids), 500):  # within SQLite's bound-parameter limit
        ids = list(segment_ids[chunk : chunk + 500])
        marks = ",".join("?" * len(ids))
        for r in conn.execute(
            "SELECT segment_id, kind, count FROM segment_outcomes"
            f" WHERE segment_id IN ({marks}) ORDER BY segment_id, kind",
            ids,
        ):
            out.setdefault(int(r[0]), {})[str(r[1])] = int(r[2])
    return out


def tools_seen(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Per tool: sessions (`n`), the last moment seen (`last`) and its signals (`signals`)."""
    return conn.execute(
        "SELECT s.tool, COUNT(DISTINCT s.id) AS n, MAX(COALESCE(g.ended_at, g.last_seen_at))"
        " AS last, GROUP_CONCAT(g.signals) AS signals FROM sessions s"
        " LEFT JOIN segments g ON g.session_id = s.id GROUP BY s.tool"
    ).fetchall()
