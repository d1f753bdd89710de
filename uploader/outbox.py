"""The durable outbox: closed segments waiting for upload, keyed by deterministic record ids."""

from __future__ import annotations

import secrets
import sqlite3
import uuid

_NAMESPACE = uuid.UUID("6f1d3c52-8a0e-4d8e-9a57-1d1b6a0c7e41")


def device_secret(conn: sqlite3.Connection) -> str:
    """A random per-store secret: record ids are stable here yet unlinkable elsewhere."""
    row = conn.execute("SELECT value FROM kv WHERE key = 'device_secret'").fetchone()
    if row is not None:
        return str(row[0])
    value = secrets.token_hex(32)
    conn.execute("INSERT OR IGNORE INTO kv(key, value) VALUES ('device_secret', ?)", (value,))
    return str(conn.execute("SELECT value FROM kv WHERE key = 'device_secret'").fetchone()[0])


def record_id(secret: str, tool: str, session_key: str, index: int) -> str:
    """The same segment always gets the same id, so the server can drop repeats."""
    return str(uuid.uuid5(_NAMESPACE, f"{secret}\x1f{tool}\x1f{session_key}\x1f{index}"))


def enqueue(
    conn: sqlite3.Connection, segment_id: int, tool: str, session_key: str, index: int, now: float
) -> str:
    """Called inside the transaction that closes the segment."""
    rid = record_id(device_secret(conn), tool, session_key, index)
    conn.execute(
        "INSERT OR IGNORE INTO outbox(record_id, segment_id, enqueued_at) VALUES (?, ?, ?)",
        (rid, segment_id, now),
    )
    return rid
