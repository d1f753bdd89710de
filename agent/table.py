"""Plain-text tables and numbers for the terminal: aligned, width-aware, colour only on a tty."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence

from aitally.core.terminal import style


def human_tokens(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def human_seconds(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float]) -> str:
    top = max(values, default=0)
    if top <= 0:
        return " " * len(values) if values else ""
    return "".join(
        SPARKS[min(len(SPARKS) - 1, int(v / top * (len(SPARKS) - 1)))] if v > 0 else " "
        for v in values
    )


def render(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    colour: bool = False,
    width: int | None = None,
    right: Sequence[int] = (),
) -> str:
    """Columns sized to content; on a terminal the widest text column is cut to fit."""
    if width is None and sys.stdout.isatty():
        width = shutil.get_terminal_size((80, 24)).columns
    cols = len(headers)
    widths = [max([len(headers[i]), *(len(r[i]) for r in rows)]) for i in range(cols)]
    over = sum(widths) + 2 * (cols - 1) - width if width else 0
    if over > 0:
        wide = max(range(cols), key=lambda i: widths[i] if i not in right else -1)
        widths[wide] = max(4, widths[wide] - over)

    def cell(i: int, text: str) -> str:
        if len(text) > widths[i]:
            text = text[: widths[i] - 1] + "…"
        return text.rjust(widths[i]) if i in right else text.ljust(widths[i])

    lines = ["  ".join(cell(i, h) for i, h in enumerate(headers)).rstrip()]
    lines[0] = style(lines[0], "1", colour)
    lines += ["  ".join(cell(i, c) for i, c in enumerate(r)).rstrip() for r in rows]
    return "\n".join(lines)
