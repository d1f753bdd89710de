"""Queries of the sessions, live_processes and usage_seen tables, for the sessionizer.

Every function runs inside the caller's transaction (`Store.transaction()`), so a batch of
observations lands together with its read positions or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SessionRow:
    """A session's id and the two labels observations may fill in later."""

    id: int
    surface: str | None
    tool_version: str | None


@dataclass(frozen=True, slots=True)
class LiveProcess:
    """A tool process the agent saw alive at its last scan."""

    pid: int
    create_time: float
    tool: str
    last_seen: float


def claim_call(conn: sqlite3.Connection, tool: str, call_id: str, signal: str, at: float) -> bool:
    """Claims one billed API call (the tool's request id) for one signal (transcript, otlp).

    True when the call is unclaimed or already this signal's (a later copy of the same reply
    in the same source); False when another signal counted it first, so it is not doubled.
    One row per call, the claiming signal in its column: a first claim, the common case of a
    catch-up, is one insert.
    """
    key = f"call:{call_id}"
    if conn.execute(
        "INSERT OR IGNORE INTO usage_seen(tool, dedup_key, at, signal) VALUES (?, ?, ?, ?)",
        (tool, key, at, signal),
    ).rowcount:
        return True
    row = conn.execute(
        "SELECT signal FROM usage_seen WHERE tool = ? AND dedup_key = ?", (tool, key)
    ).fetchone()
    return row is not None and row[0] == signal


def mark_usage_seen(
    conn: sqlite3.Connection, replies: Sequence[tuple[str, str, float]]
) -> set[tuple[str, str]]:
    """Records replies' (tool, dedup key, at); returns the (tool, key) pairs not counted
    before (a re-read or a copy is not returned; a key twice in `replies` once).

    One prepared statement per key: the sessionizer's share of a catch-up took 13 % fewer
    instructions so than with one statement per batch over `json_each`, whose JSON SQLite
    parses again for every column of every row (bench/README.md, File collectors)."""
    fresh: set[tuple[str, str]] = set()
    for tool, key, at in replies:
        if conn.execute(
            "INSERT OR IGNORE INTO usage_seen(tool, dedup_key, at) VALUES (?, ?, ?)",
            (tool, key, at),
        ).rowcount:
            fresh.add((tool, key))
    return fresh


def grow_usage(
    conn: sqlite3.Connection, tool: str, key: str, figures: Sequence[int | None], at: float
) -> list[int | None] | None:
    """What `figures` add over the largest counted before under (tool, key), kind by kind,
    keeping the larger; None when they add nothing (a copy, or the smaller of two)."""
    row = conn.execute(
        "SELECT figures FROM usage_seen WHERE tool = ? AND dedup_key = ?", (tool, key)
    ).fetchone()
    have: list[int | None] = [None] * len(figures)
    if row is not None and row[0]:
        try:
            kept = json.loads(row[0])
        except ValueError:
            kept = None
        if isinstance(kept, list) and len(kept) == len(figures):
            have = [v if isinstance(v, int) else None for v in kept]
    grown = [
        None if f is None else max(0, f - (h or 0)) for f, h in zip(figures, have, strict=True)
    ]
    if row is not None and not any(grown):
        return None
    largest = [h if f is None else max(f, h or 0) for f, h in zip(figures, have, strict=True)]
    conn.execute(
        "INSERT INTO usage_seen(tool, dedup_key, at, figures) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(tool, dedup_key) DO UPDATE SET figures = excluded.figures",
        (tool, key, at, json.dumps(largest)),
    )
    return grown


def find_session(conn: sqlite3.Connection, tool: str, key: str) -> SessionRow | None:
    """The session of (tool, session key), if it exists."""
    row = conn.execute(
        "SELECT id, surface, tool_version FROM sessions WHERE tool = ? AND session_key = ?",
        (tool, key),
    ).fetchone()
    return None if row is None else SessionRow(int(row[0]), row[1], row[2])


def label_session(
    conn: sqlite3.Connection, session_id: int, surface: str | None, version: str | None
) -> None:
    """Fills a missing surface and takes a newer tool version."""
    conn.execute(
        "UPDATE sessions SET surface = COALESCE(surface, ?),"
        " tool_version = COALESCE(?, tool_version) WHERE id = ?",
        (surface, version, session_id),
    )


def insert_session(
    conn: sqlite3.Connection,
    tool: str,
    key: str,
    tool_session_id: str | None,
    surface: str | None,
    version: str | None,
) -> int:
    """A new session; returns its id."""
    cur = conn.execute(
        "INSERT INTO sessions(tool, session_key, tool_session_id, surface, tool_version,"
        " created_at) VALUES (?, ?, ?, ?, ?, strftime('%s','now'))",
        (tool, key, tool_session_id, surface, version),
    )
    return int(cur.lastrowid or 0)


def adopt_surface(conn: sqlite3.Connection, source: int, target: int) -> None:
    """Gives `target` the surface of `source` (a process joining a session): what was observed
    of the process wins over what the tool's files claim (Codex writes `vscode` in a terminal)."""
    conn.execute(
        "UPDATE sessions SET surface = COALESCE((SELECT surface FROM"
        " sessions WHERE id = ?), surface) WHERE id = ?",
        (source, target),
    )


def set_surface(conn: sqlite3.Connection, session_id: int, surface: str) -> None:
    """Labels a session with the surface its process was observed on."""
    conn.execute("UPDATE sessions SET surface = ? WHERE id = ?", (surface, session_id))


def delete_if_empty(conn: sqlite3.Connection, session_id: int) -> None:
    """Removes a session left without segments (its process joined another session)."""
    conn.execute(
        "DELETE FROM sessions WHERE id = ? AND NOT EXISTS"
        " (SELECT 1 FROM segments WHERE session_id = ?)",
        (session_id, session_id),
    )


def live_process_session(conn: sqlite3.Connection, pid: int, create_time: float) -> int | None:
    """The session a live process counts for; None when the process is new here.

    A process whose session was pruned meanwhile is forgotten and counts as new, so it starts
    a fresh session instead of failing every scan.
    """
    row = conn.execute(
        "SELECT session_id FROM live_processes WHERE pid = ? AND create_time = ?",
        (pid, create_time),
    ).fetchone()
    if row is not None and row[0] is None:
        conn.execute(
            "DELETE FROM live_processes WHERE pid = ? AND create_time = ?", (pid, create_time)
        )
        return None
    return None if row is None else int(row[0])


def insert_live_process(
    conn: sqlite3.Connection, pid: int, create_time: float, tool: str, session_id: int, at: float
) -> None:
    """Starts tracking a tool process first seen at `at`."""
    conn.execute(
        "INSERT INTO live_processes(pid, create_time, tool, session_id, first_seen,"
        " last_seen) VALUES (?, ?, ?, ?, ?, ?)",
        (pid, create_time, tool, session_id, at, at),
    )


def touch_live_process(conn: sqlite3.Connection, pid: int, create_time: float, at: float) -> None:
    """The process was seen alive again at `at`."""
    conn.execute(
        "UPDATE live_processes SET last_seen = ? WHERE pid = ? AND create_time = ?",
        (at, pid, create_time),
    )


def remove_live_process(conn: sqlite3.Connection, pid: int, create_time: float) -> int | None:
    """Stops tracking an exited process; returns its session id (None if untracked or none)."""
    row = conn.execute(
        "DELETE FROM live_processes WHERE pid = ? AND create_time = ? RETURNING session_id",
        (pid, create_time),
    ).fetchone()
    return None if row is None or row[0] is None else int(row[0])


def session_has_live_process(conn: sqlite3.Connection, session_id: int) -> bool:
    """Whether another process of the session still runs."""
    row = conn.execute("SELECT 1 FROM live_processes WHERE session_id = ?", (session_id,))
    return row.fetchone() is not None


def process_session(conn: sqlite3.Connection, pid: int, tool: str) -> tuple[int, str] | None:
    """(session id, session key) of a live process of `tool`, for linking it to the tool's own
    session id."""
    row = conn.execute(
        "SELECT lp.session_id, s.session_key FROM live_processes lp"
        " JOIN sessions s ON s.id = lp.session_id WHERE lp.pid = ? AND lp.tool = ?",
        (pid, tool),
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def move_live_process(conn: sqlite3.Connection, pid: int, tool: str, target: int) -> None:
    """Re-points one live process of `tool` to session `target`."""
    conn.execute(
        "UPDATE live_processes SET session_id = ? WHERE pid = ? AND tool = ?", (target, pid, tool)
    )


def move_live_processes(conn: sqlite3.Connection, source: int, target: int) -> None:
    """Re-points the processes of session `source` to session `target`."""
    conn.execute("UPDATE live_processes SET session_id = ? WHERE session_id = ?", (target, source))


def live_processes(conn: sqlite3.Connection) -> list[LiveProcess]:
    """Every process tracked as alive, e.g. to reconcile those that died while the agent was
    down."""
    rows = conn.execute("SELECT pid, create_time, tool, last_seen FROM live_processes")
    return [LiveProcess(int(r[0]), float(r[1]), str(r[2]), float(r[3])) for r in rows]


def live_process_sessions(conn: sqlite3.Connection) -> list[tuple[int, float, int]]:
    """(pid, create time, session id) of every process tracked as alive that counts for a
    session, e.g. to find the folder each session works in."""
    rows = conn.execute(
        "SELECT pid, create_time, session_id FROM live_processes WHERE session_id IS NOT NULL"
    )
    return [(int(r[0]), float(r[1]), int(r[2])) for r in rows]
