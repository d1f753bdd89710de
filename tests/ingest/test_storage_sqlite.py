"""The SQLite backend's write-ahead log: commits never checkpoint, its own thread does."""

from __future__ import annotations

import time
from pathlib import Path

from aitally.ingest.storage import open_storage


def test_commits_leave_the_checkpoint_to_the_checkpointer(tmp_path: Path) -> None:
    path = tmp_path / "wal.db"
    storage = open_storage(f"sqlite://{path}")
    try:
        with storage.reading() as cur:  # a connection of the pool, as requests get them
            cur.execute("PRAGMA wal_autocheckpoint")
            assert cur.fetchone()[0] == 0
        time.sleep(1.5)  # the migration's pages checkpointed
        before = path.stat().st_size
        for i in range(1500):  # over SQLite's own threshold of 1000 WAL pages
            storage.audit(time.time(), "test", "write", {"n": i, "pad": "x" * 3000})
        assert Path(f"{path}-wal").stat().st_size > 1000 * 4096
        deadline = time.monotonic() + 10
        while path.stat().st_size <= before + 1500 * 3000 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert path.stat().st_size > before + 1500 * 3000  # copied into the database file
    finally:
        storage.close()
