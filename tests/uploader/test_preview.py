"""`aitally preview` shows the next request and changes nothing (uploader/preview.py)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
from pathlib import Path

from aitally.core import paths
from aitally.uploader import policy
from tests.conftest import aitally_cmd
from tests.uploader.helpers import make_segments, open_store, write_config


def _rows(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_preview_at_aggregate_leaves_the_store_row_for_row_as_it_was() -> None:
    """Issue 17: at level aggregate a preview turned four segments into two daily totals."""
    cfg = write_config('[privacy]\nlevel = "aggregate"')
    store = open_store()
    day = 86400
    make_segments(store, 4, start=(time.time() // day - 1) * day + 3600)  # yesterday
    now = time.time()
    store.conn.execute("INSERT INTO pauses(started_at, ended_at) VALUES (?, ?)", (now - 60, now))
    with store.transaction() as conn:
        policy.load(cfg, conn)  # the install's keys, as its first upload or preview makes them
    store.close()
    before = _rows(paths.store_file())
    for _ in range(2):
        shown = subprocess.run(
            aitally_cmd("preview", "--json"), capture_output=True, text=True, timeout=60
        )
        assert shown.returncode == 0, shown.stderr
        kinds = sorted(r["kind"] for r in json.loads(shown.stdout)["records"])
        assert kinds == ["daily_total", "pause"], kinds
    assert _rows(paths.store_file()) == before
    assert [p.name for p in paths.store_file().parent.iterdir() if "preview" in p.name] == []
