"""Inline SVG charts: stacked bars per day and stacked horizontal bars, with <title> tooltips."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence

from aitally.agent.dashboard.layout import h

PALETTE = 8


def nice_step(top: float, ticks: int = 4) -> float:
    """A round axis step (1, 2 or 5 times a power of ten) giving about `ticks` gridlines."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def legend(names: Sequence[str], prefix: str = "s") -> str:
    items = "".join(
        f"<span><i class={prefix}{i % PALETTE}></i>{h(n)}</span>" for i, n in enumerate(names)
    )
    return f"<div class=legend>{items}</div>"


def _time_unit(top_seconds: float) -> tuple[str, float]:
    """Seconds, minutes or hours, so the axis reads in whole-ish numbers whatever the scale."""
    if top_seconds < 120:
        return "s", 1.0
    if top_seconds < 10 * 3600:
        return "min", 60.0
    return "h", 3600.0


def _tick(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step))) if step < 1 else 0
    return f"{value:.{decimals}f}"


def stacked_days(
    days: Sequence[str], series: dict[str, Sequence[float]], *, tip: Callable[[float], str]
) -> str:
    """Columns per day, one stacked rect per series of seconds; `tip` formats tooltip values."""
    width, height, left, bottom, top_pad, right = 760, 250, 44, 22, 18, 24
    names = list(series)
    totals = [sum(series[n][i] for n in names) for i in range(len(days))]
    unit, scale = _time_unit(max(totals, default=0.0))
    totals = [t / scale for t in totals]
    step = nice_step(max(totals, default=0.0))
    top = step * max(1, math.ceil(max(totals, default=0.0) / step))
    plot_h = height - bottom - top_pad
    slot = (width - left - right) / max(1, len(days))
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role=img aria-label="active time per day by tool">'
    ]
    tick = 0.0
    while tick <= top + 1e-9:
        y = top_pad + plot_h - tick / top * plot_h
        parts.append(
            f'<line class=grid x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor=end>{_tick(tick, step)}</text>'
        )
        tick += step
    parts.append(f'<text x="{left - 6}" y="10" text-anchor=end>{h(unit)}</text>')
    for i, day in enumerate(days):
        x = left + i * slot + slot * 0.15
        base = float(top_pad + plot_h)
        for n, name in enumerate(names):
            value = series[name][i] / scale
            if value <= 0:
                continue
            bar = value / top * plot_h
            base -= bar
            parts.append(
                f'<rect class="bar s{n % PALETTE}" x="{x:.1f}" y="{base:.1f}"'
                f' width="{slot * 0.7:.1f}" height="{max(bar, 0.5):.1f}">'
                f"<title>{h(day)} · {h(name)}: {h(tip(series[name][i]))}</title></rect>"
            )
        date = dt.date.fromisoformat(day)
        if len(days) <= 14 or date.day in (1, 8, 15, 22) or i == len(days) - 1:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{height - 6}" text-anchor=middle>'
                f"{date:%d %b}</text>"
            )
    parts.append("</svg>")
    return f"<div class=chart>{''.join(parts)}{legend(names)}</div>"


def stacked_rows(
    rows: Sequence[tuple[str, Sequence[float]]],
    kinds: Sequence[str],
    *,
    fmt: Callable[[float], str],
) -> str:
    """One horizontal bar per labelled row, split into `kinds`, largest row first."""
    width, row_h, label_w, value_w = 760, 26, 200, 70
    height = row_h * len(rows) + 6
    top = max((sum(v) for _, v in rows), default=0.0) or 1.0
    span = width - label_w - value_w
    parts = [f'<svg viewBox="0 0 {width} {height}" role=img aria-label="tokens by model">']
    for r, (label, values) in enumerate(rows):
        y = 4 + r * row_h
        shown = label if len(label) <= 30 else label[:29] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor=end>{h(shown)}'
            f"<title>{h(label)}</title></text>"
        )
        x = float(label_w)
        for k, value in enumerate(values):
            if value <= 0:
                continue
            w = value / top * span
            parts.append(
                f'<rect class="bar k{k % PALETTE}" x="{x:.1f}" y="{y}" width="{max(w, 0.5):.1f}"'
                f' height="{row_h - 8}"><title>{h(label)} · {h(kinds[k])}: {fmt(value)}'
                "</title></rect>"
            )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{fmt(sum(values))}</text>')
    parts.append("</svg>")
    return f"<div class=chart>{''.join(parts)}{legend(kinds, 'k')}</div>"
