"""Queries of the pauses table: when the engineer stopped recording, and for how long."""

from __future__ import annotations

import sqlite3

# A pause with neither an end nor a planned end lasts until resumed.
_FOREVER = 1e18
# The pause in force at a moment: not ended, planned end (if any) not reached.
_ACTIVE = "ended_at IS NULL AND (ends_at IS NULL OR ends_at > ?)"


def windows(conn: sqlite3.Connection) -> list[tuple[float, float]]:
    """Every pause as (start, end); a pause still running ends at its planned end or never."""
    rows = conn.execute(
        "SELECT started_at, COALESCE(ended_at, ends_at, ?) FROM pauses", (_FOREVER,)
    ).fetchall()
    return [(float(a), float(b)) for a, b in rows]


def start_or_extend(conn: sqlite3.Connection, now: float, ends: float | None) -> None:
    """Pauses from `now` until `ends` (None: until resumed); pausing again while paused moves
    the planned end."""
    row = conn.execute(f"SELECT id FROM pauses WHERE {_ACTIVE}", (now,)).fetchone()
    if row is not None:
        conn.execute("UPDATE pauses SET ends_at = ? WHERE id = ?", (ends, row[0]))
    else:
        conn.execute("INSERT INTO pauses(started_at, ends_at) VALUES (?, ?)", (now, ends))


def end(conn: sqlite3.Connection, now: float) -> float | None:
    """Ends the pause in force (returns when it started, None if there was none); pauses that
    ran out on their own end at their planned time."""
    row = conn.execute(f"SELECT id, started_at FROM pauses WHERE {_ACTIVE}", (now,)).fetchone()
    if row is not None:
        conn.execute("UPDATE pauses SET ended_at = ? WHERE id = ?", (now, row[0]))
    conn.execute(
        "UPDATE pauses SET ended_at = ends_at WHERE ended_at IS NULL AND ends_at <= ?", (now,)
    )
    return None if row is None else float(row[1])


def latest(conn: sqlite3.Connection, limit: int) -> list[sqlite3.Row]:
    """The latest pauses (id, started_at, ends_at, ended_at), newest first."""
    return conn.execute(
        "SELECT id, started_at, ends_at, ended_at FROM pauses ORDER BY started_at DESC LIMIT ?",
        (limit,),
    ).fetchall()


def ended(conn: sqlite3.Connection, now: float) -> list[sqlite3.Row]:
    """Pauses resumed, or past their planned end at `now`: rows of id, started_at and ended
    (the actual end, else the planned one)."""
    return conn.execute(
        "SELECT id, started_at, COALESCE(ended_at, ends_at) AS ended FROM pauses"
        " WHERE ended_at IS NOT NULL OR (ends_at IS NOT NULL AND ends_at <= ?)",
        (now,),
    ).fetchall()
