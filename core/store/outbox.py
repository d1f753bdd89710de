"""The durable outbox: records waiting for upload, deterministic ids, claim, ack, dead letters."""

from __future__ import annotations

import sqlite3
import uuid
from typing import TYPE_CHECKING

from aitally.core.store.keys import random_secret
from aitally.core.store.repo_commits import HELD_SEGMENT
from aitally.core.store.sql import placeholders

if TYPE_CHECKING:  # only the type is needed here
    from aitally.core.store.connection import Store

_NAMESPACE = uuid.UUID("6f1d3c52-8a0e-4d8e-9a57-1d1b6a0c7e41")


def device_secret(conn: sqlite3.Connection) -> str:
    """A random per-store secret: record ids are stable here yet unlinkable elsewhere."""
    return random_secret(conn, "device_secret")


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
    """Unclaimed rows of every kind but `hold`, oldest first; a segment whose repository is
    still to be read for commits waits (core/store/repo_commits.py).

    A claim from a clock that has since moved back counts as stale too.
    """
    return conn.execute(
        "SELECT * FROM outbox WHERE kind != ? AND"
        " (claimed_at IS NULL OR claimed_at < ? OR claimed_at > ?)"
        f" AND NOT {HELD_SEGMENT} ORDER BY enqueued_at, record_id LIMIT ?",
        (hold, now - LEASE_SECONDS, now + LEASE_SECONDS, now, limit),
    ).fetchall()


def claim(conn: sqlite3.Connection, ids: list[str], now: float) -> None:
    """Marks the rows as taken by this uploader at `now` and counts the attempt."""
    conn.execute(
        "UPDATE outbox SET claimed_at = ?, attempts = attempts + 1"
        f" WHERE record_id IN ({placeholders(ids)})",
        (now, *ids),
    )


def ack(conn: sqlite3.Connection, ids: list[str]) -> None:
    """The server holds these: they leave the outbox (their segments stay for local reports)."""
    conn.execute(f"DELETE FROM outbox WHERE record_id IN ({placeholders(ids)})", ids)


def release(conn: sqlite3.Connection, ids: list[str] | None = None) -> None:
    """Back to the queue after a retryable failure; None releases every claim (agent start)."""
    if ids is None:
        conn.execute("UPDATE outbox SET claimed_at = NULL WHERE claimed_at IS NOT NULL")
    else:
        conn.execute(
            f"UPDATE outbox SET claimed_at = NULL WHERE record_id IN ({placeholders(ids)})", ids
        )


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
    n = conn.execute(f"DELETE FROM outbox WHERE record_id IN ({placeholders(ids)})", ids).rowcount
    if n:
        store.count("dropped", reason, n, conn)
    return n


def depth(conn: sqlite3.Connection) -> int:
    """How many records wait in the outbox, claimed or not."""
    return int(conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])


def enqueued_before(conn: sqlite3.Connection, cutoff: float) -> list[str]:
    """Ids of the records enqueued before `cutoff`."""
    rows = conn.execute("SELECT record_id FROM outbox WHERE enqueued_at < ?", (cutoff,))
    return [str(r[0]) for r in rows]


def of_sessions(conn: sqlite3.Connection, session_ids: list[int]) -> list[str]:
    """Ids of the queued segment records that belong to these sessions."""
    rows = conn.execute(
        "SELECT o.record_id FROM outbox o JOIN segments g ON g.id = o.segment_id"
        f" WHERE g.session_id IN ({placeholders(session_ids)})",
        session_ids,
    )
    return [str(r[0]) for r in rows]


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


def by_kind(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Per record kind: waiting (`n`), the oldest enqueue time (`oldest`), how many were
    tried before (`retried`)."""
    return conn.execute(
        "SELECT kind, COUNT(*) AS n, MIN(enqueued_at) AS oldest, SUM(attempts > 0) AS retried"
        " FROM outbox GROUP BY kind ORDER BY kind"
    ).fetchall()
