"""The central dashboard page: adoption, levels, usage and effectiveness for IT and leads.

One server-rendered page, no script: the filters are a GET form (period, tool, org unit)
and every table comes with a CSV download embedded as a data: link. Every figure is a
report answer (aitally.ingest.reports, levels, effectiveness) printed as the API gives it,
rows picked by the filters, never recomputed; None (suppressed) prints as "suppressed".
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote

from aitally.ingest.charts import line_chart, stacked_bars
from aitally.ingest.reports import flat_row, to_csv
from aitally.ingest.suppress import ALL

HIDDEN = "suppressed"
_STYLE = """
body{font:14px system-ui,sans-serif;margin:24px;color:#222;background:#fff;max-width:1100px}
h1{font-size:20px}h2{font-size:16px;margin-top:32px;border-top:1px solid #ddd;padding-top:12px}
h3{font-size:14px;margin-top:20px}
.note{color:#666;font-size:12px}svg{background:#fafafa;border:1px solid #ddd}
svg text{font:11px system-ui,sans-serif;fill:#333}
table{border-collapse:collapse;margin:8px 0;font-size:12px}
th,td{border:1px solid #ddd;padding:3px 6px;text-align:right;white-space:nowrap}
th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}td.hidden{color:#999;font-style:italic}
form{background:#f7f7f7;border:1px solid #ddd;padding:10px;display:flex;gap:14px;
flex-wrap:wrap;align-items:end}label{display:flex;flex-direction:column;font-size:12px}
a.csv{font-size:12px}summary{cursor:pointer;font-size:12px;color:#444}
"""


@dataclass(frozen=True)
class Filters:
    """What the reader picked: whole periods since..until, one tool, one org unit."""

    granularity: str = "week"
    since: str = ""
    until: str = ""
    tool: str = ""
    org_unit: str = ""


def pick(rows: list[dict[str, Any]], f: Filters) -> list[dict[str, Any]]:
    """The rows the filters select: one tool's, one org unit's (where rows have them)."""
    return [
        r
        for r in rows
        if (not f.tool or r.get("tool", f.tool) == f.tool)
        and (not f.org_unit or r.get("org_unit", f.org_unit) == f.org_unit)
    ]


def _cell(value: Any) -> str:
    if value is None:
        return f'<td class="hidden">{HIDDEN}</td>'
    return f"<td>{escape(str(value))}</td>"


def _csv_link(name: str, columns: list[str], rows: list[dict[str, Any]]) -> str:
    data = quote(to_csv({"columns": columns, "rows": rows}), safe="")
    return (
        f'<a class="csv" download="aitally-{name}.csv" '
        f'href="data:text/csv;charset=utf-8,{data}">CSV: {escape(name)}</a>'
    )


def table(name: str, columns: list[str], rows: list[dict[str, Any]], shut: bool = False) -> str:
    """An HTML table of report rows (nested figures flattened, tokens.input) and its CSV;
    shut: folded (long tables), one click away and still in the page."""
    flat = [flat_row(r) for r in rows]
    if not flat:
        return f'<p class="note" data-table="{escape(name)}">No groups large enough to show.</p>'
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(_cell(r.get(c)) for c in columns) + "</tr>" for r in flat)
    return (
        f"<details{'' if shut else ' open'}><summary>{escape(name)}: {len(flat)} rows</summary>"
        f'<table data-table="{escape(name)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></details>{_csv_link(name, columns, flat)}"
    )


def _select(name: str, label: str, chosen: str, options: list[str], empty: str | None) -> str:
    """A select of options; empty: the label of the "no filter" choice, if there is one."""
    opts = []
    if empty is not None:
        opts.append(f'<option value=""{"" if chosen else " selected"}>{escape(empty)}</option>')
    for o in options:
        sel = " selected" if o == chosen else ""
        opts.append(f'<option value="{escape(o)}"{sel}>{escape(o)}</option>')
    return f'<label>{label}<select name="{name}">{"".join(opts)}</select></label>'


def _form(f: Filters, tools: list[str], orgs: list[str]) -> str:
    return (
        '<form method="get" action="/dashboard">'
        f"{_select('granularity', 'periods', f.granularity, ['week', 'month'], None)}"
        f'<label>since<input type="date" name="since" value="{escape(f.since)}"></label>'
        f'<label>until<input type="date" name="until" value="{escape(f.until)}"></label>'
        f"{_select('tool', 'tool', f.tool, tools, 'all tools')}"
        f"{_select('org_unit', 'org unit', f.org_unit, orgs, 'all org units')}"
        '<button type="submit">Show</button></form>'
    )


def _levels_section(doc: dict[str, Any], f: Filters) -> str:
    shown = dict(doc, rows=pick(doc["rows"], f))
    return (
        f"<h3>{escape(doc['recipe'])} ({escape(doc['recipe_version'])}), "
        f"{escape(doc['since'])} to {escape(doc['until'])}</h3>"
        f'<p class="note">{escape(doc["definition"])}</p>'
        f"{stacked_bars(shown)}{table('levels-' + doc['recipe'], doc['columns'], shown['rows'])}"
    )


def render_dashboard(
    f: Filters,
    adoption: dict[str, Any],
    usage: dict[str, Any],
    effectiveness: dict[str, Any],
    levels: list[dict[str, Any]],
) -> str:
    """The whole page from the report answers it shows."""
    k = adoption["min_group_size"]
    # The oldest data any figure on the page rests on (each answer's as_of).
    as_of = min(doc["as_of"] for doc in (adoption, usage, effectiveness, *levels))
    tools = sorted({r["tool"] for r in adoption["rows"] + usage["rows"]} - {ALL})
    orgs = sorted({r["org_unit"] for r in adoption["rows"]} - {ALL})
    if f.tool and f.tool not in tools:
        tools.append(f.tool)
    chart_org = f.org_unit or ALL
    adoption_lines = [r for r in adoption["rows"] if not f.tool or r["tool"] in (f.tool, ALL)]
    usage_columns = usage["columns"]
    model_columns = ["period", "tool", "model", "people"] + [
        c for c in usage_columns if c.startswith("tokens.")
    ]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>aitally: AI tool use</title>
<style>{_STYLE}</style></head><body>
<h1>AI tool use across the organisation</h1>
{_form(f, tools, orgs)}
<p class="note">Every figure counts at least {k} people: smaller groups are merged into
"(other)" or shown as "{HIDDEN}", and so are figures whose difference from another would
single out fewer than {k}. No one is ranked or listed. Periods {escape(adoption["since"])} to
{escape(adoption["until"])} (UTC). What each figure means: docs/measuring.md.</p>
<h2>Adoption: active and engaged people</h2>
<p class="note">Active: any use in the period. Engaged: active on at least 2 of the 28 days
up to the period's end. Lines: people per tool in {escape(chart_org)}.</p>
{line_chart(adoption_lines, chart_org)}
{table("adoption", adoption["columns"], pick(adoption["rows"], f), shut=True)}
<h2>Levels per org unit</h2>
{"".join(_levels_section(doc, f) for doc in levels)}
<h2>Usage by tool and model</h2>
<p class="note">Active seconds, sessions, turns and tokens; not split by org unit.</p>
{table("usage", usage_columns, pick(usage["rows"], Filters(tool=f.tool)), shut=True)}
<h3>Tokens by model</h3>
{table("models", model_columns, pick(usage["models"], Filters(tool=f.tool)), shut=True)}
<h2>Effectiveness</h2>
<p class="note">What the use produced, beside how much there was (people here; hours above):
acceptance rate of proposed edits, lines kept per active hour, share of sessions that left a
kept change, tool failure rate of commands, commits with AI per active person-week. Each counts
only the tools that record it.</p>
{table("effectiveness", effectiveness["columns"], pick(effectiveness["rows"], f))}
<p class="note" data-as-of="{escape(as_of)}">Figures as of {escape(as_of)}: records received
since then show at the next refresh.</p>
</body></html>
"""
