"""Report queries over outcome counts and active days, summed in SQL (GROUP BY) so a report
reads one row per person, tool and week, never one per record or day (mixed into
`aitally.ingest.storage.Storage`)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from aitally.ingest.rows import Bucket, Engaged, OutcomeSums

# As rows.Activity.active: presence alone is not use. Per record, since a sum of
# non-negative figures is above 0 exactly when one of them is.
ACTIVE = (
    "(r.active_seconds > 0 OR r.turns > 0 OR COALESCE(r.tok_input, 0) + COALESCE(r.tok_output, 0)"
    " + COALESCE(r.tok_cache_read, 0) + COALESCE(r.tok_cache_write, 0)"
    " + COALESCE(r.tok_reasoning, 0) > 0)"
)
_KEPT = "(COALESCE(r.out_edits_accepted, 0) > 0 OR COALESCE(r.out_lines_accepted, 0) > 0)"
_ANY_OUTCOME = (
    "(r.out_edits_proposed IS NOT NULL OR r.out_edits_accepted IS NOT NULL"
    " OR r.out_edits_rejected IS NOT NULL OR r.out_edits_modified IS NOT NULL"
    " OR r.out_lines_added IS NOT NULL OR r.out_lines_removed IS NOT NULL"
    " OR r.out_commands_run IS NOT NULL OR r.out_commands_failed IS NOT NULL"
    " OR r.out_commits IS NOT NULL OR r.out_commits_with_ai IS NOT NULL"
    " OR r.out_lines_suggested IS NOT NULL OR r.out_lines_accepted IS NOT NULL)"
)
AGENTIC = (
    "(COALESCE(r.out_edits_accepted, 0) >= 2 AND COALESCE(r.out_commands_run, 0) >= 1"
    " AND COALESCE(r.out_commits, 0) + COALESCE(r.out_commits_with_ai, 0) >= 1)"
)
"""A multi-step, tool-driven change that reached a commit, within one record (docs/measuring.md):
at least 2 edits kept, at least 1 command run and at least 1 commit."""
_LINES = "COALESCE(r.out_lines_accepted, r.out_lines_added)"
_SUMS = f"""
    SUM(CASE WHEN {ACTIVE} THEN r.active_seconds ELSE 0 END),
    MAX(CASE WHEN {ACTIVE} THEN 1 ELSE 0 END),
    SUM(COALESCE(r.out_edits_accepted, 0)),
    SUM(COALESCE(r.out_edits_accepted, 0) + COALESCE(r.out_edits_rejected, 0)),
    SUM(COALESCE({_LINES}, 0)),
    SUM(CASE WHEN {_LINES} IS NOT NULL THEN r.active_seconds ELSE 0 END),
    SUM(CASE WHEN {_KEPT} THEN 1 ELSE 0 END),
    SUM(CASE WHEN r.kind = 'segment' AND {_KEPT} THEN 1 ELSE 0 END),
    SUM(CASE WHEN r.kind = 'segment' AND {_ANY_OUTCOME} THEN 1 ELSE 0 END),
    SUM(COALESCE(r.out_commits_with_ai, 0)),
    MAX(CASE WHEN r.out_commits_with_ai IS NOT NULL AND {ACTIVE} THEN 1 ELSE 0 END),
    SUM(COALESCE(r.out_commands_failed, 0)),
    SUM(COALESCE(r.out_commands_run, 0)),
    SUM(CASE WHEN {AGENTIC} THEN 1 ELSE 0 END)
"""


def _values(rows: Sequence[tuple[str, ...]]) -> tuple[str, list[str]]:
    """A CTE `b` of the given rows and its parameters ('?' placeholders in both dialects)."""
    width = len(rows[0])
    values = ", ".join(["(" + ", ".join("?" * width) + ")"] * len(rows))
    return values, [v for row in rows for v in row]


def _number(value: Any) -> float:
    """A SUM() as a float (PostgreSQL sums integers as numeric; no rows: None)."""
    return 0.0 if value is None else float(value)


class OutcomeStore:
    """The queries behind the effectiveness, depth and engagement reports."""

    def reading(self) -> AbstractContextManager[Any]:  # pragma: no cover - overridden
        """A cursor inside one read-only transaction (aitally.ingest.storage.Storage)."""
        raise NotImplementedError

    def outcome_sums(self, buckets: Sequence[Bucket]) -> list[OutcomeSums]:
        """Outcome sums per bucket (a period cut at ISO week ends), person, tool and org unit.

        Records are non-pause ones of any kind; only what a figure needs is summed (see the
        fields of OutcomeSums), so a tool that records nothing of a kind adds nothing.
        """
        if not buckets:
            return []
        values, params = _values([(b.period, b.week, b.first_day, b.last_day) for b in buckets])
        with self.reading() as cur:
            cur.execute(
                f"WITH b (period, week, first_day, last_day) AS (VALUES {values}) "
                f"SELECT b.period, b.week, r.person, r.tool, r.org_unit, {_SUMS} "
                "FROM records r JOIN b ON r.day >= b.first_day AND r.day <= b.last_day "
                "WHERE r.kind <> 'pause' "
                "GROUP BY b.period, b.week, r.person, r.tool, r.org_unit",
                params,
            )
            rows = cur.fetchall()
        return [OutcomeSums(*r[:5], *(_number(v) for v in r[5:])) for r in rows]

    def engaged(self, windows: Sequence[tuple[str, str, str]], by_tool: bool) -> list[Engaged]:
        """People active on at least 2 days of each (label, first day, last day) window, per
        tool (by_tool) or on any tool (tool None); a person seen in two org units counts
        once, under the first by name."""
        if not windows:
            return []
        values, params = _values(windows)
        first, last = min(w[1] for w in windows), max(w[2] for w in windows)
        tool, by = ("r.tool", ", r.tool") if by_tool else ("NULL", "")
        with self.reading() as cur:
            # Active days first (one row per person, tool and day, however many records),
            # then the windows over them.
            cur.execute(
                f"WITH w (label, first_day, last_day) AS (VALUES {values}), "
                f"d (person, tool, day, org_unit) AS (SELECT r.person, {tool}, r.day, "
                "MIN(r.org_unit) FROM records r WHERE r.day >= ? AND r.day <= ? "
                f"AND r.kind <> 'pause' AND {ACTIVE} GROUP BY r.person{by}, r.day) "
                "SELECT w.label, d.person, d.tool, MIN(d.org_unit) "
                "FROM d JOIN w ON d.day >= w.first_day AND d.day <= w.last_day "
                # Two distinct days or more: the first and last differ (no DISTINCT sort).
                "GROUP BY w.label, d.person, d.tool HAVING MIN(d.day) < MAX(d.day)",
                [*params, first, last],
            )
            rows = cur.fetchall()
        return [Engaged(*r) for r in rows]
