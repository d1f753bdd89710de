"""Keeps the store within its size and age bounds: the oldest go first, every loss counted."""

from __future__ import annotations

import sqlite3

from aitally.core.store import Store, outbox, retention
from aitally.uploader.policy import DAY

# Sessions are pruned this many at a time, so one pass stays a short transaction.
CHUNK = 200
# Local upload history kept for `status` and audits.
UPLOAD_LOG_ROWS = 2000


def _prune_sessions(store: Store, conn: sqlite3.Connection, ids: list[int], reason: str) -> int:
    """Deletes whole finished sessions; their records not yet delivered are counted as dropped."""
    dropped = outbox.drop(store, conn, outbox.of_sessions(conn, ids), reason)
    retention.delete_sessions(conn, ids)
    store.count("pruned", reason, len(ids), conn)
    return dropped


def enforce(store: Store, now: float, max_bytes: int, max_age_days: int) -> dict[str, int]:
    """One janitor pass; returns the records dropped by reason."""
    dropped = {"age": 0, "size": 0}
    cutoff = now - max_age_days * DAY
    with store.transaction() as conn:
        while ids := retention.finished_sessions(conn, cutoff, CHUNK):
            dropped["age"] += _prune_sessions(store, conn, ids, "age")
        dropped["age"] += outbox.drop(store, conn, outbox.enqueued_before(conn, cutoff), "age")
        retention.delete_dead_letters_before(conn, cutoff)
        # Dedup keys of replies older than the bound: their files are long read (and the
        # tools themselves delete transcripts after 30 days by default).
        retention.delete_dedup_keys_before(conn, cutoff)
        retention.trim_upload_log(conn, UPLOAD_LOG_ROWS)
    # Size: measured on live pages (the file itself never shrinks; freed pages are reused).
    while store.size_bytes() > max_bytes:
        with store.transaction() as conn:
            ids = retention.finished_sessions(conn, float("inf"), CHUNK // 4)
            if not ids:
                break  # only open sessions left: nothing more may go
            dropped["size"] += _prune_sessions(store, conn, ids, "size")
    return dropped
