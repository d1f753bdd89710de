"""Charts of the central dashboard as inline SVG (no script, no asset): adoption lines and
level bars, drawn from report answers exactly as the API gives them."""

from __future__ import annotations

from html import escape
from typing import Any

from aitally.ingest.suppress import ALL

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
LEVEL_COLORS = {
    "heavy": "#08519c",
    "consistent": "#08519c",
    "multi_agentic": "#08519c",
    "moderate": "#3182bd",
    "regular": "#3182bd",
    "agentic": "#3182bd",
    "light": "#6baed6",
    "assisted": "#6baed6",
    "occasional": "#9ecae1",
    "minimal": "#c6dbef",
    "chat": "#c6dbef",
    "none": "#e0e0e0",
    "suppressed": "#bdbdbd",
}
SUPPRESSED = "suppressed"
W, H, PAD = 760, 300, 48


def line_chart(rows: list[dict[str, Any]], org_unit: str = ALL) -> str:
    """Active people (solid) and engaged people (dashed) per period and tool in one org unit
    ((all) by default), a line a tool."""
    rows = [r for r in rows if r["org_unit"] == org_unit]
    periods = sorted({r["period"] for r in rows})
    tools = sorted({r["tool"] for r in rows}, key=lambda t: (t != ALL, t))
    if not periods:
        return '<p class="note">No groups large enough to show yet.</p>'
    top = max(r["active_users"] for r in rows)
    x_step = (W - 2 * PAD) / max(len(periods) - 1, 1)

    def xy(period: str, value: int) -> str:
        x = PAD + periods.index(period) * x_step
        y = H - PAD - (H - 2 * PAD) * value / top
        return f"{x:.1f},{y:.1f}"

    parts = [
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#999"/>',
        f'<text x="4" y="{PAD}">{top}</text><text x="4" y="{H - PAD}">0</text>',
    ]
    for i, p in enumerate(periods):
        if i % max(len(periods) // 6, 1) == 0:
            # Centred on their tick, so the last label stays inside the chart.
            parts.append(
                f'<text x="{PAD + i * x_step:.1f}" y="{H - PAD + 16}" text-anchor="middle">'
                f"{escape(p)}</text>"
            )
    for i, tool in enumerate(tools):
        color = PALETTE[i % len(PALETTE)]
        points = [xy(r["period"], r["active_users"]) for r in rows if r["tool"] == tool]
        parts.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="3" points="{" ".join(points)}"/>'
        )
        parts += [
            f'<circle cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="4" fill="{color}"/>'
            for p in points
        ]
        parts.append(
            f'<rect x="{W - 150}" y="{12 + 16 * i}" width="12" height="12" fill="{color}"/>'
            f'<text x="{W - 132}" y="{22 + 16 * i}">{escape(tool)}</text>'
        )
    parts.append(
        f'<text x="{PAD}" y="16">solid: active people; dashed: engaged (active on 2+ of 28 '
        "days)</text>"
    )
    return _svg("active and engaged people per tool", parts)


def stacked_bars(report: dict[str, Any]) -> str:
    """People per usage level, one horizontal bar per org unit."""
    rows, names = report["rows"], report["levels"]
    if not rows:
        return '<p class="note">No groups large enough to show yet.</p>'
    bar_h, label_w = 32, 140
    height = int(PAD + len(rows) * (bar_h + 8) + 40)
    parts = []
    for i, row in enumerate(rows):
        y = PAD / 2 + i * (bar_h + 8)
        x = float(label_w)
        parts.append(
            f'<text x="4" y="{y + bar_h / 2 + 4:.1f}">{escape(row["org_unit"])} '
            f"({row['people']})</text>"
        )
        # Suppressed counts (None: under the minimum) share one grey segment at the end.
        hidden = row["people"] - sum(row[name] or 0 for name in names)
        for name, count in [*((n, row[n]) for n in names), (SUPPRESSED, hidden)]:
            width = (W - label_w - PAD) * (count or 0) / max(row["people"], 1)
            if width > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{bar_h}" '
                    f'fill="{LEVEL_COLORS[name]}"><title>{name}: {count}</title></rect>'
                )
            x += width
    for i, name in enumerate(names):
        parts.append(
            f'<rect x="{label_w + 110 * i}" y="{height - 24}" width="12" height="12" '
            f'fill="{LEVEL_COLORS[name]}"/><text x="{label_w + 110 * i + 16}" '
            f'y="{height - 14}">{name}</text>'
        )
    return _svg(f"usage levels ({report['recipe_version']})", parts, height)


def _svg(title: str, parts: list[str], height: int = H) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" '
        f'viewBox="0 0 {W} {height}" role="img" aria-label="{escape(title)}">'
        + "".join(parts)
        + "</svg>"
    )
