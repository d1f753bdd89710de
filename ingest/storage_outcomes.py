"""Report queries over outcome counts and active days, summed in SQL (GROUP BY) from the
rollups (aitally.ingest.rollups): the effectiveness report reads classes of people (who look the
same to it) and sums per period, tool and org unit; levels read one row per person; never one
per record or day (mixed into `aitally.ingest.storage.Storage`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from aitally.ingest.rows import (
    FIGURE_SUMS,
    Bucket,
    OutcomeCell,
    OutcomeClass,
    OutcomeItem,
    PersonFigures,
    SeenIn,
)

_PART = "\x1f"  # between the parts of an item; no tool name nor org unit holds a control
_ITEM = "\x1e"  # character (aitally.ingest.field_rules, aitally.ingest.identity)


def values_list(rows: Sequence[tuple[str, ...]]) -> tuple[str, list[str]]:
    """A VALUES list of the given rows and its parameters ('?' placeholders in both dialects)."""
    width = len(rows[0])
    values = ", ".join(["(" + ", ".join("?" * width) + ")"] * len(rows))
    return values, [v for row in rows for v in row]


def _number(value: Any) -> float:
    """A SUM() as a float (PostgreSQL sums integers as numeric; no rows: None)."""
    return 0.0 if value is None else float(value)


class OutcomeStore:
    """The queries behind the effectiveness, depth and engagement reports."""

    concat: str
    """the dialect's string aggregate: group_concat (SQLite) or string_agg (PostgreSQL)"""

    def reporting(self) -> AbstractContextManager[Any]:  # pragma: no cover - overridden
        """A cursor for one report's reads (aitally.ingest.storage.Storage)."""
        raise NotImplementedError

    def outcomes(self, buckets: Sequence[Bucket]) -> tuple[list[OutcomeClass], list[OutcomeCell]]:
        """What the effectiveness report reads, from one pass over the rollup (the per-bucket
        sums `s`, used twice, are computed once):

        - per period, the classes of people with active use in it who look the same to the
          report: in which (tool, org unit) cells they count, to which figures they contribute
          there, and in which weeks an active record carried commits_with_ai;
        - per period, tool and org unit, each figure's sums over the rows of people with
          active use that contribute to it (its denominator above 0).
        """
        if not buckets:
            return [], []
        days, params = values_list(_bucket_days(buckets))
        figures = range(len(FIGURE_SUMS))
        flags = " || ".join(f"CASE WHEN SUM(d{i}) > 0 THEN '{i}' ELSE '' END" for i in figures)
        sums = ", ".join(
            f"SUM(CASE WHEN d{i} > 0 THEN n{i} ELSE 0 END), SUM(d{i})" for i in figures
        )
        with self.reporting() as cur:
            # s: per bucket, person, tool and org unit ('' for none) with active use, the
            # figures' numerators n0..n4 and denominators d0..d4 (FIGURE_SUMS; d4 is 1 when an
            # active record carries commits_with_ai). Days meet their bucket by equality (one
            # lookup each), never by a range join. Rows of sums have no class size (NULL).
            cur.execute(
                f"WITH b (day, period, week) AS (VALUES {days}), s AS ("
                "SELECT b.period, b.week, d.person, d.tool, d.org_unit, "
                "SUM(d.edits_accepted) AS n0, SUM(d.edits_decided) AS d0, "
                "SUM(d.lines_kept) AS n1, SUM(d.lines_seconds) AS d1, "
                "SUM(d.kept_sessions) AS n2, SUM(d.outcome_sessions) AS d2, "
                "SUM(d.commands_failed) AS n3, SUM(d.commands_run) AS d3, "
                "SUM(d.commits_with_ai) AS n4, "
                "MAX(CASE WHEN d.commit_records > 0 THEN 1 ELSE 0 END) AS d4 "
                "FROM person_days d JOIN b ON b.day = d.day "
                "GROUP BY b.period, b.week, d.person, d.tool, d.org_unit "
                "HAVING MAX(d.active_records) > 0) "
                f"SELECT period, profile, COUNT(*), {', '.join(['NULL'] * 2 * len(figures))} "
                f"FROM (SELECT period, person, {self.concat}(item, '{_ITEM}') AS profile "
                f"FROM (SELECT period, person, tool || '{_PART}' || org_unit || '{_PART}' || "
                f"{flags} || '{_PART}' || "
                f"COALESCE({self.concat}(CASE WHEN d4 > 0 THEN week END, ','), '') AS item "
                "FROM s GROUP BY period, person, tool, org_unit) i GROUP BY period, person) p "
                "GROUP BY period, profile "
                f"UNION ALL SELECT period, tool || '{_PART}' || org_unit, NULL, {sums} FROM s "
                "GROUP BY period, tool, org_unit",
                params,
            )
            rows = cur.fetchall()
        merged: dict[tuple[str, frozenset[OutcomeItem]], int] = {}
        cells = []
        for period, text, n, *values in rows:
            if n is None:
                tool, org_unit = text.split(_PART)
                cells.append(
                    OutcomeCell(period, tool, org_unit or None, tuple(_number(v) for v in values))
                )
                continue
            # The aggregates' order is not fixed: the same items may come in two orders.
            items = frozenset(_item(i) for i in text.split(_ITEM))
            merged[(period, items)] = merged.get((period, items), 0) + int(n)
        classes = [OutcomeClass(period, items, n) for (period, items), n in merged.items()]
        return classes, cells

    def person_figures(
        self, weeks: Sequence[Bucket], since4: str, tool: str | None
    ) -> list[PersonFigures]:
        """Per person with active use in the weeks (one bucket each) on tool (or any): active
        weeks, and from since4 on active seconds, active use, kept changes, agentic tools."""
        if not weeks:
            return []
        values, params = values_list([(b.week, b.first_day, b.last_day) for b in weeks])
        only = "AND d.tool = ?" if tool else ""
        with self.reporting() as cur:
            cur.execute(
                f"WITH b (week, first_day, last_day) AS (VALUES {values}) "
                "SELECT d.person, COUNT(DISTINCT b.week), "
                "SUM(CASE WHEN d.day >= ? THEN d.active_seconds ELSE 0 END), "
                "MAX(CASE WHEN d.day >= ? THEN 1 ELSE 0 END), "
                "MAX(CASE WHEN d.day >= ? AND d.kept_records > 0 THEN 1 ELSE 0 END), "
                "COUNT(DISTINCT CASE WHEN d.day >= ? AND d.agentic_segments > 0 "
                "THEN d.tool END) "
                "FROM person_days d JOIN b ON d.day >= b.first_day AND d.day <= b.last_day "
                f"WHERE d.active_records > 0 {only} GROUP BY d.person",
                [*params, since4, since4, since4, since4, *([tool] if tool else [])],
            )
            rows = cur.fetchall()
        return [
            PersonFigures(r[0], int(r[1]), _number(r[2]), bool(r[3]), bool(r[4]), int(r[5]))
            for r in rows
        ]

    def seen_in(self, since_day: str, until_day: str) -> list[SeenIn]:
        """Per person and org unit, the rollup rows (active or not) over the days given."""
        with self.reporting() as cur:
            cur.execute(
                "SELECT person, NULLIF(org_unit, ''), COUNT(*) FROM person_days "
                "WHERE day >= ? AND day <= ? GROUP BY person, org_unit",
                (since_day, until_day),
            )
            rows = cur.fetchall()
        return [SeenIn(r[0], r[1], int(r[2])) for r in rows]


def _item(text: str) -> OutcomeItem:
    tool, org_unit, flags, weeks = text.split(_PART)
    return OutcomeItem(
        tool,
        org_unit or None,
        frozenset(FIGURE_SUMS[int(i)] for i in flags),
        frozenset(w for w in weeks.split(",") if w),
    )


def _bucket_days(buckets: Sequence[Bucket]) -> list[tuple[str, str, str]]:
    """(day, period, week) for every day of the buckets."""
    out = []
    for b in buckets:
        day = dt.date.fromisoformat(b.first_day)
        while day.isoformat() <= b.last_day:
            out.append((day.isoformat(), b.period, b.week))
            day += dt.timedelta(days=1)
    return out
