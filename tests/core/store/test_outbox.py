"""The outbox's named queries: claims and their lease, depth, age and session look-ups."""

from __future__ import annotations

from pathlib import Path

from aitally.core.store import outbox
from tests.core.store.segment_rows import add_closed, new_store


def test_stale_claims_of_a_dead_uploader_return_to_the_queue(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        add_closed(conn, "k", 1000.0, 1060.0)
        rid = outbox.pending(conn, 5000.0, 10)[0]["record_id"]
        outbox.claim(conn, [rid], 5000.0)
        assert outbox.pending(conn, 5001.0, 10) == []
        # Lease expired, or the clock went back past the claim: takeable again.
        assert len(outbox.pending(conn, 5000.0 + outbox.LEASE_SECONDS + 1, 10)) == 1
        assert len(outbox.pending(conn, 5000.0 - outbox.LEASE_SECONDS - 1, 10)) == 1


def test_depth_counts_claimed_and_unclaimed_records(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    assert outbox.depth(store.conn) == 0
    with store.transaction() as conn:
        _, _, first = add_closed(conn, "a", 100.0, 160.0)
        add_closed(conn, "b", 200.0, 260.0)
        outbox.claim(conn, [first], 300.0)
    assert outbox.depth(store.conn) == 2


def test_enqueued_before_and_of_sessions_name_the_right_records(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        s_old, _, old = add_closed(conn, "old", 100.0, 160.0, enqueued=200.0)
        _, _, new = add_closed(conn, "new", 1000.0, 1060.0, enqueued=2000.0)
        assert outbox.enqueued_before(conn, 1000.0) == [old]
        assert sorted(outbox.enqueued_before(conn, 5000.0)) == sorted([old, new])
        assert outbox.of_sessions(conn, [s_old]) == [old]
        assert outbox.of_sessions(conn, [s_old + 100]) == []


def test_device_secret_is_made_once_and_keeps_record_ids_stable(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        secret = outbox.device_secret(conn)
        assert outbox.device_secret(conn) == secret and len(secret) == 64
    ids = [outbox.record_id(secret, "codex", "k", 0, 1.0) for _ in range(2)]
    assert ids[0] == ids[1] != outbox.record_id(secret, "codex", "k", 0, 2.0)
