"""Reads of closed segments and their per-model tokens, from which upload records are built."""

from __future__ import annotations

import sqlite3


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


def queued_segments_started_before(conn: sqlite3.Connection, before: float) -> list[sqlite3.Row]:
    """Segment records still in the outbox whose segment started before `before`.

    Each row is the segment's columns plus the outbox `record_id` and the session's tool and
    surface, ordered by record id.
    """
    return conn.execute(
        "SELECT o.record_id, g.*, s.tool, s.surface FROM outbox o"
        " JOIN segments g ON g.id = o.segment_id JOIN sessions s ON s.id = g.session_id"
        " WHERE o.kind = 'segment' AND g.started_at < ? ORDER BY o.record_id",
        (before,),
    ).fetchall()
