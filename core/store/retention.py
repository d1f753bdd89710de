"""Deletions that keep the store within its size and age bounds; the caller picks what goes."""

from __future__ import annotations

import sqlite3

from aitally.core.store.sql import placeholders


def finished_sessions(conn: sqlite3.Connection, before: float, limit: int) -> list[int]:
    """Sessions with no open segment and no live process whose last segment ended before
    `before`, least recently used first, at most `limit`."""
    rows = conn.execute(
        "SELECT s.id FROM sessions s JOIN segments g ON g.session_id = s.id"
        " WHERE NOT EXISTS (SELECT 1 FROM live_processes p WHERE p.session_id = s.id)"
        " GROUP BY s.id HAVING SUM(g.ended_at IS NULL) = 0 AND MAX(g.ended_at) < ?"
        " ORDER BY MAX(g.ended_at) LIMIT ?",
        (before, limit),
    ).fetchall()
    return [int(r[0]) for r in rows]


def delete_sessions(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Deletes whole sessions; their segments and per-model figures go with them (cascade)."""
    conn.execute(f"DELETE FROM sessions WHERE id IN ({placeholders(ids)})", ids)


def delete_dead_letters_before(conn: sqlite3.Connection, cutoff: float) -> None:
    """Forgets dead-lettered records set aside before `cutoff`."""
    conn.execute("DELETE FROM dead_letter WHERE at < ?", (cutoff,))


def delete_dedup_keys_before(conn: sqlite3.Connection, cutoff: float) -> None:
    """Forgets the dedup keys of replies first seen before `cutoff`."""
    conn.execute("DELETE FROM usage_seen WHERE at < ?", (cutoff,))


def trim_upload_log(conn: sqlite3.Connection, keep: int) -> None:
    """Keeps only the newest `keep` rows of the upload log."""
    conn.execute("DELETE FROM upload_log WHERE id <= (SELECT MAX(id) FROM upload_log) - ?", (keep,))
