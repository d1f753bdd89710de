"""Reads of closed segments and their per-model tokens, from which upload records are built."""

from __future__ import annotations

import sqlite3

from aitally.core.store.repo_commits import HELD_SEGMENT


def closed_segment(conn: sqlite3.Connection, segment_id: int) -> sqlite3.Row | None:
    """The segment with its session's tool, surface, tool version and project; None when the
    segment is gone or still open."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT g.*, s.tool, s.surface, s.tool_version, s.project FROM segments g"
        " JOIN sessions s ON s.id = g.session_id WHERE g.id = ? AND g.ended_at IS NOT NULL",
        (segment_id,),
    ).fetchone()
    return row


def segment_models(conn: sqlite3.Connection, segment_id: int) -> list[sqlite3.Row]:
    """The segment's token figures per model, ordered by model name."""
    return conn.execute(
        "SELECT * FROM segment_models WHERE segment_id = ? ORDER BY model", (segment_id,)
    ).fetchall()


def queued_segments_started_before(
    conn: sqlite3.Connection, before: float, *, now: float
) -> list[sqlite3.Row]:
    """Segment records still in the outbox whose segment started before `before`, but those
    still waiting at `now` for their repository's commits (core/store/repo_commits.py).

    Each row is the segment's columns plus the outbox `record_id` and the session's tool and
    surface, ordered by record id.
    """
    return conn.execute(
        "SELECT outbox.record_id, g.*, s.tool, s.surface FROM outbox"
        " JOIN segments g ON g.id = outbox.segment_id JOIN sessions s ON s.id = g.session_id"
        f" WHERE outbox.kind = 'segment' AND g.started_at < ? AND NOT {HELD_SEGMENT}"
        " ORDER BY outbox.record_id",
        (before, now),
    ).fetchall()
