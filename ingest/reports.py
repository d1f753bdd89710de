"""Adoption (active and engaged people), usage and token/time reports over fixed calendar
periods, small groups merged."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from typing import Any

from aitally.core.textsafe import csv_safe
from aitally.core.wire import TOKEN_KINDS
from aitally.ingest.rows import Bucket, ModelCell, UsageCell, UsageClass
from aitally.ingest.storage import Storage
from aitally.ingest.suppress import (
    ALL,
    NO_ORG,
    OTHER,
    Group,
    People,
    merge_small,
    nested_safe,
    total,
)

GRANULARITIES = ("day", "week", "month")
MAX_DAYS = {"day": 92, "week": 26 * 7, "month": 183}
"""The longest window a report covers (docs/measuring.md): a report's cost grows with its days,
and the twelve weeks a dashboard shows by default stay well inside."""
REPORT_VERSION = 1


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

    At most MAX_DAYS[granularity] days up to until: an older since is moved up (the answer's
    since says which window it covers). A since after until is an empty window.
    """
    if granularity not in GRANULARITIES:
        raise ReportError(f"granularity: {granularity[:16]!r}; use one of day, week, month")
    end = until or today or dt.datetime.now(dt.UTC).date()
    earliest = end - dt.timedelta(days=MAX_DAYS[granularity] - 1)
    start = max(since or end - dt.timedelta(days=83), earliest)
    return period_start(start, granularity), period_end(period_start(end, granularity), granularity)


def buckets(granularity: str, start: dt.date, end: dt.date) -> list[Bucket]:
    """The days start..end as periods cut at ISO week ends (a month holds 4 to 6 buckets),
    so a query can count person-weeks within a period without one row per day."""
    cut: dict[tuple[str, str], list[str]] = defaultdict(list)
    day = start
    while day <= end:
        key = (period_start(day, granularity).isoformat(), period_start(day, "week").isoformat())
        cut[key].append(day.isoformat())
        day += dt.timedelta(days=1)
    return [Bucket(p, w, days[0], days[-1]) for (p, w), days in sorted(cut.items())]


ENGAGED_DAYS = 28  # engaged: active on at least 2 of the last 28 days (docs/measuring.md)


def _engaged_windows(periods: list[str], granularity: str) -> list[tuple[str, str, str]]:
    """(period, first day, last day) of the ENGAGED_DAYS up to each period's end."""
    windows = []
    for p in periods:
        last = period_end(dt.date.fromisoformat(p), granularity)
        first = last - dt.timedelta(days=ENGAGED_DAYS - 1)
        windows.append((p, first.isoformat(), last.isoformat()))
    return windows


def _engaged_counts(
    groups: list[Group],
    dropped: set[str],
    engaged: People,
    outer: list[Group],
    outer_engaged: People,
    k: int,
) -> dict[str, int | None]:
    """Engaged people per group of one (period, tool), None where showing the figure would
    isolate fewer than k people: under k; active minus engaged 1..k-1; beside the same org
    unit's all-tools figure (outer, empty for the all-tools rows) by 1..k-1; and the (all)
    row's figure when the figures of the rows hidden or dropped add up to 1..k-1 (the total
    minus the shown rows would give them)."""
    around = {g.key: Group(g.key, g.persons & outer_engaged) for g in outer}
    counts: dict[str, int | None] = {}
    hidden = 0
    for g in groups:
        inner = Group(g.key, g.persons & engaged)
        safe = g.key not in dropped and len(inner.persons) >= k and nested_safe(inner, g, k)
        if g.key in around:
            safe = safe and nested_safe(inner, around[g.key], k)
        counts[g.key] = len(inner.persons) if safe else None
        if not safe and g.key != ALL:
            hidden += len(inner.persons)
    if ALL in counts and 0 < hidden < k:
        counts[ALL] = None
    return counts


def _meta(name: str, k: int, **extra: Any) -> dict[str, Any]:
    return {"report": name, "version": REPORT_VERSION, "min_group_size": k, **extra}


def adoption(
    storage: Storage, granularity: str, since: dt.date | None, until: dt.date | None, k: int
) -> dict[str, Any]:
    """Active people per period, tool and org unit (tool and org unit also as (all))."""
    start, end = window(granularity, since, until)
    cut = buckets(granularity, start, end)
    windows = _engaged_windows(sorted({b.period for b in cut}), granularity)
    # Classes of people (aitally.ingest.suppress.People), one member each: the same sets,
    # unions and differences as person by person, in a few rows per period.
    cells: dict[tuple[str, str], dict[str, Group]] = defaultdict(dict)
    engaged: dict[tuple[str, str], People] = defaultdict(People)
    for c in storage.adoption_classes(cut, windows):
        member = (c.period, c.cells, c.engaged_tools, c.engaged)
        for tool, org_unit in c.cells:
            org = org_unit or NO_ORG
            for t in (tool, ALL):
                cells[(c.period, t)].setdefault(org, Group(org)).add_class(member, c.people)
        for t in [*c.engaged_tools, *([ALL] if c.engaged else [])]:
            engaged[(c.period, t)].add(member, c.people)
    shown: dict[tuple[str, str], list[Group]] = {}
    for (period, tool), by_org in cells.items():
        groups = list(by_org.values())
        # People belong to one org unit, so org rows add up: merge small ones. Tools do
        # not add up (one person uses several), so a tool's cell is shown or not on its own.
        whole = total(groups, k)
        shown[(period, tool)] = [*merge_small(groups, k), *([whole] if whole else [])]
    # A tool's cell is a subset of all tools' cell of the same org unit: showing both
    # when they differ by fewer than k people isolates those people (7 beside 6).
    rows: list[dict[str, Any]] = []
    for (period, tool), groups in sorted(shown.items()):
        everyone = {g.key: g for g in shown.get((period, ALL), [])}
        kept = [
            g
            for g in groups
            if tool == ALL or g.key not in everyone or nested_safe(g, everyone[g.key], k)
        ]
        outer = shown.get((period, ALL), []) if tool != ALL else []
        dropped = {g.key for g in groups} - {g.key for g in kept}
        counts = _engaged_counts(
            groups, dropped, engaged[(period, tool)], outer, engaged[(period, ALL)], k
        )
        rows += [
            {
                "period": period,
                "tool": tool,
                "org_unit": g.key,
                "active_users": len(g.persons),
                "engaged_users": counts[g.key],
            }
            for g in kept
        ]
    return _meta(
        "adoption",
        k,
        columns=["period", "tool", "org_unit", "active_users", "engaged_users"],
        granularity=granularity,
        since=start.isoformat(),
        until=end.isoformat(),
        rows=rows,
    )


def _tokens(cell: UsageCell | ModelCell) -> dict[str, int]:
    values = (cell.tok_input, cell.tok_output, cell.tok_cache_read, cell.tok_cache_write)
    return dict(zip(TOKEN_KINDS, (*values, cell.tok_reasoning), strict=True))


def _renamed(classes: list[UsageClass], k: int) -> dict[tuple[str, str], dict[str, str]]:
    """Per (day, tool) of the classes, what merge_small does to each name it groups (tools,
    or a tool's models): {name: (other)} for the merged, {name: ''} for the hidden; names
    shown as they are are left out. The classes stand for the people (suppress.People), so
    (other) counts each person once whatever number of its names they used."""
    groups: dict[tuple[str, str], dict[str, Group]] = defaultdict(dict)
    for c in classes:
        for name in c.names:
            groups[(c.day, c.tool)].setdefault(name, Group(name)).add_class(c, c.people)
    out: dict[tuple[str, str], dict[str, str]] = {}
    for key, by_name in groups.items():
        shown = {g.key for g in merge_small(list(by_name.values()), k)}
        other = OTHER if OTHER in shown else ""
        out[key] = {name: other for name in by_name if name not in shown}
    return out


def usage(
    storage: Storage, granularity: str, since: dt.date | None, until: dt.date | None, k: int
) -> dict[str, Any]:
    """Active time, sessions and tokens per period and tool, and tokens per tool and model."""
    start, end = window(granularity, since, until)
    s, e = start.isoformat(), end.isoformat()
    # Suppression happens per day, and only what a day shows rolls up into its week or month:
    # then every figure is a sum of day cells of >= k people, and no two reports, of any
    # granularities, differ by the figures of fewer than k people. Classes of people decide
    # per day what is shown; the database then sums the shown cells of each period and counts
    # their distinct people.
    tool_classes = storage.tool_classes(s, e)
    day_people: dict[str, int] = defaultdict(int)
    for c in tool_classes:
        day_people[c.day] += c.people
    days = [
        (day, period_start(dt.date.fromisoformat(day), granularity).isoformat(), str(int(n >= k)))
        for day, n in sorted(day_people.items())
    ]
    tools = [
        (day, tool, name)
        for (day, _), names in _renamed(tool_classes, k).items()
        for tool, name in names.items()
    ]
    cells = storage.usage_cells(days, tools, ALL)
    tool_rows: list[dict[str, Any]] = [
        {
            "period": c.period,
            "tool": c.name,
            "people": c.people,
            "active_seconds": round(c.active_seconds, 1),
            "sessions": c.sessions,
            "turns": c.turns,
            "tokens": _tokens(c),
        }
        for c in sorted(cells, key=lambda c: (c.period, *_row_order(c.name)))
    ]
    # Models by the same rule, within each tool a day shows under its own name.
    hidden = {(day, tool) for day, tool, _ in tools}
    models = [
        (day, tool, model, name)
        for (day, tool), names in _renamed(storage.model_classes(s, e), k).items()
        if (day, tool) not in hidden
        for model, name in names.items()
    ]
    model_rows: list[dict[str, Any]] = [
        {
            "period": m.period,
            "tool": m.tool,
            "model": m.name,
            "people": m.people,
            "tokens": _tokens(m),
        }
        for m in sorted(
            storage.model_cells(days, tools, models),
            key=lambda m: (m.period, m.tool, *_row_order(m.name)),
        )
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


def _row_order(name: str) -> tuple[int, str]:
    """Named groups first, then OTHER, then ALL, as a reader expects."""
    return ({OTHER: 1, ALL: 2}.get(name, 0), name)


def flat_row(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A report row with nested figures as dotted columns (tokens.input), as in its CSV."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict):
            out.update(flat_row(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def to_csv(doc: dict[str, Any]) -> str:
    """The report's rows flattened (tokens.input, ...) under its header line."""
    # Org units and model names come from agents: no cell may start a formula.
    flat = [{k: csv_safe(v) for k, v in flat_row(r).items()} for r in doc["rows"]]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=doc["columns"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(flat)
    return buf.getvalue()
