"""Keeps the store within its size and age bounds: the oldest go first, every loss counted."""

from __future__ import annotations

import sqlite3

from aitally.core.store import Store, outbox

DAY = 86400.0
# Sessions are pruned this many at a time, so one pass stays a short transaction.
CHUNK = 200
# Local upload history kept for `status` and audits.
UPLOAD_LOG_ROWS = 2000


def _prune_sessions(store: Store, conn: sqlite3.Connection, ids: list[int], reason: str) -> int:
    """Deletes whole finished sessions; their records not yet delivered are counted as dropped."""
    marks = ",".join("?" * len(ids))
    pending = [
        r[0]
        for r in conn.execute(
            "SELECT o.record_id FROM outbox o JOIN segments g ON g.id = o.segment_id"
            f" WHERE g.session_id IN ({marks})",
            ids,
        )
    ]
    dropped = outbox.drop(store, conn, pending, reason)
    conn.execute(f"DELETE FROM sessions WHERE id IN ({marks})", ids)
    store.count("pruned", reason, len(ids), conn)
    return dropped


def _finished_sessions(conn: sqlite3.Connection, before: float, limit: int) -> list[int]:
    """Sessions with no open segment and no live process, oldest last use first."""
    rows = conn.execute(
        "SELECT s.id FROM sessions s JOIN segments g ON g.session_id = s.id"
        " WHERE NOT EXISTS (SELECT 1 FROM live_processes p WHERE p.session_id = s.id)"
        " GROUP BY s.id HAVING SUM(g.ended_at IS NULL) = 0 AND MAX(g.ended_at) < ?"
        " ORDER BY MAX(g.ended_at) LIMIT ?",
        (before, limit),
    ).fetchall()
    return [int(r[0]) for r in rows]


def enforce(store: Store, now: float, max_bytes: int, max_age_days: int) -> dict[str, int]:
    """One janitor pass; returns the records dropped by reason."""
    dropped = {"age": 0, "size": 0}
    cutoff = now - max_age_days * DAY
    with store.transaction() as conn:
        while ids := _finished_sessions(conn, cutoff, CHUNK):
            dropped["age"] += _prune_sessions(store, conn, ids, "age")
        old = [
            r[0]
            for r in conn.execute("SELECT record_id FROM outbox WHERE enqueued_at < ?", (cutoff,))
        ]
        dropped["age"] += outbox.drop(store, conn, old, "age")
        conn.execute("DELETE FROM dead_letter WHERE at < ?", (cutoff,))
        # Dedup keys of replies older than the bound: their files are long read (and the
        # tools themselves delete transcripts after 30 days by default).
        conn.execute("DELETE FROM usage_seen WHERE at < ?", (cutoff,))
        conn.execute(
            "DELETE FROM upload_log WHERE id <= (SELECT MAX(id) FROM upload_log) - ?",
            (UPLOAD_LOG_ROWS,),
        )
    # Size: measured on live pages (the file itself never shrinks; freed pages are reused).
    while store.size_bytes() > max_bytes:
        with store.transaction() as conn:
            ids = _finished_sessions(conn, float("inf"), CHUNK // 4)
            if not ids:
                break  # only open sessions left: nothing more may go
            dropped["size"] += _prune_sessions(store, conn, ids, "size")
    return dropped
