"""The upload side's rows: request log, dead-letter count, pause-report marks."""

from __future__ import annotations

from pathlib import Path

from aitally.core.store import outbox, pauses, uploads
from aitally.core.store.uploads import UploadLogEntry
from tests.core.store.segment_rows import add_closed, new_store


def test_requests_are_logged_and_read_back_newest_first(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        uploads.log_requests(conn, 10.0, [("b1", 3, "http 500 retry", "HTTP 500")])
        uploads.log_requests(conn, 20.0, [("b2", 2, "http 200 ok", "ok"), ("b3", 1, "x", "y")])
        uploads.log_requests(conn, 30.0, [])
    recent = uploads.recent_requests(store.conn, 2)
    assert recent == [
        UploadLogEntry(20.0, "b3", 1, "x", "y"),
        UploadLogEntry(20.0, "b2", 2, "http 200 ok", "ok"),
    ]
    assert len(uploads.recent_requests(store.conn)) == 3


def test_dead_letter_count(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    assert uploads.dead_letter_count(store.conn) == 0
    with store.transaction() as conn:
        _, _, rid = add_closed(conn, "k", 100.0, 160.0)
        outbox.dead_letter(conn, {rid: "rejected: schema"}, 200.0)
    assert uploads.dead_letter_count(store.conn) == 1
    assert outbox.depth(store.conn) == 0


def test_ended_pauses_and_their_report_marks(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        conn.execute("INSERT INTO pauses(id, started_at, ended_at) VALUES (1, 10, 20)")
        conn.execute("INSERT INTO pauses(id, started_at, ends_at) VALUES (2, 30, 40)")
        conn.execute("INSERT INTO pauses(id, started_at, ends_at) VALUES (3, 50, NULL)")
        assert [(r["id"], r["ended"]) for r in pauses.ended(conn, 35.0)] == [(1, 20)]
        assert [(r["id"], r["ended"]) for r in pauses.ended(conn, 40.0)] == [
            (1, 20),
            (2, 40),
        ]
        assert not uploads.pause_reported(conn, 1)
        uploads.mark_pause_reported(conn, 1)
        assert uploads.pause_reported(conn, 1) and not uploads.pause_reported(conn, 2)
