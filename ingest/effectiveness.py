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
from dataclasses import dataclass, field
from typing import Any

from aitally.ingest.reports import REPORT_VERSION, ReportError, buckets, window
from aitally.ingest.rows import FIGURE_SUMS, OutcomeClass, OutcomeItem
from aitally.ingest.storage import Storage
from aitally.ingest.suppress import ALL, NO_ORG, OTHER, Group, merge_small, nested_safe, total

DECIMALS = {
    "acceptance_rate": 3,  # edits accepted / edits accepted or rejected
    "lines_per_active_hour": 1,  # lines kept / active hours, of records with both
    "kept_change_share": 3,  # sessions with a kept change / sessions with any outcome
    "failure_rate": 3,  # commands failed / commands run
    "commits_with_ai_per_person_week": 2,  # commits with AI / active person-weeks with them
}
PERSON_WEEKS = "commits_with_ai_per_person_week"
COLUMNS = ["period", "tool", "org_unit", "people", *FIGURE_SUMS]


@dataclass
class Cell:
    """The people of one period, tool and org unit (as classes, suppress.People), each
    figure's contributors and sums, and the weeks with commits of each contributor."""

    people: Group
    figures: dict[str, Group] = field(default_factory=dict)
    sums: dict[str, list[float]] = field(default_factory=dict)
    commit_weeks: dict[OutcomeClass, tuple[int, frozenset[str]]] = field(default_factory=dict)

    def add(self, member: OutcomeClass, item: OutcomeItem) -> None:
        """Counts a class of people, with the figures they contribute to in this cell."""
        self.people.add_class(member, member.people)
        for name in item.figures:
            self.figures.setdefault(name, Group(name)).add_class(member, member.people)
        if item.commit_weeks:
            # A person-week counts once, however many tools or org units it spans.
            _, weeks = self.commit_weeks.get(member, (0, frozenset()))
            self.commit_weeks[member] = (member.people, weeks | item.commit_weeks)

    def add_sums(self, values: tuple[float, ...]) -> None:
        """Adds one period, tool and org unit's sums (OutcomeCell.sums)."""
        for i, name in enumerate(FIGURE_SUMS):
            num, den = self.sums.setdefault(name, [0.0, 0.0])
            self.sums[name] = [num + values[2 * i], den + values[2 * i + 1]]

    def absorb(self, other: Cell) -> None:
        """Merges another cell (a small org unit into (other))."""
        self.people.absorb(other.people)
        for name, g in other.figures.items():
            self.figures.setdefault(name, Group(name)).absorb(g)
        for name, (num, den) in other.sums.items():
            mine = self.sums.setdefault(name, [0.0, 0.0])
            self.sums[name] = [mine[0] + num, mine[1] + den]
        for member, (n, weeks) in other.commit_weeks.items():
            _, mine_weeks = self.commit_weeks.get(member, (0, frozenset()))
            self.commit_weeks[member] = (n, mine_weeks | weeks)

    def value(self, name: str) -> float:
        """The figure's ratio (the cell has contributors to it)."""
        num, den = self.sums[name]
        if name == PERSON_WEEKS:
            den = sum(n * len(weeks) for n, weeks in self.commit_weeks.values())
        elif name == "lines_per_active_hour":
            den /= 3600
        return round(num / den, DECIMALS[name])


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
    cut = buckets(granularity, start, end)
    cells: dict[tuple[str, str], dict[str, Cell]] = defaultdict(dict)
    # Classes of people, as in adoption: the same sets as person by person, in few rows.
    classes, sums_of = storage.outcomes(cut)
    for c in classes:
        for item in c.items:
            org = item.org_unit or NO_ORG
            for tool in (item.tool, ALL):
                cells[(c.period, tool)].setdefault(org, Cell(Group(org))).add(c, item)
    for sums in sums_of:
        for tool in (sums.tool, ALL):
            cells[(sums.period, tool)][sums.org_unit or NO_ORG].add_sums(sums.sums)
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
            for name in FIGURE_SUMS:
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
