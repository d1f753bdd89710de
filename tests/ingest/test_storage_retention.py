"""Central retention in bounded transactions: everything old goes, nothing recent, and a writer
never waits for the whole purge."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from pathlib import Path

from aitally.ingest.storage import open_storage
from tests.ingest.builders import batch, record
from tests.ingest.conftest import Server
from tests.privacy.conftest import query

TODAY = dt.datetime.now(dt.UTC).date()


def test_purge_in_small_batches_deletes_old_records_and_their_models(fresh_server: Server) -> None:
    s = fresh_server
    _, token = s.enroll(login="ada")
    old = [record(day=TODAY - dt.timedelta(days=60 + i % 20)) for i in range(40)]
    recent = [record(day=TODAY - dt.timedelta(days=i + 1)) for i in range(5)]
    assert s.post(token, batch(old + recent)).json()["accepted"] == 45
    storage = open_storage(s.db)
    try:
        cut = (TODAY - dt.timedelta(days=30)).isoformat()
        assert storage.purge_before(cut, batch=7, pause=0) == 40  # six full batches and a part
        assert storage.purge_before(cut, batch=7, pause=0) == 0
    finally:
        storage.close()
    kept = {r["record_id"] for r in recent}
    assert {r[0] for r in query(s.db, "SELECT record_id FROM records")} == kept
    assert {r[0] for r in query(s.db, "SELECT record_id FROM record_models")} == kept


def _old_rows(path: Path, n: int) -> None:
    """n records of a day long past, written straight into the database (fast)."""
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO records (record_id, device_id, batch_id, received_at, kind, tool, "
            "started_at, ended_at, day, active_seconds, present_seconds, turns, sessions, "
            "signals, person) VALUES (?, 'd1', 'b1', 0, 'segment', 'codex', 0, 0, '2020-01-02', "
            "60, 60, 1, 1, '', 'p1')",
            ((f"r{i}",) for i in range(n)),
        )
        conn.executemany(
            "INSERT INTO record_models (record_id, model, tok_input) VALUES (?, 'm', 1)",
            ((f"r{i}",) for i in range(n)),
        )


def test_a_writer_waits_for_one_batch_not_the_whole_purge(tmp_path: Path) -> None:
    path = tmp_path / "big.db"
    storage = open_storage(f"sqlite://{path}")
    try:
        _old_rows(path, 60_000)
        done = threading.Event()
        purged: list[float] = []

        def purge() -> None:
            t = time.perf_counter()
            storage.purge_before("2021-01-01", batch=2000)
            purged.append(time.perf_counter() - t)
            done.set()

        waits = []
        thread = threading.Thread(target=purge)
        thread.start()
        while not done.is_set():
            t = time.perf_counter()
            storage.audit(time.time(), "test", "write", {})  # a write transaction, as an upload
            waits.append(time.perf_counter() - t)
            time.sleep(0.005)
        thread.join()
    finally:
        storage.close()
    assert query(f"sqlite:///{path}", "SELECT COUNT(*) FROM records") == [(0,)]
    # One 60,000-record DELETE would hold the write lock for the whole purge.
    assert len(waits) >= 5, (waits, purged)
    assert max(waits) < purged[0] / 3, (max(waits), purged)
