"""Test helpers: a fresh store, and sessions, segments and outbox rows written straight into it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aitally.core.store import Store, outbox


def new_store(tmp_path: Path) -> Store:
    """An empty, migrated store in the test's own folder."""
    return Store(tmp_path / "store.db")


def add_session(conn: sqlite3.Connection, key: str, *, tool: str = "codex") -> int:
    """A session row; returns its id."""
    cur = conn.execute(
        "INSERT INTO sessions(tool, session_key, surface, created_at) VALUES (?, ?, 'cli', 0)",
        (tool, key),
    )
    return int(cur.lastrowid or 0)


def add_segment(
    conn: sqlite3.Connection,
    session_id: int,
    idx: int,
    started: float,
    ended: float | None,
    *,
    models: dict[str, int] | None = None,
) -> int:
    """A segment (open when `ended` is None) with optional input tokens per model."""
    cur = conn.execute(
        "INSERT INTO segments(session_id, idx, started_at, ended_at, last_seen_at, tok_input)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (session_id, idx, started, ended, ended or started, sum((models or {}).values()) or None),
    )
    segment_id = int(cur.lastrowid or 0)
    for model, tokens in (models or {}).items():
        conn.execute(
            "INSERT INTO segment_models(segment_id, model, input) VALUES (?, ?, ?)",
            (segment_id, model, tokens),
        )
    return segment_id


def add_closed(
    conn: sqlite3.Connection, key: str, started: float, ended: float, *, enqueued: float = 0.0
) -> tuple[int, int, str]:
    """One session with one closed segment, queued in the outbox: (session, segment, record id)."""
    session_id = add_session(conn, key)
    segment_id = add_segment(conn, session_id, 0, started, ended)
    rid = outbox.enqueue(conn, segment_id, "codex", key, 0, started, enqueued or ended)
    return session_id, segment_id, rid
