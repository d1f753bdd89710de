"""The report cache's refresher: every `serve --report-refresh` seconds, in worker 0 only, it
computes again the cached periods whose records changed and fills the ones a dashboard reads
by default (docs/measuring.md, "Cached answers").

Change detection reads the days of the records received since each cached answer's as_of, less
RECEIPT_MARGIN: a batch commits at most BATCH_DEADLINE after its received_at
(aitally.ingest.storage), so a record the answer's reads did not see is always found, even one
whose transaction was still open while the pass ran. Nothing is written per upload: the
index on records(received_at) does the work. An answer nothing changed keeps its rows and
moves its as_of up to the pass's start. Deletions (erasure, rename, retention) do not wait for
a pass: they drop the answers they touch in their own transaction
(aitally.ingest.storage_report_cache).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from typing import NamedTuple

from aitally.ingest.levels import RECIPES
from aitally.ingest.report_cache import (
    LEVELS,
    PERIOD_REPORTS,
    VERSION,
    CachedReports,
    period_starts,
    runs,
)
from aitally.ingest.reports import GRANULARITIES, MAX_DAYS, window
from aitally.ingest.rows import CachedPeriod, PeriodKey
from aitally.ingest.storage import BATCH_DEADLINE

log = logging.getLogger(__name__)
RECEIPT_MARGIN = 3 * BATCH_DEADLINE
"""Seconds before an answer's as_of from which received records count as changes: a batch's
transaction ends within BATCH_DEADLINE of its received_at; the rest is room for its commit
and for the clocks of several ingest replicas."""


ORDER = {"week": 0, "month": 1, "day": 2}
"""Which periods a pass computes first (then the newest first): the dashboard's by default."""


def _newest(run: list[PeriodKey]) -> str:
    return run[-1].period


class PassResult(NamedTuple):
    """What one refresh pass did."""

    computed: int
    """periods computed (missing, or changed since they were)"""
    checked: int
    """cached periods found unchanged"""
    dropped: int
    """cached periods deleted: changed but not kept warm, or of an older version"""
    seconds: float


def warm_keys(cache: CachedReports, today: dt.date, k: int) -> list[PeriodKey]:
    """What the refresher keeps cached: every report of periods over the longest window it
    accepts (reports.MAX_DAYS) up to today, newest period first, at k; levels of every recipe
    as of today, all tools."""
    keys = []
    for granularity in GRANULARITIES:
        first = today - dt.timedelta(days=MAX_DAYS[granularity] - 1)
        start, end = window(granularity, first, today, today)
        for period in reversed(period_starts(granularity, start, end)):
            keys += [
                PeriodKey(name, granularity, period, k, VERSION)
                for name, (_, granularities) in PERIOD_REPORTS.items()
                if granularity in granularities
            ]
    return keys + [cache.levels_key(recipe, today, k) for recipe in RECIPES]


def _changed(entry: CachedPeriod, received: dict[str, float]) -> bool:
    """Whether records were received, on a day the answer reads, since its as_of (less the
    margin)."""
    since = entry.as_of - RECEIPT_MARGIN
    return any(
        entry.first_day <= day <= entry.last_day and at >= since for day, at in received.items()
    )


def refresh_pass(
    cache: CachedReports, k: int, stop: threading.Event | None = None, today: dt.date | None = None
) -> PassResult:
    """One pass: unchanged answers marked current, changed ones computed again (kept warm) or
    dropped (read through again when asked for), missing warm ones computed; a run of a few
    consecutive periods at a time (report_cache.runs: memory stays that of a short window),
    each period stored in a transaction of its own."""
    started = time.time()
    storage = cache.storage
    keys = warm_keys(cache, today or dt.datetime.now(dt.UTC).date(), k)
    entries = storage.cached_entries()
    floor = min((e.as_of for e in entries), default=started) - RECEIPT_MARGIN
    received = storage.received_days(floor)
    stale = [e for e in entries if e.key.version != cache.version(e.key.report)]
    current = [e for e in entries if e.key.version == cache.version(e.key.report)]
    changed = [e for e in current if _changed(e, received)]
    storage.mark_checked([e for e in current if not _changed(e, received)], started)
    warm = set(keys)
    storage.drop_periods([*stale, *(e for e in changed if e.key not in warm)])
    cached = {e.key for e in current} - {e.key for e in changed}
    todo = [key for key in keys if key not in cached]
    computed = 0
    levels = [key for key in todo if key.report.startswith(LEVELS)]
    stretches = sorted(runs([key for key in todo if key not in levels]), key=_newest, reverse=True)
    stretches.sort(key=lambda run: ORDER[run[0].granularity])
    batches = [[key] for key in levels] + stretches
    for batch in batches:
        if stop is not None and stop.is_set():
            break
        if batch[0].report.startswith(LEVELS):
            cache.compute(batch[0])
        else:
            cache.compute_periods(batch)
        computed += len(batch)
    dropped = len(stale) + sum(e.key not in warm for e in changed)
    checked = len(current) - len(changed)
    return PassResult(computed, checked, dropped, round(time.time() - started, 3))


class Refresher:
    """Runs a refresh pass, then another `every` seconds after it ends, in a thread of its
    own, until stopped."""

    def __init__(self, cache: CachedReports, k: int, every: float) -> None:
        self.cache, self.k, self.every = cache, k, every
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="aitally-ingest-report-refresh", daemon=True
        )

    def start(self) -> None:
        """Starts the passes; the first one right away (it fills the cache)."""
        self._thread.start()

    def stop(self, wait: float = 5.0) -> None:
        """Stops after the period being computed (waits at most `wait` seconds for it)."""
        self._stop.set()
        self._thread.join(timeout=wait)

    def _run(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                done = refresh_pass(self.cache, self.k, self._stop)
                extra = {"event": "report_refresh", "pid": os.getpid(), **done._asdict()}
                log.info("report refresh pass", extra=extra)
                failing = False
            except Exception as exc:  # the next pass tries again; the reports read through
                if not failing:  # once per run of failures, not once a pass
                    log.warning("report refresh pass failed: %s", exc)
                failing = True
            self._stop.wait(self.every)
