"""The dashboard's page frame: navigation, inline CSS and JS, HTML escaping and small widgets."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from aitally.core.config import Config
from aitally.core.store import Store

PAGES = (
    ("", "Overview"),
    ("sessions", "Sessions"),
    ("outbound", "What leaves this machine"),
    ("sources", "Sources"),
)

# Light and dark themes follow the system; tool colours are a palette that reads on both.
CSS = """
:root { color-scheme: light dark; --bg: #fbfbfd; --fg: #1d2330; --muted: #5d6678;
  --card: #ffffff; --line: #dde1ea; --accent: #2456c9; --warn: #a35d00; --ok: #1d7a3a;
  --c0: #2f6fdf; --c1: #e07b1a; --c2: #1f9d6b; --c3: #c23b7a; --c4: #7a56d6; --c5: #0f8fa8;
  --c6: #b59a00; --c7: #6b7486; --k0: #2f6fdf; --k1: #1f9d6b; --k2: #a9c4f5; --k3: #e0b070;
  --k4: #c23b7a; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14161c; --fg: #e4e7ee; --muted: #9aa3b5; --card: #1c1f27; --line: #30343f;
    --accent: #7aa7ff; --warn: #f0a640; --ok: #5fd08a;
    --c0: #6b9cff; --c1: #ffa351; --c2: #4fd19c; --c3: #f071ad; --c4: #a98bff; --c5: #4cc7df;
    --c6: #e0c640; --c7: #9aa3b5; --k0: #6b9cff; --k1: #4fd19c; --k2: #39507d; --k3: #a77c3c;
    --k4: #f071ad; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
  background: var(--bg); color: var(--fg); }
a { color: var(--accent); }
header { display: flex; align-items: baseline; gap: 24px; padding: 12px 24px;
  border-bottom: 1px solid var(--line); background: var(--card); flex-wrap: wrap; }
header b { font-size: 16px; }
nav a { color: var(--muted); text-decoration: none; margin-right: 18px; padding-bottom: 10px; }
nav a.on { color: var(--fg); border-bottom: 2px solid var(--accent); }
main { padding: 16px 24px 40px; max-width: 1200px; }
h1 { font-size: 20px; margin: 8px 0 12px; }
h2 { font-size: 15px; margin: 22px 0 8px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 12px 14px; }
.card .big { font-size: 22px; font-weight: 600; }
.muted, .card .sub { color: var(--muted); }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line);
  white-space: nowrap; }
th { font-weight: 600; color: var(--muted); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
th.sortable { cursor: pointer; user-select: none; }
th.sortable[aria-sort=ascending]::after { content: " \\25B2"; }
th.sortable[aria-sort=descending]::after { content: " \\25BC"; }
.chart { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
  padding: 8px; }
.chart svg { width: 100%; height: auto; display: block; }
.chart text { fill: var(--muted); font-size: 11px; }
.chart .grid { stroke: var(--line); }
.legend span { display: inline-block; margin-right: 14px; }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 5px; }
.s0 { fill: var(--c0); background: var(--c0); } .s1 { fill: var(--c1); background: var(--c1); }
.s2 { fill: var(--c2); background: var(--c2); } .s3 { fill: var(--c3); background: var(--c3); }
.s4 { fill: var(--c4); background: var(--c4); } .s5 { fill: var(--c5); background: var(--c5); }
.s6 { fill: var(--c6); background: var(--c6); } .s7 { fill: var(--c7); background: var(--c7); }
.k0 { fill: var(--k0); background: var(--k0); } .k1 { fill: var(--k1); background: var(--k1); }
.k2 { fill: var(--k2); background: var(--k2); } .k3 { fill: var(--k3); background: var(--k3); }
.k4 { fill: var(--k4); background: var(--k4); }
.bar:hover { opacity: .75; }
.banner { border: 1px solid var(--warn); color: var(--warn); border-radius: 8px;
  padding: 8px 12px; margin: 8px 0; }
.ok { color: var(--ok); } .warn { color: var(--warn); }
.badge { border: 1px solid var(--accent); color: var(--accent); border-radius: 6px;
  padding: 0 5px; margin-left: 6px; font-size: 11px; }
pre { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px;
  overflow: auto; max-height: 480px; font-size: 12px; }
input, select, button { font: inherit; color: inherit; background: var(--card);
  border: 1px solid var(--line); border-radius: 6px; padding: 4px 8px; }
.tools { display: flex; gap: 10px; align-items: center; margin: 8px 0; flex-wrap: wrap; }
#tip { position: fixed; pointer-events: none; background: var(--fg); color: var(--bg);
  padding: 4px 8px; border-radius: 4px; font-size: 12px; display: none; white-space: pre; }
"""

# Tooltips from each chart element's <title>, and sortable, filterable tables whose
# initial state comes from the URL (?sort=col&dir=asc|desc&q=text&tool=id).
JS = """
(function () {
  var tip = document.getElementById('tip');
  document.querySelectorAll('svg .bar').forEach(function (el) {
    var t = el.querySelector('title');
    if (!t) return;
    el.addEventListener('mousemove', function (e) {
      tip.textContent = t.textContent; tip.style.display = 'block';
      tip.style.left = (e.clientX + 12) + 'px'; tip.style.top = (e.clientY + 12) + 'px';
    });
    el.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
  });
  var table = document.querySelector('table[data-sortable]');
  if (!table) return;
  var body = table.tBodies[0], heads = table.tHead.rows[0].cells;
  var params = new URLSearchParams(location.search);
  var q = document.getElementById('q'), tool = document.getElementById('tool');
  function key(row, i) {
    var c = row.cells[i], v = c.getAttribute('data-v');
    return v === null ? c.textContent.toLowerCase() : parseFloat(v);
  }
  function sortBy(i, dir) {
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, i), y = key(b, i);
      return (x < y ? -1 : x > y ? 1 : 0) * (dir === 'asc' ? 1 : -1);
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
    heads[i].setAttribute('aria-sort', dir === 'asc' ? 'ascending' : 'descending');
    params.set('sort', heads[i].getAttribute('data-col')); params.set('dir', dir);
  }
  function filter() {
    var text = q ? q.value.toLowerCase() : '', t = tool ? tool.value : '', shown = 0;
    Array.prototype.forEach.call(body.rows, function (r) {
      var ok = (!text || r.textContent.toLowerCase().indexOf(text) >= 0) &&
        (!t || r.getAttribute('data-tool') === t);
      r.hidden = !ok; if (ok) shown++;
    });
    var n = document.getElementById('shown'); if (n) n.textContent = shown;
    if (q) params.set('q', q.value); if (tool) params.set('tool', t);
  }
  function remember() { history.replaceState(null, '', '?' + params.toString()); }
  Array.prototype.forEach.call(heads, function (h, i) {
    if (!h.classList.contains('sortable')) return;
    h.addEventListener('click', function () {
      var dir = h.getAttribute('aria-sort') === 'descending' ? 'asc' : 'desc';
      sortBy(i, dir); remember();
    });
  });
  if (q) { q.value = params.get('q') || ''; q.addEventListener('input', function () {
    filter(); remember(); }); }
  if (tool) { tool.value = params.get('tool') || ''; tool.addEventListener('change', function () {
    filter(); remember(); }); }
  var col = params.get('sort');
  Array.prototype.forEach.call(heads, function (h, i) {
    if (h.getAttribute('data-col') === col) sortBy(i, params.get('dir') === 'asc' ? 'asc' : 'desc');
  });
  filter();
})();
"""


def h(value: object) -> str:
    """Escapes any value for HTML text and attribute positions."""
    return html.escape(str(value), quote=True)


@dataclass(frozen=True, slots=True)
class Frame:
    """What every page needs to link and to be served: the secret path prefix and a CSP nonce."""

    base: str
    nonce: str

    def url(self, page: str, query: str = "") -> str:
        return f"{self.base}{page}" + (f"?{query}" if query else "")


@dataclass(slots=True)
class Context:
    """One request: the frame, the configuration, the store (None before any data), the query."""

    frame: Frame
    cfg: Config
    store: Store | None
    now: float
    query: dict[str, str] = field(default_factory=dict)

    def days(self, default: int = 30) -> int:
        """The ?days= range, clamped so a typo cannot make a page scan years of data."""
        raw = self.query.get("days", "")
        return min(max(int(raw), 1), 366) if raw.isdigit() else default


def page(frame: Frame, current: str, title: str, body: str) -> str:
    links = "".join(
        f'<a href="{h(frame.url(slug))}"{" class=on" if slug == current else ""}>{h(name)}</a>'
        for slug, name in PAGES
    )
    stamp = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        '<meta name=referrer content="no-referrer">'
        f"<title>{h(title)} · aitally</title><style>{CSS}</style></head><body>"
        f"<header><b>aitally</b><nav>{links}</nav>"
        f"<span class=muted>this machine only · {h(stamp)}</span></header>"
        f"<main><h1>{h(title)}</h1>{body}</main><div id=tip></div>"
        f'<script nonce="{h(frame.nonce)}">{JS}</script></body></html>'
    )


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: Sequence[int] = (),
    empty: str = "nothing yet",
) -> str:
    """A plain table; cells are already-escaped HTML."""
    if not rows:
        return f"<p class=muted>{h(empty)}</p>"

    def cls(i: int) -> str:
        return " class=n" if i in numeric else ""

    head = "".join(f"<th{cls(i)}>{h(x)}</th>" for i, x in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(r)) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# The signal the tools' own telemetry is recorded under (collectors/otlp/allowlist.py).
TELEMETRY_SIGNAL = "otlp"
TELEMETRY_BADGE = (
    "<span class=badge title=\"figures include the tool's own telemetry (OTLP), "
    'calls its local files do not record">telemetry</span>'
)


def telemetry_badge(signals: Iterable[str]) -> str:
    """The "telemetry" badge when `signals` include the tools' own telemetry, else ""."""
    return TELEMETRY_BADGE if TELEMETRY_SIGNAL in signals else ""


def card(label: str, big: str, sub: str = "") -> str:
    return (
        f"<div class=card><div class=sub>{h(label)}</div><div class=big>{h(big)}</div>"
        f"<div class=sub>{h(sub)}</div></div>"
    )


def local_time(iso_text: str | None) -> str:
    if not iso_text:
        return "-"
    moment = dt.datetime.fromisoformat(iso_text.replace("Z", "+00:00")).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M")
