"""Storage of the report cache: one period's suppressed answer per row of `report_periods`,
and the epoch that erasure and retention advance (mixed into `aitally.ingest.storage.Storage`;
the cache itself: aitally.ingest.report_cache).

An answer computed from reads that began before an erasure must never be stored after it: the
erasing transaction advances `report_epoch` before it deletes the cached periods it touches,
and a cached period is stored only if the epoch is still the one read before its computation
began, checked in the storing transaction after updating the epoch's row (on PostgreSQL that
update waits for an erasure in flight, and its commit, instead of reading past it).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from aitally.ingest.rows import CachedPeriod, PeriodKey

_KEY = "report = ? AND granularity = ? AND period = ? AND k = ? AND version = ?"


def invalidate_days(cur: Any, first_day: str, last_day: str) -> None:
    """Inside a transaction that deletes or re-keys records of days first_day..last_day:
    advances the epoch (answers being computed are not stored), then deletes every cached
    answer that reads any of those days."""
    cur.execute("UPDATE report_epoch SET n = n + 1")
    cur.execute(
        "DELETE FROM report_periods WHERE first_day <= ? AND last_day >= ?", (last_day, first_day)
    )


class ReportCacheStore:
    """The report cache's queries; `transaction` and `reading` come from the storage class."""

    def transaction(self) -> AbstractContextManager[Any]:  # pragma: no cover - overridden
        """A cursor inside one transaction (aitally.ingest.storage.Storage)."""
        raise NotImplementedError

    def reading(self) -> AbstractContextManager[Any]:  # pragma: no cover - overridden
        """A cursor inside one read-only transaction (aitally.ingest.storage.Storage)."""
        raise NotImplementedError

    def report_epoch(self) -> int:
        """The erasure epoch: read before computing an answer, checked when storing it."""
        with self.reading() as cur:
            cur.execute("SELECT n FROM report_epoch")
            return int(cur.fetchone()[0])

    def cached_periods(
        self, report: str, granularity: str, periods: Sequence[str], k: int, version: str
    ) -> dict[str, CachedPeriod]:
        """The cached answers among these periods of one report, by period."""
        if not periods:
            return {}
        with self.reading() as cur:
            cur.execute(
                "SELECT period, first_day, last_day, as_of, body FROM report_periods "
                "WHERE report = ? AND granularity = ? AND k = ? AND version = ? "
                "AND period >= ? AND period <= ?",
                (report, granularity, k, version, min(periods), max(periods)),
            )
            rows = cur.fetchall()
        wanted = set(periods)
        return {
            p: CachedPeriod(PeriodKey(report, granularity, p, k, version), f, last, float(a), b)
            for p, f, last, a, b in rows
            if p in wanted
        }

    def store_period(self, entry: CachedPeriod, epoch: int) -> bool:
        """Stores (or replaces) one period's answer unless an erasure or a purge advanced the
        epoch since `epoch` was read; whether it was stored."""
        with self.transaction() as cur:
            cur.execute("UPDATE report_epoch SET n = n")  # waits for an erasure in flight
            cur.execute("SELECT n FROM report_epoch")
            if int(cur.fetchone()[0]) != epoch:
                return False
            cur.execute(f"DELETE FROM report_periods WHERE {_KEY}", entry.key)
            cur.execute(
                "INSERT INTO report_periods (report, granularity, period, k, version, "
                "first_day, last_day, as_of, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*entry.key, entry.first_day, entry.last_day, entry.as_of, entry.body),
            )
        return True

    def cached_entries(self) -> list[CachedPeriod]:
        """Every cached answer, without its body."""
        with self.reading() as cur:
            cur.execute(
                "SELECT report, granularity, period, k, version, first_day, last_day, as_of "
                "FROM report_periods"
            )
            rows = cur.fetchall()
        return [
            CachedPeriod(PeriodKey(r[0], r[1], r[2], int(r[3]), r[4]), r[5], r[6], float(r[7]), "")
            for r in rows
        ]

    def received_days(self, since: float) -> dict[str, float]:
        """The days of the records received since `since` (epoch seconds), each with the
        latest receipt (records_received finds them without a scan)."""
        with self.reading() as cur:
            cur.execute(
                "SELECT day, MAX(received_at) FROM records WHERE received_at >= ? GROUP BY day",
                (since,),
            )
            return {day: float(at) for day, at in cur.fetchall()}

    def mark_checked(self, entries: Sequence[CachedPeriod], as_of: float) -> None:
        """Moves these answers' as_of up to `as_of`: nothing received since theirs changed them."""
        if not entries:
            return
        with self.transaction() as cur:
            cur.executemany(
                f"UPDATE report_periods SET as_of = ? WHERE {_KEY} AND as_of < ?",
                [(as_of, *e.key, as_of) for e in entries],
            )

    def drop_periods(self, entries: Sequence[CachedPeriod]) -> None:
        """Deletes these answers unless they were computed again since they were listed."""
        if not entries:
            return
        with self.transaction() as cur:
            cur.executemany(
                f"DELETE FROM report_periods WHERE {_KEY} AND as_of <= ?",
                [(*e.key, e.as_of) for e in entries],
            )
