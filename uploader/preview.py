"""What the next upload would send, produced by the very code that sends it."""

from __future__ import annotations

import time

from aitally.core.config import Config
from aitally.core.store import Store
from aitally.uploader import records
from aitally.uploader.delivery import derive, health, select_batch


def next_body(cfg: Config, store: Store, now: float | None = None) -> tuple[bytes, int]:
    """The JSON body of the next request (before gzip), and how many records stay queued."""
    now = time.time() if now is None else now
    derive(cfg, store, now)  # the same roll-up the upload does first; it loses nothing
    recs = select_batch(cfg, store, now, claim=False)
    hl = health(store)
    return records.body(recs, hl, now), int(hl["queue_depth"]) - len(recs)
