"""Parses --since/--until values: YYYY-MM-DD, Nd (days back), today, yesterday."""

from __future__ import annotations

import datetime as dt
import re

from aitally.core.errors import TimeRangeError

_DAYS = re.compile(r"^(\d{1,4})d$")


def _local_midnight(day: dt.date) -> float:
    return dt.datetime.combine(day, dt.time()).astimezone().timestamp()


def parse_bound(text: str, *, end: bool = False, today: dt.date | None = None) -> float:
    """Start of the named local day (or, with end=True, the end of it), as epoch seconds."""
    today = today or dt.date.today()
    value = text.strip().lower()
    if value == "today":
        day = today
    elif value == "yesterday":
        day = today - dt.timedelta(days=1)
    elif m := _DAYS.match(value):
        # As a start, "7d" is the last seven days including today; as an end, the day
        # seven days ago.
        back = int(m.group(1))
        day = today - dt.timedelta(days=back if end else max(back - 1, 0))
    else:
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise TimeRangeError(
                f"{text!r} is not a date; use YYYY-MM-DD, Nd (e.g. 7d), today or yesterday"
            ) from None
    try:
        return _local_midnight(day + dt.timedelta(days=1)) if end else _local_midnight(day)
    except (OverflowError, ValueError, OSError):  # 0001-01-01 or 9999-12-31 at the calendar's edges
        raise TimeRangeError(f"{text!r} is out of range; use a date from 1970 on") from None


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return (
        dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )
