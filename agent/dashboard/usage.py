"""The usage pages: the overview (periods, charts) and the sortable, filterable sessions list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aitally.agent import outcomes_view, reports
from aitally.agent.dashboard.charts import stacked_days, stacked_rows
from aitally.agent.dashboard.layout import (
    TELEMETRY_SIGNAL,
    Context,
    card,
    h,
    local_time,
    page,
    table,
    telemetry_badge,
)
from aitally.agent.table import human_seconds, human_tokens
from aitally.core.timerange import parse_bound
from aitally.core.wire import TOKEN_KINDS

RANGES = (7, 30, 90, 365)
KIND_LABELS = ("input", "output", "cache read", "cache write", "reasoning")


def _options(days: int) -> str:
    return "".join(
        f"<option value={d}{' selected' if d == days else ''}>last {d} days</option>"
        for d in RANGES
    )


def _range_form(ctx: Context, days: int) -> str:
    return (
        f'<form method=get action="{h(ctx.frame.url(""))}" class=tools>'
        f"<label>Range <select name=days>{_options(days)}</select></label>"
        "<button type=submit>Show</button></form>"
    )


def _empty_note(ctx: Context) -> str:
    if ctx.store is not None:
        return ""
    return (
        "<p class=banner>No usage recorded yet. Start the agent (<code>aitally run</code> or "
        "<code>make run</code>), use an AI tool, and reload this page.</p>"
    )


def _pause_note(ctx: Context) -> str:
    if ctx.store is None:
        return ""
    active = [p for p in reports.pauses(ctx.store.conn, limit=1) if p["active"]]
    if not active:
        return ""
    ends = active[0]["ends_at"]
    until = f"until {local_time(ends)}" if ends else "until you run <code>aitally resume</code>"
    return f"<p class=banner>Collection is paused {until}. The pause itself is reported.</p>"


def _period_card(period: dict[str, Any]) -> str:
    tot = period["totals"]
    tokens = sum(tot["tokens"].values())
    label = period["name"].capitalize()
    return card(
        label,
        human_seconds(tot["active_seconds"]) + " active",
        f"{tot['sessions']} sessions · {tot['turns']} turns · {human_tokens(tokens)} tokens",
    )


def _tool_rows(period: dict[str, Any], telemetry: set[str]) -> list[list[str]]:
    """The period's rows per tool; a tool in `telemetry` gets the "telemetry" badge."""
    rows = []
    for r in period["rows"]:
        t = r["tokens"]
        rows.append(
            [
                h(r["tool"])
                + telemetry_badge([TELEMETRY_SIGNAL] if r["tool"] in telemetry else []),
                str(r["sessions"]),
                h(human_seconds(r["active_seconds"])),
                str(r["turns"]),
                *(h(human_tokens(t[k] or None)) for k in TOKEN_KINDS),
                h(r["models"][0][0]) if r["models"] else "-",
            ]
        )
    return rows


def _telemetry_tools(ctx: Context, starts: dict[str, float]) -> set[str]:
    """The tools with figures from their own telemetry this month (`otlp` in signals)."""
    assert ctx.store is not None
    rows = reports.sessions(ctx.store.conn, since=starts["this month"])
    return {s["tool"] for s in rows if TELEMETRY_SIGNAL in s["signals"]}


def _surfaces(ctx: Context, days: int) -> str:
    """Sessions and active time by surface: cli, ide, desktop-app, web (a browser tab), ..."""
    assert ctx.store is not None
    data = reports.stats(ctx.store.conn, since=ctx.now - days * 86400, until=ctx.now, by="surface")
    rows = [
        [h(r["surface"]), str(r["sessions"]), h(human_seconds(r["active_seconds"]))]
        for r in data["rows"]
    ]
    return f"<h2>By surface (last {days} days)</h2>" + table(
        ["surface", "sessions", "active"], rows, numeric=(1, 2), empty="nothing recorded"
    )


def overview(ctx: Context) -> str:
    days = ctx.days()
    body = [_empty_note(ctx), _pause_note(ctx)]
    if ctx.store is not None:
        data = reports.overview(ctx.store.conn, ctx.now, days=days)
        body.append("<div class=cards>" + "".join(map(_period_card, data["periods"])) + "</div>")
        body.append(_range_form(ctx, days))
        body.append(f"<h2>Active time per day, by tool (last {days} days)</h2>")
        if data["daily"]:
            body.append(stacked_days(data["days"], data["daily"], tip=human_seconds))
        else:
            body.append("<p class=muted>nothing recorded in this range</p>")
        body.append(_surfaces(ctx, days))
        body.append(f"<h2>Tokens by model (last {days} days)</h2>")
        models = sorted(
            ((m, t) for m, t in data["models"].items() if any(t.values())),
            key=lambda kv: -sum(kv[1].values()),
        )
        if models:
            rows = [(m, [float(t[k] or 0) for k in TOKEN_KINDS]) for m, t in models]
            body.append(stacked_rows(rows, KIND_LABELS, fmt=lambda v: human_tokens(round(v))))
        else:
            body.append("<p class=muted>no token counts in this range</p>")
        month = data["periods"][-1]
        body.append("<h2>This month per tool</h2>")
        body.append(
            table(
                ["tool", "sessions", "active", "turns", *KIND_LABELS, "top model"],
                _tool_rows(month, _telemetry_tools(ctx, reports.period_starts(ctx.now))),
                numeric=range(1, 9),
                empty="nothing recorded this month",
            )
        )
        body.append(_outcomes_table(month))
    return page(ctx.frame, "", "Overview", "".join(body))


def _outcomes_table(month: dict[str, Any]) -> str:
    """This month's outcomes per tool, a column per kind some tool records ("-": its tool
    records no such kind)."""
    kinds = outcomes_view.recorded_kinds([r["outcomes"] for r in month["rows"]])
    if not kinds:
        return ""
    rows = [
        [h(r["tool"]), *(str(r["outcomes"][k]) if k in r["outcomes"] else "-" for k in kinds)]
        for r in month["rows"]
    ]
    return "<h2>What it produced this month, per tool</h2>" + table(
        ["tool", *(outcomes_view.HEADERS[k] for k in kinds)],
        rows,
        numeric=range(1, len(kinds) + 1),
        empty="",
    )


COLUMNS = (
    "started",
    "tool",
    "length",
    "active",
    "turns",
    "input",
    "output",
    "cache",
    "reasoning",
    "outcomes",
    "models",
    "project",
    "signals",
)
NUMERIC = (2, 3, 4, 5, 6, 7, 8)


def _length(s: dict[str, Any]) -> float:
    if s["ended_at"] is None:
        return 0.0
    start = parse_iso(s["started_at"])
    return parse_iso(s["ended_at"]) - start


def parse_iso(text: str) -> float:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _signals_cell(signals: list[str]) -> str:
    """The segment's signals; telemetry (`otlp`) is shown as the "telemetry" badge."""
    named = ", ".join(x for x in signals if x != TELEMETRY_SIGNAL)
    return f"<td>{h(named)}{telemetry_badge(signals)}</td>"


def _session_row(s: dict[str, Any]) -> str:
    tok = s["tokens"] or {}
    parts = [tok.get("cache_read"), tok.get("cache_write")]
    cache = None if parts == [None, None] else sum(v or 0 for v in parts)

    def num(value: float | None, text: str) -> str:
        return f'<td class=n data-v="{value if value is not None else -1}">{h(text)}</td>'

    length = _length(s)
    cells = [
        f'<td data-v="{parse_iso(s["started_at"]):.0f}">{h(local_time(s["started_at"]))}</td>',
        f"<td>{h(s['tool'])}</td>",
        num(length, "open" if s["open"] else human_seconds(length)),
        num(s["active_seconds"], human_seconds(s["active_seconds"])),
        num(s["turns"], str(s["turns"])),
        *(num(tok.get(k), human_tokens(tok.get(k))) for k in ("input", "output")),
        num(cache, human_tokens(cache)),
        num(tok.get("reasoning"), human_tokens(tok.get("reasoning"))),
        f"<td>{h(outcomes_view.brief(s['outcomes']))}</td>",
        f"<td>{h(', '.join(s['models']) or '-')}</td>",
        f"<td>{h(s['project'] or '-')}</td>",
        _signals_cell(s["signals"]),
    ]
    return f'<tr data-tool="{h(s["tool"])}">{"".join(cells)}</tr>'


def sessions(ctx: Context) -> str:
    days = ctx.days()
    rows: list[dict[str, Any]] = []
    if ctx.store is not None:
        since = parse_bound(f"{days}d")
        rows = reports.sessions(ctx.store.conn, since=since, limit=2000)
    tools = sorted({s["tool"] for s in rows})
    tool_options = "".join(f'<option value="{h(t)}">{h(t)}</option>' for t in tools)
    head = "".join(
        f'<th class="sortable{" n" if i in NUMERIC else ""}" data-col="{c}">{h(c)}</th>'
        for i, c in enumerate(COLUMNS)
    )
    export = ctx.frame.url("export", f"format=csv&days={days}")
    json_export = ctx.frame.url("export", f"format=json&days={days}")
    body = [
        _empty_note(ctx),
        _pause_note(ctx),
        # One form: the range reloads from the server, filter and tool apply as you type
        # and travel in the URL, so a link reproduces the same view.
        f'<form method=get action="{h(ctx.frame.url("sessions"))}" class=tools>'
        f"<label>Range <select name=days>{_options(days)}</select></label>"
        '<label>Filter <input id=q name=q type=search placeholder="tool, model, project">'
        "</label>"
        f'<label>Tool <select id=tool name=tool><option value="">all</option>{tool_options}'
        "</select></label><button type=submit>Show</button>"
        f"<span class=muted><span id=shown>{len(rows)}</span> of {len(rows)} segments</span>"
        f'<a href="{h(export)}">Download CSV</a> <a href="{h(json_export)}">JSON</a></form>',
        "<p class=muted>One row per segment: a session is cut where it sat idle longer than "
        "the idle timeout. Click a column to sort. Project names are shown only here. "
        f"{telemetry_badge([TELEMETRY_SIGNAL])} marks figures that include the tool's own "
        "telemetry (filter on it to list them).</p>",
    ]
    if rows:
        body.append(
            f"<table data-sortable><thead><tr>{head}</tr></thead><tbody>"
            + "".join(map(_session_row, rows))
            + "</tbody></table>"
        )
    else:
        body.append("<p class=muted>no sessions in this range</p>")
    return page(ctx.frame, "sessions", "Sessions", "".join(body))
