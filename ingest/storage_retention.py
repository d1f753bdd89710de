"""Central retention: records of days before a cut-off are deleted in bounded transactions
(mixed into `aitally.ingest.storage.Storage`).

Each transaction deletes at most `PURGE_BATCH` records with their per-model rows, then the
purge pauses a moment, so an upload waiting for the write lock (SQLite) or for the same rows
(PostgreSQL) waits for one small delete, never for the whole backlog. Tables derived from the
records (the report rollups, aitally.ingest.rollups) go too, one day a transaction.
"""

from __future__ import annotations

import datetime as dt
import time
from contextlib import AbstractContextManager
from typing import Any

from aitally.ingest.rollups import delete_statements
from aitally.ingest.storage_report_cache import invalidate_days

PURGE_BATCH = 2000
"""Records per transaction: about 20-40 ms of deleting on the bench machine (bench/README.md)."""
PURGE_PAUSE = 0.02
"""Seconds between transactions, so waiting writers take the lock before the next one."""


class RetentionStore:
    """Deletes what is older than the retention; `transaction` comes from the storage class."""

    def transaction(self) -> AbstractContextManager[Any]:  # pragma: no cover - overridden
        """A cursor inside one transaction (aitally.ingest.storage.Storage)."""
        raise NotImplementedError

    def purge_before(self, day: str, batch: int = PURGE_BATCH, pause: float = PURGE_PAUSE) -> int:
        """Deletes records of days before `day` (YYYY-MM-DD), `batch` per transaction; the
        number deleted."""
        deleted = 0
        while True:
            with self.transaction() as cur:
                # records_day (ingest/migrations.py) finds them without a scan.
                cur.execute("SELECT record_id FROM records WHERE day < ? LIMIT ?", (day, batch))
                ids = [row[0] for row in cur.fetchall()]
                if ids:
                    marks = ", ".join("?" * len(ids))
                    cur.execute(f"DELETE FROM record_models WHERE record_id IN ({marks})", ids)
                    cur.execute(f"DELETE FROM records WHERE record_id IN ({marks})", ids)
            deleted += len(ids)
            if len(ids) < batch:
                break
            time.sleep(pause)
        self._purge_rollups(day, pause)
        return deleted

    def _purge_rollups(self, day: str, pause: float) -> None:
        """Deletes the report rollups' rows of days before `day`, one day a transaction."""
        while True:
            with self.transaction() as cur:
                cur.execute("SELECT MIN(day) FROM person_days WHERE day < ?", (day,))
                oldest = cur.fetchone()[0]
                if oldest is None:
                    return
                _invalidate_before(cur, day)
                for stmt in delete_statements("day = ?"):
                    cur.execute(stmt, (oldest,))
            time.sleep(pause)


def _invalidate_before(cur: Any, day: str) -> None:
    """Drops the cached report answers that read any day before `day`: in each transaction
    deleting rollups, which is what reports read."""
    invalidate_days(
        cur, "0001-01-01", (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()
    )
