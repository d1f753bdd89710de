"""Report queries that answer with classes of people rather than people: within a period, the
people with the same profile (which cells they count in, which engaged figures) are one row
with their number, so a report reads a few hundred rows per period whatever the fleet's size
(aitally.ingest.suppress.People counts them; mixed into `aitally.ingest.storage.Storage`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from aitally.ingest.rows import Bucket, PeopleClass
from aitally.ingest.storage_outcomes import values_list

_PART = "\x1f"  # between the parts of an item; no tool name nor org unit holds a control
_ITEM = "\x1e"  # character (aitally.ingest.field_rules, aitally.ingest.identity)


class ClassStore:
    """The class queries behind the adoption report."""

    concat: str
    """the dialect's string aggregate: group_concat (SQLite) or string_agg (PostgreSQL)"""

    def reporting(self) -> AbstractContextManager[Any]:  # pragma: no cover - overridden
        """A cursor for one report's reads (aitally.ingest.storage.Storage)."""
        raise NotImplementedError

    def adoption_classes(
        self, buckets: Sequence[Bucket], windows: Sequence[tuple[str, str, str]]
    ) -> list[PeopleClass]:
        """Per period, the classes of people with active use in a bucket of it or engaged in
        its (period, first day, last day) window: the (tool, org unit) cells each counts in,
        the tools on which (and whether on any) it was active on 2+ days of the window."""
        if not buckets:
            return []
        days, d_params = values_list(_days_of(buckets))
        first, last = min(w[1] for w in windows), max(w[2] for w in windows)
        engaged, e_params = _engaged_items(windows)
        with self.reporting() as cur:
            # a: the active person-days of the windows (a month's first days may lie before
            # its window: its cells read the rollup by the buckets' days).
            cur.execute(
                f"WITH b (day, period) AS (VALUES {days}), "
                "a AS (SELECT person, tool, day, org_unit FROM person_days "
                "WHERE day >= ? AND day <= ? AND active_records > 0), "
                f"{engaged}, "
                # Cells: the rollup looked up by each bucket's day (its key starts with day),
                # not read from `a`, which holds the windows' days only.
                "items (period, person, item) AS ("
                f"SELECT DISTINCT b.period, d.person, 'c{_PART}' || d.tool || '{_PART}' || "
                "d.org_unit FROM b JOIN person_days d ON d.day = b.day "
                "WHERE d.active_records > 0 "
                "UNION ALL SELECT period, person, item FROM e) "
                "SELECT period, profile, COUNT(*) FROM "
                f"(SELECT period, person, {self.concat}(item, '{_ITEM}') AS profile "
                "FROM items GROUP BY period, person) p GROUP BY period, profile",
                [*d_params, first, last, *e_params],
            )
            rows = cur.fetchall()
        merged: dict[tuple[str, frozenset[str]], int] = {}
        for period, profile, n in rows:
            # The aggregate's order is not fixed: the same items may come in two orders.
            key = (period, frozenset(profile.split(_ITEM)))
            merged[key] = merged.get(key, 0) + int(n)
        out = []
        for (period, items), n in merged.items():
            parts = [i.split(_PART) for i in items]
            cells = frozenset((p[1], p[2] or None) for p in parts if p[0] == "c")
            tools = frozenset(p[1] for p in parts if p[0] == "e")
            out.append(PeopleClass(period, cells, tools, "a" in items, n))
        return out


def _engaged_items(windows: Sequence[tuple[str, str, str]]) -> tuple[str, list[str]]:
    """The CTE `e (period, person, item)` over `a` (active person-days): per period, the
    people active on 2+ days of its window on a tool ('e' item) and on any ('a'), each once;
    and its parameters.

    One window (one period, as a cache refreshing the current period asks): the days of the
    window grouped per person (and tool), no two days alike. Several: a window function per
    person (and tool) finds each active day's previous one (prev), and a day with prev in the
    same window makes it two (day and prev); days meet their windows by equality (one lookup
    each), never by a range join over every row.
    """
    if len(windows) == 1:
        period, first_day, _ = windows[0]
        return (
            "e (period, person, item) AS ("
            f"SELECT CAST(? AS TEXT), person, 'e{_PART}' || tool FROM a WHERE day >= ? "
            "GROUP BY person, tool HAVING MIN(day) < MAX(day) "
            "UNION ALL SELECT CAST(? AS TEXT), person, 'a' FROM a WHERE day >= ? "
            "GROUP BY person HAVING MIN(day) < MAX(day))"
        ), [period, first_day, period, first_day]
    spans, params = values_list(_windows_of(windows))
    return (
        f"w (day, period, first_day) AS (VALUES {spans}), "
        "t AS (SELECT person, tool, day, "
        "LAG(day) OVER (PARTITION BY person, tool ORDER BY day) AS prev "
        "FROM (SELECT DISTINCT person, tool, day FROM a) x), "
        "n AS (SELECT person, day, LAG(day) OVER (PARTITION BY person ORDER BY day) "
        "AS prev FROM (SELECT DISTINCT person, day FROM a) x), "
        "e (period, person, item) AS ("
        f"SELECT DISTINCT w.period, t.person, 'e{_PART}' || t.tool "
        "FROM t JOIN w ON w.day = t.day WHERE t.prev >= w.first_day "
        "UNION ALL SELECT DISTINCT w.period, n.person, 'a' "
        "FROM n JOIN w ON w.day = n.day WHERE n.prev >= w.first_day)"
    ), params


def _days_of(buckets: Sequence[Bucket]) -> list[tuple[str, str]]:
    """(day, period) for every day of the buckets."""
    out = []
    for b in buckets:
        day = dt.date.fromisoformat(b.first_day)
        while day.isoformat() <= b.last_day:
            out.append((day.isoformat(), b.period))
            day += dt.timedelta(days=1)
    return out


def _windows_of(windows: Sequence[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """(day, period, the window's first day) for every day of each (period, first, last)."""
    out = []
    for period, first, last in windows:
        day = dt.date.fromisoformat(first)
        while day.isoformat() <= last:
            out.append((day.isoformat(), period, first))
            day += dt.timedelta(days=1)
    return out
