"""The segment reads that upload records are built from."""

from __future__ import annotations

from pathlib import Path

from aitally.core.store import outbox, repo_commits
from aitally.core.store.records import (
    closed_segment,
    queued_segments_started_before,
    segment_models,
)
from tests.core.store.segment_rows import add_closed, add_segment, add_session, new_store


def test_closed_segment_carries_its_session_labels_and_skips_open_ones(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        session_id = add_session(conn, "k", tool="claude-code")
        closed = add_segment(conn, session_id, 0, 100.0, 160.0)
        still_open = add_segment(conn, session_id, 1, 200.0, None)
        row = closed_segment(conn, closed)
        assert row is not None
        assert (row["tool"], row["surface"], row["started_at"]) == ("claude-code", "cli", 100.0)
        assert closed_segment(conn, still_open) is None
        assert closed_segment(conn, closed + 100) is None


def test_segment_models_are_ordered_by_name(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        session_id = add_session(conn, "k")
        seg = add_segment(conn, session_id, 0, 100.0, 160.0, models={"zeta": 1, "alpha": 2})
        rows = segment_models(conn, seg)
        assert [(r["model"], r["input"]) for r in rows] == [("alpha", 2), ("zeta", 1)]


def test_queued_segments_started_before_a_time(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        _, early_seg, early = add_closed(conn, "a", 100.0, 160.0)
        add_closed(conn, "b", 5000.0, 5060.0)
        outbox.enqueue_payload(conn, "pause", "p1", "{}", 50.0)  # not a segment record
        rows = queued_segments_started_before(conn, 1000.0, now=9000.0)
        assert [(r["record_id"], r["id"], r["tool"]) for r in rows] == [(early, early_seg, "codex")]
        assert len(queued_segments_started_before(conn, 10_000.0, now=9000.0)) == 2
        # A segment waiting for its repository's commits is not folded into a total yet.
        session_id = conn.execute(
            "SELECT session_id FROM segments WHERE id = ?", (early_seg,)
        ).fetchone()[0]
        repo_commits.hold(conn, [session_id], 9500.0)
        assert len(queued_segments_started_before(conn, 10_000.0, now=9000.0)) == 1
        assert len(queued_segments_started_before(conn, 10_000.0, now=9600.0)) == 2
