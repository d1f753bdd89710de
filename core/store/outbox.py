"""The durable outbox: records waiting for upload, deterministic ids, claim, ack, dead letters."""

from __future__ import annotations

import secrets
import sqlite3
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the store imports the sessionizer's world; only the type is needed here
    from aitally.core.store import Store

_NAMESPACE = uuid.UUID("6f1d3c52-8a0e-4d8e-9a57-1d1b6a0c7e41")


def device_secret(conn: sqlite3.Connection) -> str:
    """A random per-store secret: record ids are stable here yet unlinkable elsewhere."""
    row = conn.execute("SELECT value FROM kv WHERE key = 'device_secret'").fetchone()
    if row is not None:
        return str(row[0])
    value = secrets.token_hex(32)
    conn.execute("INSERT OR IGNORE INTO kv(key, value) VALUES ('device_secret', ?)", (value,))
    return str(conn.execute("SELECT value FROM kv WHERE key = 'device_secret'").fetchone()[0])


def record_id(secret: str, tool: str, session_key: str, index: int, started_at: float) -> str:
    """The same segment always gets the same id, so the server can drop repeats.

    The start time is part of it because pruning may delete an old session whose tool later
    resumes the same session id: its segment indexes restart at 0, and without the start
    those new segments would reuse delivered ids and be dropped as repeats.
    """
    name = f"{secret}\x1f{tool}\x1f{session_key}\x1f{index}\x1f{started_at:.3f}"
    return str(uuid.uuid5(_NAMESPACE, name))


def enqueue(
    conn: sqlite3.Connection,
    segment_id: int,
    tool: str,
    session_key: str,
    index: int,
    started_at: float,
    now: float,
) -> str:
    """Called inside the transaction that closes the segment."""
    rid = record_id(device_secret(conn), tool, session_key, index, started_at)
    conn.execute(
        "INSERT OR IGNORE INTO outbox(record_id, segment_id, enqueued_at) VALUES (?, ?, ?)",
        (rid, segment_id, now),
    )
    return rid


# Claims older than this belong to an uploader that died mid-request; another may take them.
LEASE_SECONDS = 600.0


def pending(
    conn: sqlite3.Connection, now: float, limit: int, *, hold: str = ""
) -> list[sqlite3.Row]:
    """Unclaimed rows of every kind but `hold`, oldest first.

    A claim from a clock that has since moved back counts as stale too.
    """
    return conn.execute(
        "SELECT * FROM outbox WHERE kind != ? AND"
        " (claimed_at IS NULL OR claimed_at < ? OR claimed_at > ?)"
        " ORDER BY enqueued_at, record_id LIMIT ?",
        (hold, now - LEASE_SECONDS, now + LEASE_SECONDS, limit),
    ).fetchall()


def _in(ids: list[str]) -> str:
    return ",".join("?" * len(ids))


def claim(conn: sqlite3.Connection, ids: list[str], now: float) -> None:
    conn.execute(
        "UPDATE outbox SET claimed_at = ?, attempts = attempts + 1"
        f" WHERE record_id IN ({_in(ids)})",
        (now, *ids),
    )


def ack(conn: sqlite3.Connection, ids: list[str]) -> None:
    """The server holds these: they leave the outbox (their segments stay for local reports)."""
    conn.execute(f"DELETE FROM outbox WHERE record_id IN ({_in(ids)})", ids)


def release(conn: sqlite3.Connection, ids: list[str] | None = None) -> None:
    """Back to the queue after a retryable failure; None releases every claim (agent start)."""
    if ids is None:
        conn.execute("UPDATE outbox SET claimed_at = NULL WHERE claimed_at IS NOT NULL")
    else:
        conn.execute(f"UPDATE outbox SET claimed_at = NULL WHERE record_id IN ({_in(ids)})", ids)


def dead_letter(conn: sqlite3.Connection, rejected: dict[str, str], now: float) -> None:
    """Records the server will never take: kept aside with the reason, never retried."""
    for rid, reason in rejected.items():
        conn.execute(
            "INSERT OR REPLACE INTO dead_letter(record_id, segment_id, reason, at)"
            " SELECT record_id, segment_id, ?, ? FROM outbox WHERE record_id = ?",
            (reason[:500], now, rid),
        )
        conn.execute("DELETE FROM outbox WHERE record_id = ?", (rid,))


def drop(store: Store, conn: sqlite3.Connection, ids: list[str], reason: str) -> int:
    """Removes records without delivering them, always counted by reason."""
    if not ids:
        return 0
    n = conn.execute(f"DELETE FROM outbox WHERE record_id IN ({_in(ids)})", ids).rowcount
    if n:
        store.count("dropped", reason, n, conn)
    return n


def enqueue_payload(
    conn: sqlite3.Connection, kind: str, identity: str, payload: str, now: float
) -> str:
    """A record that is not one segment (pause, daily total), id derived from its identity."""
    rid = str(uuid.uuid5(_NAMESPACE, f"{device_secret(conn)}\x1f{kind}\x1f{identity}"))
    conn.execute(
        "INSERT OR IGNORE INTO outbox(record_id, kind, payload, enqueued_at) VALUES (?, ?, ?, ?)",
        (rid, kind, payload, now),
    )
    return rid
