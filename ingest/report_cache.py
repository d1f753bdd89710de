"""Report answers kept per period: a report over a window reads its periods' stored answers
instead of every person-day of the window (docs/measuring.md, "Cached answers").

The reports of periods (adoption, usage, effectiveness) compute and suppress each period on its
own: `reports.window` widens a window to whole periods, usage suppresses day by day inside its
period, adoption's engaged figure reads the 28 days up to its period's end. So a window's answer
is its periods' one-period answers, rows concatenated in period order
(tests/ingest/test_report_cache.py checks it byte for byte). Levels depend on the ISO week of
their as-of day only, and are kept for all tools. Rows are kept after suppression, so a cached
answer is exactly what the report would have said at its `as_of`.

A period not kept yet is computed live and stored (read-through); one kept is served as it is
until the refresher (aitally.ingest.report_refresh) computes it again. With the cache off
(`serve --report-refresh 0`) every answer is computed live.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from aitally.ingest import effectiveness, levels
from aitally.ingest.reports import (
    ENGAGED_DAYS,
    REPORT_VERSION,
    adoption,
    period_end,
    period_start,
    usage,
    window,
)
from aitally.ingest.rows import CachedPeriod, PeriodKey
from aitally.ingest.storage import Storage

PeriodReport = Callable[[Storage, str, dt.date | None, dt.date | None, int], dict[str, Any]]
PERIOD_REPORTS: dict[str, tuple[PeriodReport, tuple[str, ...]]] = {
    "adoption": (adoption, ("day", "week", "month")),
    "usage": (usage, ("day", "week", "month")),
    "effectiveness": (effectiveness.effectiveness, ("week", "month")),
}
"""The reports of periods, each with the granularities it answers."""
ROW_LISTS = ("rows", "models")
"""The lists of rows a report of periods answers, each in period order."""
LEVELS = "levels."
"""The cache's name of a levels recipe's answers: levels.<recipe>."""
VERSION = str(REPORT_VERSION)


def as_of_text(at: float) -> str:
    """An answer's as_of: UTC, to the second (docs/wire-protocol.md, Reports)."""
    return dt.datetime.fromtimestamp(at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def period_starts(granularity: str, start: dt.date, end: dt.date) -> list[str]:
    """The first days of the periods from start to end (whole periods), oldest first."""
    out = []
    day = start
    while day <= end:
        out.append(day.isoformat())
        day = period_end(day, granularity) + dt.timedelta(days=1)
    return out


def days_read(key: PeriodKey) -> tuple[str, str]:
    """The first and last day whose records a cached answer depends on."""
    first = dt.date.fromisoformat(key.period)
    if key.report.startswith(LEVELS):
        # levels read the 12 full ISO weeks before the as-of week (aitally.ingest.levels)
        return (first - dt.timedelta(weeks=12)).isoformat(), (first - dt.timedelta(1)).isoformat()
    last = period_end(first, key.granularity)
    if key.report == "adoption":
        first = min(first, last - dt.timedelta(days=ENGAGED_DAYS - 1))
    return first.isoformat(), last.isoformat()


RUN = {"day": 7, "week": 4, "month": 1}
"""Periods computed together at most (memory grows with them, the time per period falls)."""


def runs(keys: Sequence[PeriodKey]) -> list[list[PeriodKey]]:
    """Keys of reports of periods as runs of consecutive periods of one report, granularity,
    k and version, at most RUN[granularity] long, oldest period first."""
    out: list[list[PeriodKey]] = []
    for key in sorted(keys, key=lambda k: (k.report, k.granularity, k.k, k.version, k.period)):
        last = out[-1][-1] if out else None
        follows = (
            last is not None
            and last[:2] == key[:2]
            and last[3:] == key[3:]
            and len(out[-1]) < RUN[key.granularity]
            and period_end(dt.date.fromisoformat(last.period), key.granularity)
            + dt.timedelta(days=1)
            == dt.date.fromisoformat(key.period)
        )
        if follows:
            out[-1].append(key)
        else:
            out.append([key])
    return out


class CachedReports:
    """The reports as the API and the dashboard answer them: from the cache where enabled."""

    def __init__(self, storage: Storage, enabled: bool, hours: tuple[float, float, float]) -> None:
        self.storage = storage
        self.enabled = enabled
        self.hours = hours
        """the absolute levels recipe's thresholds (Settings.absolute_hours)"""

    def version(self, report: str) -> str:
        """The version a cached answer of this report is kept under (levels: with its recipe's,
        which names the absolute recipe's thresholds)."""
        if report.startswith(LEVELS):
            return f"{VERSION}:{levels.recipe_version(report.removeprefix(LEVELS), self.hours)}"
        return VERSION

    def levels_key(self, recipe: str, as_of: dt.date, k: int) -> PeriodKey:
        """Where the levels of a recipe as of a day, all tools, are kept."""
        monday = period_start(as_of, "week").isoformat()
        return PeriodKey(LEVELS + recipe, "week", monday, k, self.version(LEVELS + recipe))

    def compute(self, key: PeriodKey) -> CachedPeriod:
        """One period's answer computed live from the database, and stored unless an erasure
        or a purge ran meanwhile."""
        if not key.report.startswith(LEVELS):
            return self.compute_periods([key])[0]
        epoch = self.storage.report_epoch()  # before any read the answer rests on
        started = time.time()
        recipe = key.report.removeprefix(LEVELS)
        day = dt.date.fromisoformat(key.period)
        doc = levels.levels(self.storage, recipe, day, None, key.k, self.hours)
        entry = CachedPeriod(key, *days_read(key), started, json.dumps(doc))
        self.storage.store_period(entry, epoch)
        return entry

    def compute_periods(self, keys: Sequence[PeriodKey]) -> list[CachedPeriod]:
        """Consecutive periods of one report of periods (a run of `runs`) computed live by one
        computation over the window they span, each period's answer its rows of it, each
        stored on its own unless an erasure or a purge ran meanwhile. A day's adoption reads
        its 28-day engaged window: a week of days at once reads 34 days, not 196."""
        epoch = self.storage.report_epoch()  # before any read the answers rest on
        started = time.time()
        report, _ = PERIOD_REPORTS[keys[0].report]
        first, last = (dt.date.fromisoformat(k.period) for k in (keys[0], keys[-1]))
        doc = report(self.storage, keys[0].granularity, first, last, keys[0].k)
        out = []
        for key in keys:
            part = dict(doc)
            end = period_end(dt.date.fromisoformat(key.period), key.granularity)
            part["since"], part["until"] = key.period, end.isoformat()
            for rows in ROW_LISTS:
                if rows in doc:
                    part[rows] = [row for row in doc[rows] if row["period"] == key.period]
            entry = CachedPeriod(key, *days_read(key), started, json.dumps(part))
            self.storage.store_period(entry, epoch)
            out.append(entry)
        return out

    def period_report(
        self, name: str, granularity: str, since: dt.date | None, until: dt.date | None, k: int
    ) -> dict[str, Any]:
        """A report of periods (PERIOD_REPORTS) over whole periods since..until, with as_of."""
        report, _ = PERIOD_REPORTS[name]
        start, end = window(granularity, since, until)
        periods = period_starts(granularity, start, end)
        if not self.enabled or not periods:
            started = time.time()
            return {
                **report(self.storage, granularity, since, until, k),
                "as_of": as_of_text(started),
            }
        kept = self.storage.cached_periods(name, granularity, periods, k, VERSION)
        missing = [PeriodKey(name, granularity, p, k, VERSION) for p in periods if p not in kept]
        for run in runs(missing):
            kept.update((e.key.period, e) for e in self.compute_periods(run))
        entries = [kept[p] for p in periods]
        docs = [json.loads(e.body) for e in entries]
        doc: dict[str, Any] = docs[0]
        doc["since"], doc["until"] = start.isoformat(), end.isoformat()
        for rows in ROW_LISTS:
            if rows in doc:
                doc[rows] = [row for d in docs for row in d[rows]]
        doc["as_of"] = as_of_text(min(e.as_of for e in entries))
        return doc

    def levels(
        self, recipe: str, as_of: dt.date | None, tool: str | None, k: int
    ) -> dict[str, Any]:
        """The levels report (aitally.ingest.levels.levels), with as_of; all tools' from the
        cache where enabled."""
        if not self.enabled or tool is not None or recipe not in levels.RECIPES:
            started = time.time()
            doc = levels.levels(self.storage, recipe, as_of, tool, k, self.hours)
            return {**doc, "as_of": as_of_text(started)}
        key = self.levels_key(recipe, as_of or dt.datetime.now(dt.UTC).date(), k)
        kept = self.storage.cached_periods(
            key.report, key.granularity, [key.period], k, key.version
        )
        entry = kept.get(key.period) or self.compute(key)
        return {**json.loads(entry.body), "as_of": as_of_text(entry.as_of)}
