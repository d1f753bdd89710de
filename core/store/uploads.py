"""The upload side's own rows: the request log, dead-letter counts and pause-report marks."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UploadLogEntry:
    """One request the uploader made, as kept in `upload_log`."""

    at: float  # wall-clock time of the request (Unix seconds)
    batch_id: str | None
    records: int  # records in the request
    status: str  # "<sink> <HTTP status or -> <outcome>", e.g. "http 200 ok"
    detail: str | None  # the receiver's answer in a few words


def log_requests(
    conn: sqlite3.Connection, at: float, entries: Iterable[tuple[str, int, str, str]]
) -> None:
    """Appends one `upload_log` row per (batch id, records, status, detail), all stamped `at`."""
    conn.executemany(
        "INSERT INTO upload_log(at, batch_id, records, status, detail) VALUES (?, ?, ?, ?, ?)",
        [(at, bid, n, status, detail) for bid, n, status, detail in entries],
    )


def recent_requests(conn: sqlite3.Connection, limit: int = 5) -> list[UploadLogEntry]:
    """The last `limit` requests, newest first."""
    rows = conn.execute(
        "SELECT at, batch_id, records, status, detail FROM upload_log ORDER BY id DESC LIMIT ?",
        (limit,),
    )
    return [UploadLogEntry(*r) for r in rows]


def dead_letters_by_reason(conn: sqlite3.Connection) -> dict[str, int]:
    """Records refused for good, counted by the server's reason."""
    rows = conn.execute("SELECT reason, COUNT(*) FROM dead_letter GROUP BY reason ORDER BY reason")
    return {str(r[0]): int(r[1]) for r in rows}


def dead_letter_count(conn: sqlite3.Connection) -> int:
    """How many records sit in `dead_letter`: refused for good, never retried."""
    return int(conn.execute("SELECT COUNT(*) FROM dead_letter").fetchone()[0])


def _pause_mark(pause_id: int) -> str:
    return f"pause_reported:{pause_id}"


def pause_reported(conn: sqlite3.Connection, pause_id: int) -> bool:
    """True once the pause has been queued for upload (the mark outlives the record's ack)."""
    return (
        conn.execute("SELECT 1 FROM kv WHERE key = ?", (_pause_mark(pause_id),)).fetchone()
        is not None
    )


def mark_pause_reported(conn: sqlite3.Connection, pause_id: int) -> None:
    """Records that the pause has been queued for upload, so it is never queued twice."""
    conn.execute("INSERT INTO kv(key, value) VALUES (?, '1')", (_pause_mark(pause_id),))
