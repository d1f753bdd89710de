"""The effectiveness report: what use produced, per period, tool and org unit, as rates.

Five figures (docs/measuring.md), each a ratio of two sums over the records that carry its
inputs, so a tool that records nothing of a kind neither counts as failing nor dilutes the
figure. Beside them, the cell's active people (volume, counted as in the adoption report; hours
are the usage report's, whose per-day suppression a second sum here would undo).

Suppression, beside the rows' (`aitally.ingest.suppress.merge_small`, as the adoption report):
a figure is shown only when at least k people contributed to it, and not when its
contributors differ by 1..k-1 from those of an enclosing figure shown too (the same org
unit's on all tools, the same tool's on all org units): their difference would be the
figure of those few.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aitally.ingest.reports import REPORT_VERSION, ReportError, buckets, window
from aitally.ingest.rows import OutcomeSums
from aitally.ingest.storage import Storage
from aitally.ingest.suppress import ALL, NO_ORG, OTHER, Group, merge_small, nested_safe, total

Ratio = tuple[Callable[[OutcomeSums], float], Callable[[OutcomeSums], float], int]
FIGURES: dict[str, Ratio] = {
    # name: (numerator, denominator, decimals shown)
    "acceptance_rate": (lambda s: s.edits_accepted, lambda s: s.edits_decided, 3),
    "lines_per_active_hour": (lambda s: s.lines_kept, lambda s: s.lines_seconds / 3600, 1),
    "kept_change_share": (lambda s: s.kept_sessions, lambda s: s.outcome_sessions, 3),
    "failure_rate": (lambda s: s.commands_failed, lambda s: s.commands_run, 3),
}
PERSON_WEEKS = "commits_with_ai_per_person_week"
COLUMNS = ["period", "tool", "org_unit", "people", *FIGURES, PERSON_WEEKS]


@dataclass
class Cell:
    """The people of one period, tool and org unit, and each figure's contributors and sums."""

    people: Group
    figures: dict[str, Group] = field(default_factory=dict)
    person_weeks: set[tuple[str, str]] = field(default_factory=set)

    def add(self, s: OutcomeSums) -> None:
        """Adds one person's sums of one bucket (with active use)."""
        self.people.add(s.person)
        for name, (num, den, _) in FIGURES.items():
            if den(s) > 0:
                self.figures.setdefault(name, Group(name)).add(s.person, num=num(s), den=den(s))
        if s.commit_active:
            # A person-week counts once, however many tools or buckets it spans.
            self.person_weeks.add((s.person, s.week))
            self.figures.setdefault(PERSON_WEEKS, Group(PERSON_WEEKS)).add(
                s.person, num=s.commits_with_ai
            )

    def absorb(self, other: Cell) -> None:
        """Merges another cell (a small org unit into (other))."""
        self.people.absorb(other.people)
        for name, g in other.figures.items():
            self.figures.setdefault(name, Group(name)).absorb(g)
        self.person_weeks |= other.person_weeks

    def value(self, name: str) -> float:
        """The figure's ratio (the cell has contributors to it)."""
        g = self.figures[name]
        if name == PERSON_WEEKS:
            return round(g.sums["num"] / len(self.person_weeks), 2)
        return round(g.sums["num"] / g.sums["den"], FIGURES[name][2])


def _merged(by_org: dict[str, Cell], k: int) -> dict[str, Cell]:
    """The org rows safe to show (merge_small on the people) and (all), by key."""
    shown = merge_small([c.people for c in by_org.values()], k)
    named = {g.key for g in shown} - {OTHER}
    out = {key: by_org[key] for key in sorted(named)}
    if any(g.key == OTHER for g in shown):
        other = Cell(Group(OTHER))
        for key, cell in by_org.items():
            if key not in named:
                other.absorb(cell)
        out[OTHER] = other
    if total([c.people for c in by_org.values()], k) is not None:
        whole = Cell(Group(ALL))
        for cell in by_org.values():
            whole.absorb(cell)
        out[ALL] = whole
    return out


def _shown(name: str, cell: Cell, enclosing: list[Cell], k: int) -> bool:
    """Whether a figure may be shown: k contributors, none of its enclosing figures apart
    from it by 1..k-1 contributors."""
    g = cell.figures.get(name)
    if g is None or len(g.persons) < k:
        return False
    return all(name not in o.figures or nested_safe(g, o.figures[name], k) for o in enclosing)


def effectiveness(
    storage: Storage, granularity: str, since: dt.date | None, until: dt.date | None, k: int
) -> dict[str, Any]:
    """Acceptance, lines per active hour, kept-change share, failure rate and commits with
    AI per active person-week, per week or month, tool and org unit (each also as (all))."""
    if granularity == "day":
        raise ReportError("granularity: effectiveness counts person-weeks; use week or month")
    start, end = window(granularity, since, until)
    cells: dict[tuple[str, str], dict[str, Cell]] = defaultdict(dict)
    for s in storage.outcome_sums(buckets(granularity, start, end)):
        if not s.active:
            continue  # presence alone is not use, as in adoption: no empty groups to merge
        org = s.org_unit or NO_ORG
        for tool in (s.tool, ALL):
            cells[(s.period, tool)].setdefault(org, Cell(Group(org))).add(s)
    shown = {key: _merged(by_org, k) for key, by_org in cells.items()}
    rows: list[dict[str, Any]] = []
    for (period, tool), by_key in sorted(shown.items()):
        everyone = shown.get((period, ALL), {}) if tool != ALL else {}
        for key, cell in by_key.items():
            outer = everyone.get(key)
            # A tool's row beside all tools' row of the same org unit, as in adoption.
            if outer is not None and not nested_safe(cell.people, outer.people, k):
                continue
            enclosing = [c for c in (outer, by_key.get(ALL)) if c is not None and c is not cell]
            row: dict[str, Any] = {
                "period": period,
                "tool": tool,
                "org_unit": key,
                "people": len(cell.people.persons),
            }
            for name in [*FIGURES, PERSON_WEEKS]:
                row[name] = cell.value(name) if _shown(name, cell, enclosing, k) else None
            rows.append(row)
    return {
        "report": "effectiveness",
        "version": REPORT_VERSION,
        "min_group_size": k,
        "columns": COLUMNS,
        "granularity": granularity,
        "since": start.isoformat(),
        "until": end.isoformat(),
        "rows": rows,
    }
