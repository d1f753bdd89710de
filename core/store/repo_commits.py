"""Queries of the repo_sessions, repo_segments and repo_commits tables: commits with AI read
from a session's git repository (collectors/git/), credited to its segments.

A session whose repository the running agent knows is held (`repo_sessions.hold_until`): its
closed segments wait in the outbox until their last read is made (`repo_segments.done`), and
never past `hold_until`, which only the running agent keeps moving (a stopped agent releases
them). A commit is counted by one segment only, by a keyed hash of its sha (`repo_commits`).

The tool's own files may already count a commit it ran (collectors/files/outcomes/commits.py,
no sha there): a segment's commits with AI are the larger of the tool's count and the
repository's, so the same commit seen both ways counts once (docs/clients/git.md).
`repo_segments.added` is what the repository added beyond the tool's count, so that reading
again recomputes the same figures instead of adding them twice.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aitally.core.store.keys import random_secret
from aitally.core.store.sql import placeholders

# The per-install key of commit hashes (core/store/keys.py): a stored hash cannot be matched
# to a public repository's commit.
COMMIT_KEY = "repository_key"

# Whether the outbox row's segment waits for its repository read at time `?` (the uploader
# neither sends it nor folds it into a daily total meanwhile): a condition on `outbox`.
HELD_SEGMENT = (
    "EXISTS (SELECT 1 FROM segments held_g JOIN repo_sessions held_s"
    " ON held_s.session_id = held_g.session_id WHERE held_g.id = outbox.segment_id"
    " AND held_s.hold_until > ? AND NOT EXISTS (SELECT 1 FROM repo_segments held_r"
    " WHERE held_r.segment_id = held_g.id AND held_r.done = 1))"
)


@dataclass(frozen=True, slots=True)
class SegmentWindow:
    """A segment of a held session still to be read: its times (ended_at None while open)."""

    id: int
    session_id: int
    started_at: float
    ended_at: float | None


def hold(conn: sqlite3.Connection, session_ids: Iterable[int], until: float) -> None:
    """Holds these sessions' segments in the outbox until `until` (or their last read)."""
    conn.executemany(
        "INSERT INTO repo_sessions(session_id, hold_until) SELECT ?, ? WHERE EXISTS"
        " (SELECT 1 FROM sessions WHERE id = ?)"
        " ON CONFLICT(session_id) DO UPDATE SET hold_until = excluded.hold_until",
        [(sid, until, sid) for sid in session_ids],
    )


def release(conn: sqlite3.Connection, session_ids: Sequence[int] | None = None) -> None:
    """Lets these sessions' segments go (None: every session, e.g. when the agent starts and
    no longer knows where any repository is)."""
    if session_ids is None:
        conn.execute("DELETE FROM repo_sessions")
    elif session_ids:
        conn.execute(
            f"DELETE FROM repo_sessions WHERE session_id IN ({placeholders(session_ids)})",
            list(session_ids),
        )


def to_read(conn: sqlite3.Connection, session_id: int) -> list[SegmentWindow]:
    """The session's segments still to be read: open ones, and closed ones whose last read is
    not made while their record has not left for upload."""
    rows = conn.execute(
        "SELECT g.id, g.session_id, g.started_at, g.ended_at FROM segments g"
        " LEFT JOIN repo_segments r ON r.segment_id = g.id WHERE g.session_id = ?"
        " AND (g.ended_at IS NULL OR (COALESCE(r.done, 0) = 0"
        " AND EXISTS (SELECT 1 FROM outbox o WHERE o.segment_id = g.id)))"
        " ORDER BY g.started_at",
        (session_id,),
    ).fetchall()
    return [SegmentWindow(int(r[0]), int(r[1]), float(r[2]), r[3]) for r in rows]


def _commit_key(secret: str, sha: str) -> str:
    return hmac.new(secret.encode(), sha.encode(), hashlib.sha256).hexdigest()


def _count(conn: sqlite3.Connection, segment_id: int, kind: str) -> int:
    row = conn.execute(
        "SELECT count FROM segment_outcomes WHERE segment_id = ? AND kind = ?", (segment_id, kind)
    ).fetchone()
    return 0 if row is None else int(row[0])


def record_read(
    conn: sqlite3.Connection, segment_id: int, shas: Iterable[str], *, last: bool
) -> int:
    """Credits the segment with the commits with AI read from its repository (their shas, in
    its window), each unless another segment counted it first, and marks its last read made
    when `last`. Returns the segment's commits with AI after the read. Call in a transaction;
    reading the same commits again changes nothing."""
    secret = random_secret(conn, COMMIT_KEY)
    conn.executemany(
        "INSERT OR IGNORE INTO repo_commits(commit_key, segment_id) VALUES (?, ?)",
        [(_commit_key(secret, sha), segment_id) for sha in shas],
    )
    read = int(
        conn.execute(
            "SELECT COUNT(*) FROM repo_commits WHERE segment_id = ?", (segment_id,)
        ).fetchone()[0]
    )
    row = conn.execute(
        "SELECT added FROM repo_segments WHERE segment_id = ?", (segment_id,)
    ).fetchone()
    added = 0 if row is None else int(row[0])
    by_tool = _count(conn, segment_id, "commits_with_ai") - added
    delta = max(0, read - by_tool) - added
    if delta:
        # A commit with AI is a commit too (docs/measuring.md): both counts move together.
        conn.executemany(
            "INSERT INTO segment_outcomes(segment_id, kind, count) VALUES (?, ?, ?)"
            " ON CONFLICT(segment_id, kind) DO UPDATE SET count = count + excluded.count",
            [(segment_id, "commits", delta), (segment_id, "commits_with_ai", delta)],
        )
    conn.execute(
        "INSERT INTO repo_segments(segment_id, added, done) VALUES (?, ?, ?)"
        " ON CONFLICT(segment_id) DO UPDATE SET added = excluded.added,"
        " done = MAX(done, excluded.done)",
        (segment_id, added + delta, int(last)),
    )
    return by_tool + added + delta
