"""Terminal rendering of `aitally stats`: period tables, per-day sparklines, grouped totals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from aitally.agent import outcomes_view
from aitally.agent.table import human_seconds, human_tokens, render, sparkline
from aitally.core.terminal import style

# sessions, active, turns, then tokens by kind; cache read and write are summed so the
# table stays inside 80 columns with a tool and a model column.
HEADERS = ["sess", "active", "turns", "in", "out", "cache", "reason"]
NUMERIC = tuple(range(1, len(HEADERS) + 1))
LABEL_WIDTH = 14


def _figures(acc: dict[str, Any]) -> list[str]:
    t = acc["tokens"]
    # "-" rather than 0: most tools record only some kinds, and a column of zeros is noise.
    kinds = (t["input"], t["output"], t["cache_read"] + t["cache_write"], t["reasoning"])
    return [
        str(acc["sessions"]),
        human_seconds(acc["active_seconds"]),
        str(acc["turns"]),
        *(human_tokens(v or None) for v in kinds),
    ]


def _local(iso_text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso_text.replace("Z", "+00:00")).astimezone()


def _heading(text: str, colour: bool) -> str:
    return style(text, "1;36", colour)


def _period_title(period: dict[str, Any]) -> str:
    start = _local(period["since"])
    if period["name"] == "today":
        return f"Today, {start:%a %d %b}"
    if period["name"] == "this week":
        return f"This week, since {start:%a %d %b}"
    return f"This month, {start:%B %Y}"


def _period_table(period: dict[str, Any], colour: bool, width: int) -> str:
    rows = [
        [r["tool"], *_figures(r), r["models"][0][0] if r["models"] else "-"] for r in period["rows"]
    ]
    if len(rows) > 1:
        rows.append(["total", *_figures(period["totals"]), ""])
    return render(["tool", *HEADERS, "top model"], rows, colour=colour, width=width, right=NUMERIC)


def _sparklines(days: Sequence[str], daily: dict[str, list[float]], colour: bool) -> list[str]:
    first, last = dt.date.fromisoformat(days[0]), dt.date.fromisoformat(days[-1])
    lines = [
        _heading(f"Active time per day, {first:%d %b} .. {last:%d %b}", colour)
        + "  (one character per day)"
    ]
    top = max((v for values in daily.values() for v in values), default=0.0)
    for tool, values in sorted(daily.items(), key=lambda kv: -sum(kv[1])):
        # One scale for every tool, so a taller bar always means more time.
        spark = sparkline([*values, top])[:-1]
        label = tool[: LABEL_WIDTH - 1].ljust(LABEL_WIDTH)
        lines.append(f"{label}{style(spark, '32', colour)}  {human_seconds(sum(values)):>6}")
    return lines


def print_overview(
    data: dict[str, Any], *, colour: bool, width: int, paused: dict[str, Any] | None = None
) -> None:
    """Today, this week and this month per tool, then a sparkline of active time per day."""
    out: list[str] = []
    if paused is not None:
        ends = paused["ends_at"]
        until = f"until {_local(ends):%a %H:%M}" if ends else "until resumed"
        out += [style(f"collection is paused {until} (`aitally resume`)", "33", colour), ""]
    previous: dict[str, Any] | None = None
    for period in data["periods"]:
        out.append(_heading(_period_title(period), colour))
        if not period["rows"]:
            out.append("  nothing recorded")
        elif previous is not None and period["rows"] == previous["rows"]:
            # On a first day (or a Monday, or the 1st) the wider period adds nothing new.
            out.append(f"  same as {previous['name']}")
        else:
            out.append(_period_table(period, colour, width))
        out.append("")
        previous = period
    month = data["periods"][-1]
    made = outcomes_view.tables(
        "tool", [(r["tool"], r["outcomes"]) for r in month["rows"]], colour=colour, width=width
    )
    if made:
        out += [_heading(f"What it produced ({_period_title(month)})", colour), *made, ""]
    if data["daily"]:
        out += _sparklines(data["days"], data["daily"], colour)
    else:
        out.append(f"nothing recorded in the last {len(data['days'])} days")
    out.append("")
    out.append("more: aitally stats --by day|tool|surface|model|project, aitally dashboard")
    print("\n".join(out))


def print_stats(data: dict[str, Any], *, colour: bool, width: int) -> None:
    """The `--by` table over the chosen period, with a totals row."""
    by = data["by"]
    rows = [[str(r[by]), *_figures(r)] for r in data["rows"]]
    if not rows:
        print("nothing recorded in this period")
        return
    rows.append(["total", *_figures(data["totals"])])
    since, until = _local(data["since"]), _local(data["until"])
    last = min(until - dt.timedelta(seconds=1), dt.datetime.now().astimezone())
    title = f"By {by}, {since:%Y-%m-%d} .. {last:%Y-%m-%d}"
    print(_heading(title, colour))
    print(render([by, *HEADERS], rows, colour=colour, width=width, right=NUMERIC))
    made = outcomes_view.tables(
        by,
        [
            *((str(r[by]), r["outcomes"]) for r in data["rows"]),
            ("total", data["totals"]["outcomes"]),
        ],
        colour=colour,
        width=width,
    )
    if made:
        print()
        print(_heading("What it produced", colour))
        print("\n".join(made))
    if by == "project":
        print("project names are shown here only; uploads carry a keyed hash or nothing")
