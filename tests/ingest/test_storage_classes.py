"""Adoption's classes of people (ingest/storage_classes.py) equal counting person by person from
the rollup's rows, for one period (as a cache refreshing the current period asks) and for a
report's whole window, at every granularity, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

from aitally.ingest.reports import _engaged_windows, buckets, window
from aitally.ingest.rows import Bucket, PeopleClass
from aitally.ingest.storage import Storage, open_storage
from tests.ingest import fleet_db
from tests.ingest.conftest import BACKENDS, backend_db
from tests.privacy.conftest import query

END = dt.date(2026, 11, 30)  # a Monday: the fleet's 8 weeks end the day before
FIRST_ONLY = "hmac:k1:first-of-month-only"
"""Active on 1 November alone: a month's first days lie before its 28-day engaged window."""

Profile = tuple[str, frozenset[tuple[str, str | None]], frozenset[str], bool]


@pytest.fixture(scope="module", params=BACKENDS)
def fleet(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Storage, str]]:
    """A seeded fleet of 150 people over 8 weeks and one planted person, and its URL."""
    db = backend_db(request, tmp_path_factory.mktemp("classes"))
    storage = open_storage(db)
    fleet_db.fill(storage, 150, weeks=8, end=END, seed=3)
    fleet_db.add_record(storage, FIRST_ONLY, "unit-0000", "codex", dt.date(2026, 11, 1))
    yield storage, db
    storage.close()


def by_person(db: str, cut: list[Bucket], windows: list[tuple[str, str, str]]) -> Counter[Any]:
    """The classes as counted one person at a time from the rollup's active rows."""
    active: dict[str, list[tuple[str, str, str | None]]] = defaultdict(list)
    for person, day, tool, org_unit in query(
        db, "SELECT person, day, tool, org_unit FROM person_days WHERE active_records > 0"
    ):
        active[person].append((day, tool, org_unit or None))
    out: Counter[Profile] = Counter()
    for period, first, last in windows:
        days = {b.first_day: b.last_day for b in cut if b.period == period}
        for rows in active.values():
            cells = frozenset(
                (tool, org) for day, tool, org in rows if any(f <= day <= days[f] for f in days)
            )
            seen = [(day, tool) for day, tool, _ in rows if first <= day <= last]
            tools = frozenset(
                t for t in {t for _, t in seen} if len({d for d, x in seen if x == t}) >= 2
            )
            engaged = len({d for d, _ in seen}) >= 2
            if cells or engaged:
                out[(period, cells, tools, engaged)] += 1
    return out


def by_class(classes: list[PeopleClass]) -> Counter[Profile]:
    """The classes' people per profile."""
    out: Counter[Profile] = Counter()
    for c in classes:
        out[(c.period, c.cells, c.engaged_tools, c.engaged)] += c.people
    return out


@pytest.mark.parametrize("granularity", ["day", "week", "month"])
@pytest.mark.parametrize(
    "since", [None, dt.date(2026, 11, 1), dt.date(2026, 11, 27), dt.date(2026, 11, 29)]
)
def test_classes_equal_people_counted_one_by_one(
    fleet: tuple[Storage, str], granularity: str, since: dt.date | None
) -> None:
    """One period (since = until) and the default window of many periods: the same people."""
    storage, db = fleet
    start, end = window(granularity, since, since or END - dt.timedelta(days=1))
    cut = buckets(granularity, start, end)
    windows = _engaged_windows(sorted({b.period for b in cut}), granularity)
    assert (len(windows) == 1) == (since is not None)
    got = by_class(storage.adoption_classes(cut, windows))
    assert got == by_person(db, cut, windows)
    assert sum(got.values()) > 100  # the engaged alone are most of the fleet


def test_a_month_counts_people_active_before_its_engaged_window(fleet: tuple[Storage, str]) -> None:
    """Someone active on the month's first day only is active in that month (its 28-day
    engaged window starts on the 3rd), whether the month is asked alone or in a window."""
    storage, db = fleet
    for since in (dt.date(2026, 11, 15), dt.date(2026, 10, 15)):
        start, end = window("month", since, dt.date(2026, 11, 15))
        cut = buckets("month", start, end)
        windows = _engaged_windows(sorted({b.period for b in cut}), "month")
        november = [
            c
            for c in storage.adoption_classes(cut, windows)
            if c.period == "2026-11-01" and ("codex", "unit-0000") in c.cells
        ]
        assert any(len(c.cells) == 1 and not c.engaged for c in november), since
    assert query(db, "SELECT day FROM person_days WHERE person = ?", (FIRST_ONLY,)) == [
        ("2026-11-01",)
    ]
