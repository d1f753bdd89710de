"""Report queries over outcome counts and active days, summed in SQL (GROUP BY) from the
rollups (aitally.ingest.rollups) so a report reads one row per person, tool and week, never one
per record or day (mixed into `aitally.ingest.storage.Storage`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

from aitally.ingest.rows import Bucket, OutcomeSums, PersonFigures, SeenIn

_SUMS = """
    SUM(d.active_seconds),
    MAX(CASE WHEN d.active_records > 0 THEN 1 ELSE 0 END),
    SUM(d.edits_accepted),
    SUM(d.edits_decided),
    SUM(d.lines_kept),
    SUM(d.lines_seconds),
    SUM(d.kept_records),
    SUM(d.kept_sessions),
    SUM(d.outcome_sessions),
    SUM(d.commits_with_ai),
    MAX(CASE WHEN d.commit_records > 0 THEN 1 ELSE 0 END),
    SUM(d.commands_failed),
    SUM(d.commands_run),
    SUM(d.agentic_segments)
"""
"""OutcomeSums' figures from the rollup rows (aitally.ingest.rollups.FIGURES sums per record)."""


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

    def reporting(self) -> AbstractContextManager[Any]:  # pragma: no cover - overridden
        """A cursor for one report's reads (aitally.ingest.storage.Storage)."""
        raise NotImplementedError

    def outcome_sums(self, buckets: Sequence[Bucket]) -> Iterator[OutcomeSums]:
        """Outcome sums per bucket (a period cut at ISO week ends), person, tool and org unit.

        Records are non-pause ones of any kind; only what a figure needs is summed (see the
        fields of OutcomeSums), so a tool that records nothing of a kind adds nothing.
        """
        if not buckets:
            return
        values, params = values_list([(b.period, b.week, b.first_day, b.last_day) for b in buckets])
        with self.reporting() as cur:
            cur.execute(
                f"WITH b (period, week, first_day, last_day) AS (VALUES {values}) "
                f"SELECT b.period, b.week, d.person, d.tool, NULLIF(d.org_unit, ''), {_SUMS} "
                "FROM person_days d JOIN b ON d.day >= b.first_day AND d.day <= b.last_day "
                "GROUP BY b.period, b.week, d.person, d.tool, d.org_unit",
                params,
            )
            while rows := cur.fetchmany(10_000):  # a chunk at a time, as Storage.activity
                for r in rows:
                    yield OutcomeSums(*r[:5], *(_number(v) for v in r[5:]))

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
