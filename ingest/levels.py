"""Usage levels: how many people sit at each level, per org unit; never a person's figure.

Four versioned recipes (`RECIPES`); `absolute` takes its thresholds from the ingest's
configuration, and its version names them. Every shown figure comes from at least k
people: relative thresholds are computed only over >= k active people and coarsened to
half hours, and a level count under k is suppressed together with complementary cells
(`aitally.ingest.suppress.suppress_cells`), so no row or column sum recovers it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from aitally.ingest.reports import REPORT_VERSION, ReportError, buckets, period_start
from aitally.ingest.rows import PersonFigures
from aitally.ingest.storage import Storage
from aitally.ingest.suppress import NO_ORG, Group, merge_small, suppress_cells, total

THRESHOLD_STEP = 1800.0  # relative thresholds are shown rounded down to half hours
RECIPES: dict[str, dict[str, Any]] = {
    "volume": {
        "version": "volume-v2",
        "levels": ["heavy", "moderate", "light", "minimal", "none"],
        "definition": "active seconds over the last 4 full ISO weeks; among people with any "
        "(at least k of them, else no levels), heavy >= P75, moderate >= P50, light >= P25, "
        "each rounded down to a half hour, minimal below; none: no activity",
    },
    "consistency": {
        "version": "consistency-v1",
        "levels": ["consistent", "regular", "occasional", "none"],
        "definition": "active weeks out of the last 12 full ISO weeks: consistent 9-12, "
        "regular 5-8, occasional 1-4, none 0",
    },
    "depth": {
        "version": "depth-v1",
        "levels": ["multi_agentic", "agentic", "assisted", "chat", "none"],
        "definition": "outcomes over the last 4 full ISO weeks: multi_agentic: agentic use on "
        "2 or more tools; agentic: at least one record with 2+ accepted edits, 1+ command run "
        "and 1+ commit; assisted: accepted edits or accepted suggested lines, none agentic; "
        "chat: active use with no accepted edit recorded (tools that record no outcomes land "
        "here); none: no activity",
    },
    "absolute": {
        "version": "absolute-v1",
        "levels": ["heavy", "moderate", "light", "minimal", "none"],
        "definition": "average active hours a week over the last 4 full ISO weeks against "
        "thresholds IT sets (aitally-ingest serve --absolute-hours): heavy, moderate, light "
        "at or above each; minimal below; none: no activity",
    },
}


def _percentile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _coarse(value: float, figures: set[float]) -> float:
    """value rounded down to a half hour, and further down while it equals a person's own
    figure: a published threshold never states what anyone's total is."""
    t = math.floor(value / THRESHOLD_STEP) * THRESHOLD_STEP
    while t > 0 and t in figures:
        t -= THRESHOLD_STEP
    return t


def _by_thresholds(v: float, heavy: float, moderate: float, light: float) -> str:
    if v <= 0:
        return "none"
    if v >= heavy:
        return "heavy"
    if v >= moderate:
        return "moderate"
    return "light" if v >= light else "minimal"


def _volume_levels(
    volume: dict[str, float], people: Iterable[str], k: int
) -> tuple[dict[str, str], dict[str, float]]:
    values = sorted(v for v in volume.values() if v > 0)
    if len(values) < k:
        # Fewer than k active people: their quantiles would be their own figures.
        return {p: "none" if volume.get(p, 0.0) <= 0 else "minimal" for p in people}, {}
    p25, p50, p75 = (_coarse(_percentile(values, q), set(values)) for q in (0.25, 0.5, 0.75))
    levels = {p: _by_thresholds(volume.get(p, 0.0), p75, p50, p25) for p in people}
    return levels, {"p25_seconds": p25, "p50_seconds": p50, "p75_seconds": p75}


def _consistency(weeks: int) -> str:
    if weeks >= 9:
        return "consistent"
    if weeks >= 5:
        return "regular"
    return "occasional" if weeks >= 1 else "none"


def _depth(f: PersonFigures | None) -> str:
    """A person's depth level (RECIPES["depth"]) from their figures over the 4 weeks."""
    if f is None:
        return "none"
    if f.agentic_tools:
        return "multi_agentic" if f.agentic_tools >= 2 else "agentic"
    return "assisted" if f.kept else "chat" if f.active else "none"


def recipe_version(recipe: str, hours: tuple[float, float, float]) -> str:
    """The version an answer names; an absolute recipe's names its thresholds."""
    version = str(RECIPES[recipe]["version"])
    if recipe == "absolute":
        version += ":" + "-".join(f"{h:g}h" for h in hours)
    return version


def levels(
    storage: Storage,
    recipe: str,
    as_of: dt.date | None,
    tool: str | None,
    k: int,
    hours: tuple[float, float, float] = (10.0, 4.0, 1.0),
) -> dict[str, Any]:
    """How many people sit at each usage level, per org unit; the people are never listed."""
    if recipe not in RECIPES:
        raise ReportError(f"recipe: {recipe[:16]!r}; use one of {', '.join(sorted(RECIPES))}")
    day = as_of or dt.datetime.now(dt.UTC).date()
    this_week = period_start(day, "week")
    first12 = this_week - dt.timedelta(weeks=12)
    first4 = this_week - dt.timedelta(weeks=4)
    last = this_week - dt.timedelta(days=1)
    orgs: dict[str, Counter[str]] = defaultdict(Counter)
    for row in storage.seen_in(first12.isoformat(), last.isoformat()):
        orgs[row.person][row.org_unit or NO_ORG] += row.rows  # everyone seen is counted
    figures = {
        f.person: f
        for f in storage.person_figures(buckets("week", first12, last), first4.isoformat(), tool)
    }
    volume = {p: f.volume for p, f in figures.items() if f.active}
    thresholds: dict[str, float] = {}
    since = first4
    if recipe == "volume":
        assigned, thresholds = _volume_levels(volume, orgs, k)
    elif recipe == "absolute":
        heavy, moderate, light = (h * 3600 * 4 for h in hours)  # over 4 weeks
        assigned = {p: _by_thresholds(volume.get(p, 0.0), heavy, moderate, light) for p in orgs}
        thresholds = {"heavy_hours_week": hours[0], "moderate_hours_week": hours[1]}
        thresholds["light_hours_week"] = hours[2]
    elif recipe == "depth":
        assigned = {p: _depth(figures.get(p)) for p in orgs}
    else:
        assigned = {p: _consistency(figures[p].active_weeks if p in figures else 0) for p in orgs}
        since = first12
    names: list[str] = RECIPES[recipe]["levels"]
    by_org: dict[str, Group] = {}
    for person, seen in orgs.items():
        # A person who moved keeps the org unit seen most; ties go to the first by name.
        org = min(seen, key=lambda o: (-seen[o], o))
        by_org.setdefault(org, Group(org)).add(person, **{assigned[person]: 1.0})
    groups = list(by_org.values())
    whole = total(groups, k)
    shown = merge_small(groups, k)
    table = [[int(g.sums.get(name, 0)) for name in names] for g in shown]
    if whole is not None:
        table.append([int(whole.sums.get(name, 0)) for name in names])
    cells = suppress_cells(table, k, has_total_row=whole is not None)
    rows = [
        {"org_unit": g.key, "people": len(g.persons), **dict(zip(names, row, strict=True))}
        for g, row in zip([*shown, *([whole] if whole else [])], cells, strict=True)
    ]
    return {
        "report": "levels",
        "version": REPORT_VERSION,
        "min_group_size": k,
        "columns": ["org_unit", "people", *names],
        "recipe": recipe,
        "recipe_version": recipe_version(recipe, hours),
        "definition": RECIPES[recipe]["definition"],
        "levels": names,
        "tool": tool,
        "since": since.isoformat(),
        "until": last.isoformat(),
        "thresholds": thresholds if whole else {},
        "rows": rows,
    }
