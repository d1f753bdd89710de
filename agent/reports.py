"""Local reports over the store: the sessions list and totals, as the CLI's JSON contract."""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from aitally.core.outcomes import add_outcomes, in_order
from aitally.core.store import pauses as store_pauses
from aitally.core.store import segments
from aitally.core.textsafe import csv_safe
from aitally.core.timerange import iso, parse_bound
from aitally.core.wire import OUTCOME_KINDS, TOKEN_KINDS

BY_CHOICES = ("tool", "surface", "day", "model", "project")


def _tokens(row: sqlite3.Row | dict[str, Any], prefix: str = "tok_") -> dict[str, int] | None:
    values: dict[str, int] = {k: row[prefix + k] for k in TOKEN_KINDS}
    if all(v is None for v in values.values()):
        return None
    return values


def sessions(
    conn: sqlite3.Connection,
    *,
    since: float | None = None,
    until: float | None = None,
    tool: str | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """One dict per segment, newest first, in the documented `sessions --json` shape."""
    rows = segments.segments_with_sessions(conn, since=since, until=until, tool=tool, limit=limit)
    models: dict[int, dict[str, dict[str, int | None]]] = {}
    for m in segments.models_of(conn, [int(r["id"]) for r in rows]):
        models.setdefault(m["segment_id"], {})[m["model"]] = {k: m[k] for k in TOKEN_KINDS}
    outcomes = segments.outcomes_of(conn, [int(r["id"]) for r in rows])
    return [
        {
            "id": r["id"],
            "tool": r["tool"],
            "tool_session_id": r["tool_session_id"],
            "segment": r["idx"],
            "surface": r["surface"],
            "tool_version": r["tool_version"],
            "started_at": iso(r["started_at"]),
            "ended_at": iso(r["ended_at"]),
            "open": r["ended_at"] is None,
            "active_seconds": round(r["active_seconds"], 3),
            "present_seconds": round(r["present_seconds"], 3),
            "turns": r["turns"],
            "tokens": _tokens(r),
            "models": models.get(r["id"], {}),
            "outcomes": in_order(outcomes.get(r["id"], {})),
            "signals": [s for s in r["signals"].split(",") if s],
            "pids": [int(p) for p in r["pids"].split(",") if p],
            "project": r["project"],
        }
        for r in rows
    ]


def _key(s: dict[str, Any], by: str) -> list[str]:
    if by == "tool":
        return [s["tool"]]
    if by == "day":
        start = dt.datetime.fromisoformat(s["started_at"].replace("Z", "+00:00"))
        return [start.astimezone().date().isoformat()]
    if by == "project":
        return [s["project"] or "(unknown)"]
    if by == "surface":  # cli, ide, desktop-app, web, ...
        return [s["surface"] or "(unknown)"]
    return list(s["models"]) or ["(none)"]


def _empty() -> dict[str, Any]:
    return {
        "sessions": 0,
        "active_seconds": 0.0,
        "present_seconds": 0.0,
        "turns": 0,
        "tokens": dict.fromkeys(TOKEN_KINDS, 0),
        "outcomes": {},
    }


def _add(acc: dict[str, Any], s: dict[str, Any], tokens: dict[str, int | None] | None) -> None:
    acc["sessions"] += 1
    acc["active_seconds"] += s["active_seconds"]
    acc["present_seconds"] += s["present_seconds"]
    acc["turns"] += s["turns"]
    for k, v in (tokens or {}).items():
        acc["tokens"][k] += v or 0
    add_outcomes(acc["outcomes"], s["outcomes"])


def _finish(acc: dict[str, Any]) -> dict[str, Any]:
    acc["active_seconds"] = round(acc["active_seconds"], 1)
    acc["present_seconds"] = round(acc["present_seconds"], 1)
    acc["outcomes"] = in_order(acc["outcomes"])
    return acc


def breakdown(
    rows: Iterable[dict[str, Any]], by: Sequence[str]
) -> dict[tuple[str, ...], dict[str, Any]]:
    """Totals of `sessions()` rows per combination of keys; a "model" key splits tokens by model."""
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    for s in rows:
        for key in itertools.product(*(_key(s, b) for b in by)):
            tokens = s["models"].get(key[by.index("model")]) if "model" in by else s["tokens"]
            _add(out.setdefault(key, _empty()), s, tokens)
    return {k: _finish(v) for k, v in sorted(out.items())}


def stats(
    conn: sqlite3.Connection,
    *,
    since: float,
    until: float,
    by: str = "tool",
    tool: str | None = None,
) -> dict[str, Any]:
    """Totals over [since, until), grouped; by=model splits each segment's tokens by model."""
    rows = sessions(conn, since=since, until=until, tool=tool)
    totals = _empty()
    for s in rows:
        _add(totals, s, s["tokens"])
    return {
        "since": iso(since),
        "until": iso(until),
        "by": by,
        "rows": [{by: k[0], **v} for k, v in breakdown(rows, (by,)).items()],
        "totals": _finish(totals),
    }


def local_day(ts: float) -> dt.date:
    return dt.datetime.fromtimestamp(ts).date()


def period_starts(now: float) -> dict[str, float]:
    """Local midnight of today, of this week's Monday and of this month's first day."""
    today = local_day(now)
    starts = {
        "today": today,
        "this week": today - dt.timedelta(days=today.weekday()),
        "this month": today.replace(day=1),
    }
    return {name: parse_bound(day.isoformat()) for name, day in starts.items()}


def day_range(since: float, until: float) -> list[str]:
    """Every local day from `since` up to (not including) `until`, as YYYY-MM-DD."""
    first, last = local_day(since), local_day(until - 1)
    return [(first + dt.timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def pauses(conn: sqlite3.Connection, *, limit: int = 20) -> list[dict[str, Any]]:
    """The latest pauses, newest first; `active` while collection is paused now."""
    now = time.time()
    rows = store_pauses.latest(conn, limit)
    return [
        {
            "id": r["id"],
            "started_at": iso(r["started_at"]),
            "ends_at": iso(r["ends_at"]),
            "ended_at": iso(r["ended_at"]),
            "active": r["ended_at"] is None and (r["ends_at"] is None or r["ends_at"] > now),
        }
        for r in rows
    ]


def top_models(rows: Iterable[dict[str, Any]]) -> dict[str, list[tuple[str, int]]]:
    """Per tool, its models with their summed tokens of all kinds, largest first."""
    out: dict[str, list[tuple[str, int]]] = {}
    for (tool, model), acc in breakdown(rows, ("tool", "model")).items():
        if model != "(none)":
            out.setdefault(tool, []).append((model, sum(acc["tokens"].values())))
    return {t: sorted(v, key=lambda m: -m[1]) for t, v in out.items()}


def overview(
    conn: sqlite3.Connection, now: float, *, days: int = 30, tool: str | None = None
) -> dict[str, Any]:
    """Today / this week / this month per tool, and active seconds per local day per tool."""
    periods = []
    for name, since in period_starts(now).items():
        rows = sessions(conn, since=since, tool=tool)
        models = top_models(rows)
        periods.append(
            {
                "name": name,
                "since": iso(since),
                "rows": [
                    {"tool": k[0], **v, "models": models.get(k[0], [])}
                    for k, v in breakdown(rows, ("tool",)).items()
                ],
                "totals": breakdown(rows, ()).get((), _empty()),
            }
        )
    first = parse_bound(f"{max(days, 1)}d", today=local_day(now))
    rows = sessions(conn, since=first, tool=tool)
    day_list = day_range(first, now)
    per_day = breakdown(rows, ("day", "tool"))
    tools = sorted({t for _, t in per_day})
    return {
        "now": iso(now),
        "periods": periods,
        "days": day_list,
        "daily": {
            t: [per_day[(d, t)]["active_seconds"] if (d, t) in per_day else 0.0 for d in day_list]
            for t in tools
        },
        "models": {k[0]: v["tokens"] for k, v in breakdown(rows, ("model",)).items()},
    }


CSV_COLUMNS = (
    "id",
    "tool",
    "tool_session_id",
    "segment",
    "surface",
    "tool_version",
    "started_at",
    "ended_at",
    "open",
    "active_seconds",
    "present_seconds",
    "turns",
    *(f"tokens_{k}" for k in TOKEN_KINDS),
    *(f"outcomes_{k}" for k in OUTCOME_KINDS),
    "models",
    "signals",
    "project",
)


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """`sessions()` rows as CSV, one line per segment; models and signals joined with `;`."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    n = 0
    for s in rows:
        tokens = s["tokens"] or {}
        flat = {
            **s,
            **{f"tokens_{k}": tokens.get(k) for k in TOKEN_KINDS},
            **{f"outcomes_{k}": s["outcomes"].get(k) for k in OUTCOME_KINDS},
            "open": int(s["open"]),
            "models": ";".join(s["models"]),
            "signals": ";".join(s["signals"]),
        }
        writer.writerow(["" if flat[c] is None else csv_safe(flat[c]) for c in CSV_COLUMNS])
        n += 1
    return n
