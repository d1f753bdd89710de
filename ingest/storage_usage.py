"""Report queries behind the usage report, in two steps that never hand Python one row per
person: classes of people per day (which tools, or which models of a tool, they used: a few
rows per day whatever the fleet's size) decide what each day shows, then one GROUP BY per table
sums every shown cell of a period and counts its distinct people (mixed into
`aitally.ingest.storage.Storage`)."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

from aitally.ingest.rollups import TOKENS
from aitally.ingest.rows import ModelCell, UsageCell, UsageClass
from aitally.ingest.storage_outcomes import values_list

_SEP = "\x1e"  # between names in a profile; tool and model names hold no control character
_NONE = ("", "", "")
"""A row that matches no day: a VALUES list is never empty (SQL has no empty VALUES)."""
_TOK_SUMS = ", ".join(f"SUM({c})" for c in TOKENS)


class UsageStore:
    """The class and cell queries behind the usage report."""

    concat: str
    """the dialect's string aggregate: group_concat (SQLite) or string_agg (PostgreSQL)"""

    def reporting(self) -> AbstractContextManager[Any]:  # pragma: no cover - overridden
        """A cursor for one report's reads (aitally.ingest.storage.Storage)."""
        raise NotImplementedError

    def _classes(self, sql: str, params: Sequence[str]) -> list[UsageClass]:
        """(day, tool, profile, people) rows merged by profile as sets (the aggregate's order
        is not fixed: the same names may come in two orders)."""
        with self.reporting() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        merged: dict[tuple[str, str, frozenset[str]], int] = {}
        for day, tool, profile, n in rows:
            key = (day, tool, frozenset(profile.split(_SEP)))
            merged[key] = merged.get(key, 0) + int(n)
        return [UsageClass(day, tool, names, n) for (day, tool, names), n in merged.items()]

    def tool_classes(self, since_day: str, until_day: str) -> list[UsageClass]:
        """Per day, the people with the same set of tools used that day (any row of the
        rollup, active or not), and how many they are; tool is ''."""
        # A tool twice in a profile (a person in two org units that day) is the same set
        # once merged; without a DISTINCT first, the rollup's key order (day, person) groups
        # the rows as they are read, with no sort.
        return self._classes(
            f"SELECT day, '', profile, COUNT(*) FROM (SELECT day, person, "
            f"{self.concat}(tool, '{_SEP}') AS profile FROM person_days "
            "WHERE day >= ? AND day <= ? GROUP BY day, person) p GROUP BY day, profile",
            (since_day, until_day),
        )

    def model_classes(self, since_day: str, until_day: str) -> list[UsageClass]:
        """Per day and tool, the people with the same set of models, and how many they are."""
        return self._classes(
            f"SELECT day, tool, profile, COUNT(*) FROM (SELECT day, tool, person, "
            f"{self.concat}(model, '{_SEP}') AS profile FROM person_day_models "
            "WHERE day >= ? AND day <= ? GROUP BY day, tool, person) p "
            "GROUP BY day, tool, profile",
            (since_day, until_day),
        )

    def usage_cells(
        self,
        days: Sequence[tuple[str, str, str]],
        renamed: Sequence[tuple[str, str, str]],
        everyone: str,
    ) -> list[UsageCell]:
        """Per period and shown name, distinct people and sums of the rollup rows of `days`
        ((day, period, '1' when the day shows the all-tools row else '0')): a tool's rows count
        under the name `renamed` gives it that day ((day, tool, name); '' for not shown), else
        its own; and, under `everyone`, all rows of the days that show the all-tools row."""
        if not days:
            return []
        p, p_params = values_list(days)
        x, x_params = values_list([*renamed, _NONE])
        figures = ("active_seconds", "sessions", "turns", *TOKENS)
        # c: one row per period, shown name and person, with the person's sums over all its
        # days (s0..) and over the days that show the all-tools row (w0..); people are then
        # counted as rows, never by COUNT(DISTINCT), which sorts every person-day per group.
        per_person = ", ".join(
            f"SUM(d.{f}) AS s{i}, SUM(CASE WHEN p.whole = '1' THEN d.{f} END) AS w{i}"
            for i, f in enumerate(figures)
        )
        shown = ", ".join(f"SUM(s{i})" for i in range(len(figures)))
        whole = ", ".join(f"SUM(w{i})" for i in range(len(figures)))
        whole_of_person = ", ".join(f"SUM(w{i}) AS w{i}" for i in range(len(figures)))
        with self.reporting() as cur:
            cur.execute(
                f"WITH p (day, period, whole) AS (VALUES {p}), "
                f"x (day, tool, name) AS (VALUES {x}), "
                f"c AS (SELECT p.period, COALESCE(x.name, d.tool) AS name, d.person, {per_person}, "
                "MAX(CASE WHEN p.whole = '1' THEN 1 ELSE 0 END) AS in_whole FROM person_days d "
                "JOIN p ON p.day = d.day LEFT JOIN x ON x.day = d.day AND x.tool = d.tool "
                "GROUP BY p.period, COALESCE(x.name, d.tool), d.person) "
                f"SELECT period, name, COUNT(*), {shown} FROM c GROUP BY period, name "
                f"UNION ALL SELECT period, ?, COUNT(*), {whole} FROM (SELECT period, person, "
                f"{whole_of_person} FROM c WHERE in_whole = 1 GROUP BY period, person) a "
                "GROUP BY period",
                [*p_params, *x_params, everyone],
            )
            rows = cur.fetchall()
        return [
            UsageCell(r[0], r[1], int(r[2]), float(r[3] or 0), *(int(v or 0) for v in r[4:]))
            for r in rows
            if r[1]
        ]

    def model_cells(
        self,
        days: Sequence[tuple[str, str, str]],
        renamed_tools: Sequence[tuple[str, str, str]],
        renamed: Sequence[tuple[str, str, str, str]],
    ) -> list[ModelCell]:
        """Per period, tool and shown name, distinct people and token sums of the model rollup
        rows of `days` (as in usage_cells), of the tools shown under their own name that day
        (not in `renamed_tools`): a model counts under the name `renamed` gives it
        ((day, tool, model, name); '' for not shown), else its own."""
        if not days:
            return []
        p, p_params = values_list(days)
        x, x_params = values_list([*renamed_tools, _NONE])
        y, y_params = values_list([*renamed, ("", *_NONE)])
        name = "COALESCE(y.name, m.model)"
        with self.reporting() as cur:
            cur.execute(
                f"WITH p (day, period, whole) AS (VALUES {p}), "
                f"x (day, tool, name) AS (VALUES {x}), y (day, tool, model, name) AS (VALUES {y}) "
                f"SELECT p.period, m.tool, {name}, COUNT(DISTINCT m.person), {_TOK_SUMS} "
                "FROM person_day_models m JOIN p ON p.day = m.day "
                "LEFT JOIN x ON x.day = m.day AND x.tool = m.tool "
                "LEFT JOIN y ON y.day = m.day AND y.tool = m.tool AND y.model = m.model "
                f"WHERE x.tool IS NULL GROUP BY p.period, m.tool, {name}",
                [*p_params, *x_params, *y_params],
            )
            rows = cur.fetchall()
        return [
            ModelCell(r[0], r[1], r[2], int(r[3]), *(int(v or 0) for v in r[4:]))
            for r in rows
            if r[2]
        ]
