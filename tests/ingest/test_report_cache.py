"""The report cache (aitally.ingest.report_cache) on SQLite and PostgreSQL: a window's answer is
its periods' answers concatenated; cached answers are the live ones byte for byte, cold and
warm; an upload shows after the next refresh pass, not before; erasure, rename and retention
leave no cached answer showing what they removed."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aitally.ingest import levels
from aitally.ingest.report_cache import (
    PERIOD_REPORTS,
    ROW_LISTS,
    CachedReports,
    period_starts,
    runs,
)
from aitally.ingest.report_refresh import refresh_pass
from aitally.ingest.reports import GRANULARITIES
from aitally.ingest.rows import PeriodKey
from aitally.ingest.storage import Storage, open_storage
from tests.ingest.builders import record
from tests.ingest.cache_fleet import HOURS, every_answer, fill, person, upload
from tests.ingest.conftest import BACKENDS, backend_db

TODAY = dt.datetime.now(dt.UTC).date()
YESTERDAY = TODAY - dt.timedelta(days=1)


@pytest.fixture(params=BACKENDS)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """The cache fleet's database, on each backend."""
    opened = open_storage(backend_db(request, tmp_path))
    fill(opened)
    yield opened
    opened.close()


WINDOWS = [(None, None), (TODAY - dt.timedelta(days=75), TODAY - dt.timedelta(days=20))]


@pytest.mark.parametrize("granularity", GRANULARITIES)
def test_a_window_is_its_periods_concatenated(storage: Storage, granularity: str) -> None:
    for name, (report, granularities) in PERIOD_REPORTS.items():
        if granularity not in granularities:
            continue
        for k in (5,) if granularity == "day" else (1, 5, 13):
            for since, until in WINDOWS:
                whole = report(storage, granularity, since, until, k)
                first, last = (dt.date.fromisoformat(whole[d]) for d in ("since", "until"))
                parts = [
                    report(storage, granularity, *(dt.date.fromisoformat(p),) * 2, k)
                    for p in period_starts(granularity, first, last)
                ]
                for rows in ROW_LISTS:
                    if rows in whole:
                        joined = [row for part in parts for row in part[rows]]
                        assert json.dumps(joined) == json.dumps(whole[rows]), (name, k, rows)
                assert whole["rows"], f"{name} by {granularity} shows nothing to compare"


def test_cached_answers_are_the_live_answers(storage: Storage) -> None:
    cache = CachedReports(storage, True, HOURS)
    live = every_answer(CachedReports(storage, False, HOURS), 5)
    assert every_answer(cache, 5) == live  # cold: computed period by period and stored
    assert storage.cached_entries()
    assert every_answer(cache, 5) == live  # warm: read from the cache
    refresh_pass(cache, 5)
    assert every_answer(cache, 5) == live  # refreshed


def test_a_pass_fills_then_computes_only_what_changed(storage: Storage) -> None:
    cache = CachedReports(storage, True, HOURS)
    first = refresh_pass(cache, 1)
    assert first.computed > 200 and first.dropped == 0
    second = refresh_pass(cache, 1)
    assert second.computed == 0 and second.checked == first.computed
    upload(storage, "newcomer", [record(day=YESTERDAY)])
    third = refresh_pass(cache, 1)
    # Yesterday's day, week and month of each report, and adoption's days whose engaged
    # window holds yesterday (up to today, the last day kept warm).
    days_after = (TODAY - YESTERDAY).days
    assert third.computed == 3 + 3 + 2 + days_after, third
    # Within RECEIPT_MARGIN of its receipt a record may belong to a batch still committing:
    # its periods are computed again by every pass until then, and by no other pass.
    assert refresh_pass(cache, 1).computed == third.computed


def test_an_upload_shows_after_the_next_pass(storage: Storage) -> None:
    cache = CachedReports(storage, True, HOURS)
    refresh_pass(cache, 1)
    before = cache.period_report("usage", "day", YESTERDAY, YESTERDAY, 1)
    time.sleep(1.1)  # as_of counts whole seconds
    upload(storage, "newcomer", [record(day=YESTERDAY, tool="newtool", active=3600.0)])
    live = CachedReports(storage, False, HOURS).period_report("usage", "day", YESTERDAY, None, 1)
    assert "newtool" in {r["tool"] for r in live["rows"]}
    # Served as cached until the next pass: the old figures, the older as_of.
    assert cache.period_report("usage", "day", YESTERDAY, YESTERDAY, 1) == before
    refresh_pass(cache, 1)
    after = cache.period_report("usage", "day", YESTERDAY, YESTERDAY, 1)
    assert after["rows"] == live["rows"] and after["models"] == live["models"]
    assert after["as_of"] > before["as_of"]


def test_an_erased_person_leaves_every_cached_answer_at_once(storage: Storage) -> None:
    cache = CachedReports(storage, True, HOURS)
    refresh_pass(cache, 1)
    before = every_answer(cache, 1)
    assert storage.erase({person(0), person(1)}, time.time()) > 0
    live = every_answer(CachedReports(storage, False, HOURS), 1)
    assert live != before, "the erasure changed no answer: the test proves nothing"
    assert every_answer(cache, 1) == live


def test_a_merged_person_counts_once_in_every_cached_answer(storage: Storage) -> None:
    cache = CachedReports(storage, True, HOURS)
    refresh_pass(cache, 1)
    before = every_answer(cache, 1)
    storage.rename_person([(person(2), person(3))])
    live = every_answer(CachedReports(storage, False, HOURS), 1)
    assert live != before
    assert every_answer(cache, 1) == live


def test_retention_leaves_no_cached_answer_of_purged_days(storage: Storage) -> None:
    cache = CachedReports(storage, True, HOURS)
    refresh_pass(cache, 1)
    before = every_answer(cache, 1)
    assert storage.purge_before((TODAY - dt.timedelta(days=40)).isoformat(), pause=0) > 0
    live = every_answer(CachedReports(storage, False, HOURS), 1)
    assert live != before
    assert every_answer(cache, 1) == live


def test_an_answer_read_before_an_erasure_is_not_stored_after_it(storage: Storage) -> None:
    cache = CachedReports(storage, True, HOURS)
    epoch = storage.report_epoch()
    entry = cache.compute(cache.levels_key("volume", TODAY, 1))  # stored: nothing erased
    storage.erase({person(4)}, time.time())
    assert not storage.cached_entries(), "the erasure left a cached answer reading its days"
    assert not storage.store_period(entry, epoch)  # computed before it: refused
    assert storage.store_period(entry, storage.report_epoch())


def test_levels_of_one_tool_and_other_recipes_versions_are_live(storage: Storage) -> None:
    cache = CachedReports(storage, True, HOURS)
    doc = cache.levels("volume", None, "cursor", 5)
    assert doc.pop("as_of")
    assert doc == levels.levels(storage, "volume", None, "cursor", 5, HOURS)
    assert not storage.cached_entries()
    other = CachedReports(storage, True, (20.0, 8.0, 2.0))
    cache.levels("absolute", None, None, 5)
    absolute = other.levels("absolute", None, None, 5)  # other thresholds: not the cached one
    assert absolute["recipe_version"] == "absolute-v1:20h-8h-2h"


def test_runs_are_short_stretches_of_consecutive_periods_of_one_report() -> None:
    day = dt.date(2026, 11, 2)
    days = [(day + dt.timedelta(days=i)).isoformat() for i in range(12) if i != 3]
    keys = [PeriodKey("adoption", "day", d, 5, "1") for d in days]
    keys += [
        PeriodKey("usage", "day", days[0], 5, "1"),
        PeriodKey("adoption", "day", days[1], 1, "1"),
    ]
    got = [[(k.report, k.period[-2:], k.k) for k in run] for run in runs(keys)]
    assert got == [
        [("adoption", "03", 1)],
        [("adoption", "02", 5), ("adoption", "03", 5), ("adoption", "04", 5)],
        [("adoption", f"{d:02d}", 5) for d in range(6, 13)],  # at most a week of days
        [("adoption", "13", 5)],
        [("usage", "02", 5)],
    ]
