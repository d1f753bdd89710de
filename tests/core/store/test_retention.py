"""Deletions behind the store's size and age bounds."""

from __future__ import annotations

from pathlib import Path

from aitally.core.store import retention, uploads
from tests.core.store.segment_rows import add_closed, add_segment, add_session, new_store


def test_finished_sessions_skip_open_and_live_ones_oldest_first(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        newer, _, _ = add_closed(conn, "newer", 300.0, 360.0)
        older, _, _ = add_closed(conn, "older", 100.0, 160.0)
        still_open = add_session(conn, "open")
        add_segment(conn, still_open, 0, 50.0, 60.0)
        add_segment(conn, still_open, 1, 70.0, None)
        live, _, _ = add_closed(conn, "live", 10.0, 20.0)
        conn.execute(
            "INSERT INTO live_processes(pid, create_time, tool, session_id, first_seen, last_seen)"
            " VALUES (42, 1, 'codex', ?, 1, 1)",
            (live,),
        )
        assert retention.finished_sessions(conn, float("inf"), 10) == [older, newer]
        assert retention.finished_sessions(conn, 200.0, 10) == [older]
        assert retention.finished_sessions(conn, float("inf"), 1) == [older]


def test_deleting_sessions_takes_their_segments(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        gone, _, _ = add_closed(conn, "gone", 100.0, 160.0)
        add_closed(conn, "kept", 200.0, 260.0)
        retention.delete_sessions(conn, [gone])
        keys = [r[0] for r in conn.execute("SELECT session_key FROM sessions")]
        assert keys == ["kept"]
        assert conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0] == 1


def test_old_dead_letters_dedup_keys_and_log_rows_are_forgotten(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        for i, at in enumerate((10.0, 100.0)):
            conn.execute(
                "INSERT INTO dead_letter(record_id, reason, at) VALUES (?, 'r', ?)", (f"d{i}", at)
            )
            conn.execute(
                "INSERT INTO usage_seen(tool, dedup_key, at) VALUES ('codex', ?, ?)", (f"u{i}", at)
            )
        uploads.log_requests(conn, 1.0, [(f"b{i}", 1, "http 200 ok", "ok") for i in range(5)])
        retention.delete_dead_letters_before(conn, 50.0)
        retention.delete_dedup_keys_before(conn, 50.0)
        retention.trim_upload_log(conn, 2)
        assert [r[0] for r in conn.execute("SELECT record_id FROM dead_letter")] == ["d1"]
        assert [r[0] for r in conn.execute("SELECT dedup_key FROM usage_seen")] == ["u1"]
    assert [e.batch_id for e in uploads.recent_requests(store.conn)] == ["b4", "b3"]
