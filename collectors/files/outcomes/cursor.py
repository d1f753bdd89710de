"""Cursor outcomes (docs/clients/cursor.md): the daily line counts of `state.vscdb` and the
commits its AI code tracking database scored, as content-free counts.

Cursor keeps both for the tool as a whole, not per chat, so their observations are
`tool_wide`: they join the Cursor segment in use at their time, else one Cursor session per
day (`day:<date>`). The daily counts are cumulative and rewritten in place: each pass counts
what grew since the counts kept in the file's state, so reading the same counts again adds
nothing, and a snapshot already counted (the state lost, the file replaced) is a duplicate by
its dedup key. A scored commit counts once by its hash, whichever branch rows carry it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping
from typing import Any

from aitally.collectors.files.adapters.base import FileState, num, opaque, text, ts
from aitally.core.observation import OutcomeCounts

TOOL = "cursor"
SIGNAL = "state-db"
# The fields of one day's counts, in the order the file state keeps them.
DAILY_FIELDS = (
    "tabSuggestedLines",
    "tabAcceptedLines",
    "composerSuggestedLines",
    "composerAcceptedLines",
)
# Where the file state keeps the counts already counted: {date: [the four fields]}.
KEPT = "daily"
# The columns of scored_commits read, in the order `scored_commit` takes them (the table's
# allowlist too, sqlite_source.READABLE).
SCORED_COLUMNS = (
    "commitHash",
    "scoredAt",
    "commitDate",
    "tabLinesAdded",
    "tabLinesDeleted",
    "composerLinesAdded",
    "composerLinesDeleted",
)


def day_key(day: dt.date) -> str:
    """The session that holds a day's counts when no Cursor segment was in use."""
    return f"day:{day.isoformat()}"


def _local_day(at: float) -> dt.date:
    return dt.datetime.fromtimestamp(at).date()


def _within(day: dt.date, at: float) -> float:
    """`at` moved into the local day (the counts of a past day, first read today, are dated
    at its last second)."""
    start = dt.datetime.combine(day, dt.time()).timestamp()
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).timestamp()
    return min(max(at, start), end - 1.0)


def _day_of(key: str, data: Mapping[str, Any]) -> dt.date | None:
    """The day of a `aiCodeTracking.dailyStats.<version>.<YYYY-MM-DD>` row: its value's `date`,
    else the key's last part."""
    for candidate in (text(data.get("date"), 10), key.rsplit(".", 1)[-1]):
        if candidate is None:
            continue
        try:
            return dt.date.fromisoformat(candidate)
        except ValueError:
            continue
    return None


@functools.lru_cache(maxsize=1024)
def _parse(key: str, raw: Any) -> tuple[dt.date | None, tuple[int, ...] | None]:
    """A row's day and its four counts (None: not readable). Cached: every pass reads every
    day's row again, and all but today's are the same as the last time."""
    try:
        data = json.loads(raw) if isinstance(raw, str | bytes) else None
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, Mapping):
        return _day_of(key, {}), None
    return _day_of(key, data), tuple(num(data.get(f)) or 0 for f in DAILY_FIELDS)


def daily_outcomes(rows: list[tuple[str, Any]], mtime: float, st: FileState) -> list[OutcomeCounts]:
    """What grew in each day's counts since the last pass: lines suggested and accepted (tab
    and composer together). A count that went down (Cursor rewrote the day) is the new base,
    adding nothing; a row of another shape is counted as drift and changes nothing kept."""
    kept = st.data.get(KEPT)
    kept = kept if isinstance(kept, dict) else {}
    now: dict[str, list[int]] = {}
    out: list[OutcomeCounts] = []
    for key, raw in rows:
        day, values = _parse(key, raw)
        if values is None or day is None:
            st.drifted()
            if day is not None and day.isoformat() in kept:
                now[day.isoformat()] = kept[day.isoformat()]  # counted from there once readable
            continue
        before = kept.get(day.isoformat())
        now[day.isoformat()] = list(values)
        if before == now[day.isoformat()]:
            continue  # the common case: a past day, unchanged
        if not (isinstance(before, list) and len(before) == len(values)):
            before = [0] * len(values)
        grown = [
            max(0, v - (b if isinstance(b, int) else 0))
            for v, b in zip(values, before, strict=True)
        ]
        if not any(grown):
            continue
        counts = {
            "lines_suggested": grown[0] + grown[2],
            "lines_accepted": grown[1] + grown[3],
        }
        snapshot = "daily:" + ":".join(map(str, [day.isoformat(), *values]))
        out.append(
            OutcomeCounts(
                TOOL, day_key(day), _within(day, mtime), counts, snapshot, SIGNAL, tool_wide=True
            )
        )
    st.data[KEPT] = now
    return out


def scored_commit(values: tuple[Any, ...], mtime: float, st: FileState) -> list[OutcomeCounts]:
    """One row of `scored_commits` (`SCORED_COLUMNS`): a commit with lines Cursor
    attributes to its AI (tab or composer) is a commit with AI, and those lines are the lines
    its edits added and removed; a commit of human lines only counts nothing."""
    commit, scored_at, commit_date, tab_add, tab_del, comp_add, comp_del = values
    sha = text(commit, 64)
    if sha is None:
        st.drifted()
        return []
    added = (num(tab_add) or 0) + (num(comp_add) or 0)
    removed = (num(tab_del) or 0) + (num(comp_del) or 0)
    if not added and not removed:
        return []
    at = ts(commit_date) or ts(scored_at) or mtime
    counts = {"commits": 1, "commits_with_ai": 1, "lines_added": added, "lines_removed": removed}
    key = f"scored:{opaque(sha)}"
    return [OutcomeCounts(TOOL, day_key(_local_day(at)), at, counts, key, SIGNAL, tool_wide=True)]
