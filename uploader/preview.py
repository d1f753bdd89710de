"""What the next upload would send, produced by the very code that sends it, changing nothing.

An upload first derives records (ended pauses, and at level aggregate the daily totals that
replace segments in the outbox), then selects a batch. A preview runs exactly those steps on a
private copy of the store, so the person's store is never changed by looking at it. The one
exception: an install's random pseudonym key, made on first use, is made in the store itself
before copying (as the first upload would), so that the preview's pseudonyms are those sent.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from pathlib import Path

from aitally.core.config import Config
from aitally.core.store import Store
from aitally.uploader import policy, records
from aitally.uploader.delivery import derive, health, select_batch


def next_body(cfg: Config, store: Store, now: float | None = None) -> tuple[bytes, int]:
    """The JSON body of the next request (before gzip), and how many records stay queued."""
    now = time.time() if now is None else now
    with store.transaction() as conn:
        policy.load(cfg, conn)  # makes the install's keys if there are none yet
    # Beside the store (the same folder, the same owner), removed at once.
    with tempfile.TemporaryDirectory(prefix=".preview-", dir=store.path.parent) as tmp:
        copy_path = Path(tmp) / "preview.db"
        target = sqlite3.connect(copy_path)
        try:
            store.conn.backup(target)
        finally:
            target.close()
        copy = Store(copy_path)
        try:
            derive(cfg, copy, now)
            recs = select_batch(cfg, copy, now, claim=False)
            hl = health(copy)
        finally:
            copy.close()
    return records.body(recs, hl, now), int(hl["queue_depth"]) - len(recs)
