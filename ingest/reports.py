"""Adoption, usage-level and token/time reports over fixed calendar periods, small groups merged."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from aitally.core.wire import TOKEN_KINDS
from aitally.ingest.rows import TokenSums
from aitally.ingest.storage import Storage
from aitally.ingest.suppress import ALL, NO_ORG, OTHER, Group, merge_small, total

GRANULARITIES = ("day", "week", "month")
REPORT_VERSION = 1
# Recipes carry versions: a changed definition gets a new version, never silently new figures.
RECIPES = {
    "volume": {
        "version": "volume-v1",
        "levels": ["heavy", "moderate", "light", "minimal", "none"],
        "definition": "active seconds over the last 4 full ISO weeks; among people with any, "
        "heavy >= P75, moderate >= P50, light >= P25, minimal below; none: no activity",
    },
    "consistency": {
        "version": "consistency-v1",
        "levels": ["consistent", "regular", "occasional", "none"],
        "definition": "active weeks out of the last 12 full ISO weeks: consistent 9-12, "
        "regular 5-8, occasional 1-4, none 0",
    },
}


class ReportError(ValueError):
    """A bad report parameter; str() names it and what is allowed."""


def period_start(day: dt.date, granularity: str) -> dt.date:
    """The first day of the day, ISO week (Monday) or month holding day."""
    if granularity == "week":
        return day - dt.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    return day


def period_end(start: dt.date, granularity: str) -> dt.date:
    """The last day of the period that starts on start."""
    if granularity == "week":
        return start + dt.timedelta(days=6)
    if granularity == "month":
        nxt = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return nxt - dt.timedelta(days=1)
    return start


def window(
    granularity: str, since: dt.date | None, until: dt.date | None, today: dt.date | None = None
) -> tuple[dt.date, dt.date]:
    """since/until widened to whole periods, so two reports never overlap part of a period.

    At most about three years: an older since is moved up (the answer says which window
    it covers). A since after until is an empty window.
    """
    if granularity not in GRANULARITIES:
        raise ReportError(f"granularity: {granularity[:16]!r}; use one of day, week, month")
    end = until or today or dt.datetime.now(dt.UTC).date()
    start = max(since or end - dt.timedelta(days=83), end - dt.timedelta(days=3 * 366))
    return period_start(start, granularity), period_end(period_start(end, granularity), granularity)


def _meta(name: str, k: int, **extra: Any) -> dict[str, Any]:
    return {"report": name, "version": REPORT_VERSION, "min_group_size": k, **extra}


def adoption(
    storage: Storage, granularity: str, since: dt.date | None, until: dt.date | None, k: int
) -> dict[str, Any]:
    """Active people per period, tool and org unit (tool and org unit also as (all))."""
    start, end = window(granularity, since, until)
    cells: dict[tuple[str, str], dict[str, Group]] = defaultdict(dict)
    for row in storage.activity(start.isoformat(), end.isoformat()):
        if not row.active:
            continue
        org = row.org_unit or NO_ORG
        period = period_start(dt.date.fromisoformat(row.day), granularity).isoformat()
        for t in (row.tool, ALL):
            cells[(period, t)].setdefault(org, Group(org)).add(row.person)
    rows: list[dict[str, Any]] = []
    for (period, tool), by_org in sorted(cells.items()):
        groups = list(by_org.values())
        # People belong to one org unit, so org rows add up: merge small ones. Tools do
        # not add up (one person uses several), so a tool's cell is shown or not on its own.
        shown = merge_small(groups, k)
        whole = total(groups, k)
        for g in [*shown, *([whole] if whole else [])]:
            rows.append(
                {"period": period, "tool": tool, "org_unit": g.key, "active_users": len(g.persons)}
            )
    return _meta(
        "adoption",
        k,
        columns=["period", "tool", "org_unit", "active_users"],
        granularity=granularity,
        since=start.isoformat(),
        until=end.isoformat(),
        rows=rows,
    )


def _token_fields(sums: dict[str, float]) -> dict[str, int]:
    return {kind: int(sums.get(kind, 0)) for kind in TOKEN_KINDS}


def _token_values(tokens: TokenSums) -> dict[str, float]:
    return {kind: float(v or 0) for kind, v in zip(TOKEN_KINDS, tokens, strict=True)}


def usage(
    storage: Storage, granularity: str, since: dt.date | None, until: dt.date | None, k: int
) -> dict[str, Any]:
    """Active time, sessions and tokens per period and tool, and tokens per tool and model."""
    start, end = window(granularity, since, until)
    s, e = start.isoformat(), end.isoformat()
    # Suppression happens per day, and only what a day shows rolls up into its week or month:
    # then every figure is a sum of day cells of >= k people, and no two reports, of any
    # granularities, differ by the figures of fewer than k people.
    days: dict[str, dict[str, Group]] = defaultdict(dict)
    for row in storage.activity(s, e):
        values = {
            "active_seconds": float(row.active_seconds or 0),
            "sessions": float(row.sessions or 0),
            "turns": float(row.turns or 0),
            **_token_values(row.tokens),
        }
        days[row.day].setdefault(row.tool, Group(row.tool)).add(row.person, **values)
    periods: dict[str, dict[str, Group]] = defaultdict(dict)
    shown_tools: dict[str, set[str]] = {}
    for day, tools in days.items():
        period = period_start(dt.date.fromisoformat(day), granularity).isoformat()
        shown = merge_small(list(tools.values()), k)
        shown_tools[day] = {g.key for g in shown}
        whole = total(list(tools.values()), k)
        for g in [*shown, *([whole] if whole else [])]:
            periods[period].setdefault(g.key, Group(g.key)).absorb(g)
    tool_rows: list[dict[str, Any]] = [
        {
            "period": period,
            "tool": g.key,
            "people": len(g.persons),
            "active_seconds": round(g.sums.get("active_seconds", 0.0), 1),
            "sessions": int(g.sums.get("sessions", 0)),
            "turns": int(g.sums.get("turns", 0)),
            "tokens": _token_fields(g.sums),
        }
        for period, groups in sorted(periods.items())
        for g in sorted(groups.values(), key=_row_order)
    ]
    # Models by the same rule, within each tool a day shows under its own name.
    model_cells: dict[tuple[str, str], dict[str, Group]] = defaultdict(dict)
    for m in storage.model_tokens(s, e):
        if m.tool in shown_tools.get(m.day, set()):
            model_cells[(m.day, m.tool)].setdefault(m.model, Group(m.model)).add(
                m.person, **_token_values(m.tokens)
            )
    model_periods: dict[tuple[str, str], dict[str, Group]] = defaultdict(dict)
    for (day, tool), by_model in model_cells.items():
        period = period_start(dt.date.fromisoformat(day), granularity).isoformat()
        for g in merge_small(list(by_model.values()), k):
            model_periods[(period, tool)].setdefault(g.key, Group(g.key)).absorb(g)
    model_rows: list[dict[str, Any]] = [
        {
            "period": period,
            "tool": tool,
            "model": g.key,
            "people": len(g.persons),
            "tokens": _token_fields(g.sums),
        }
        for (period, tool), groups in sorted(model_periods.items())
        for g in sorted(groups.values(), key=_row_order)
    ]
    columns = ["period", "tool", "people", "active_seconds", "sessions", "turns"]
    columns += [f"tokens.{kind}" for kind in TOKEN_KINDS]
    return _meta(
        "usage",
        k,
        columns=columns,
        granularity=granularity,
        since=s,
        until=e,
        rows=tool_rows,
        models=model_rows,
    )


def _row_order(g: Group) -> tuple[int, str]:
    """Named groups first, then OTHER, then ALL, as a reader expects."""
    return ({OTHER: 1, ALL: 2}.get(g.key, 0), g.key)


def _percentile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _volume_levels(
    volume: dict[str, float], people: Iterable[str]
) -> tuple[dict[str, str], dict[str, float]]:
    values = sorted(v for v in volume.values() if v > 0)
    if not values:
        return {p: "none" for p in people}, {}
    p25, p50, p75 = (_percentile(values, q) for q in (0.25, 0.5, 0.75))
    levels = {}
    for p in people:
        v = volume.get(p, 0.0)
        levels[p] = (
            "none"
            if v <= 0
            else "heavy"
            if v >= p75
            else "moderate"
            if v >= p50
            else "light"
            if v >= p25
            else "minimal"
        )
    return levels, {"p25_seconds": p25, "p50_seconds": p50, "p75_seconds": p75}


def _consistency(weeks: int) -> str:
    return (
        "consistent"
        if weeks >= 9
        else "regular"
        if weeks >= 5
        else ("occasional" if weeks >= 1 else "none")
    )


def levels(
    storage: Storage, recipe: str, as_of: dt.date | None, tool: str | None, k: int
) -> dict[str, Any]:
    """How many people sit at each usage level, per org unit; the people are never listed."""
    if recipe not in RECIPES:
        raise ReportError(f"recipe: {recipe[:16]!r}; use volume or consistency")
    day = as_of or dt.datetime.now(dt.UTC).date()
    this_week = period_start(day, "week")
    first12 = this_week - dt.timedelta(weeks=12)
    first4 = this_week - dt.timedelta(weeks=4)
    last = this_week - dt.timedelta(days=1)
    orgs: dict[str, Counter[str]] = defaultdict(Counter)
    volume: dict[str, float] = defaultdict(float)
    active_weeks: dict[str, set[dt.date]] = defaultdict(set)
    for row in storage.activity(first12.isoformat(), last.isoformat()):
        person, d = row.person, dt.date.fromisoformat(row.day)
        orgs[person][row.org_unit or NO_ORG] += 1  # everyone seen in 12 weeks is counted
        if (tool and row.tool != tool) or not row.active:
            continue
        active_weeks[person].add(period_start(d, "week"))
        if d >= first4:
            volume[person] += float(row.active_seconds or 0)
    if recipe == "volume":
        assigned, thresholds = _volume_levels(volume, orgs)
        since = first4
    else:
        assigned = {p: _consistency(len(active_weeks.get(p, ()))) for p in orgs}
        thresholds, since = {}, first12
    names = RECIPES[recipe]["levels"]
    by_org: dict[str, Group] = {}
    for person, seen in orgs.items():
        # A person who moved keeps the org unit seen most; ties go to the first by name.
        org = min(seen, key=lambda o: (-seen[o], o))
        by_org.setdefault(org, Group(org)).add(person, **{assigned[person]: 1.0})
    groups = list(by_org.values())
    whole = total(groups, k)
    rows = [
        {
            "org_unit": g.key,
            "people": len(g.persons),
            **{name: int(g.sums.get(name, 0)) for name in names},
        }
        for g in [*merge_small(groups, k), *([whole] if whole else [])]
    ]
    return _meta(
        "levels",
        k,
        columns=["org_unit", "people", *names],
        recipe=recipe,
        recipe_version=RECIPES[recipe]["version"],
        definition=RECIPES[recipe]["definition"],
        levels=names,
        tool=tool,
        since=since.isoformat(),
        until=last.isoformat(),
        thresholds=thresholds if whole else {},
        rows=rows,
    )


def _flat(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def to_csv(doc: dict[str, Any]) -> str:
    """The report's rows flattened (tokens.input, ...) under its header line."""
    flat = [_flat(r) for r in doc["rows"]]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=doc["columns"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return buf.getvalue()
