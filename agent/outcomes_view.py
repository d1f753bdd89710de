"""Terminal rendering of outcome counts: a table of the recorded kinds, and a one-cell summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aitally.agent.table import render
from aitally.core.wire import OUTCOME_KINDS

# Short column headers, so a table of every kind still fits 80 columns beside a tool name.
HEADERS = {
    "edits_proposed": "edits",
    "edits_accepted": "accepted",
    "edits_rejected": "rejected",
    "edits_modified": "modified",
    "lines_added": "+lines",
    "lines_removed": "-lines",
    "commands_run": "cmds",
    "commands_failed": "failed",
    "commits": "commits",
    "commits_with_ai": "ai-commits",
    "lines_suggested": "suggested",
    "lines_accepted": "kept-lines",
}


def recorded_kinds(outcomes: Sequence[dict[str, int]]) -> list[str]:
    """The kinds any of these outcome objects records, in `OUTCOME_KINDS` order."""
    return [k for k in OUTCOME_KINDS if any(k in o for o in outcomes)]


# Kinds shown in one table at most: with every kind recorded, two tables of six kinds each
# still fit 80 columns beside a tool name.
GROUPS = (OUTCOME_KINDS[:6], OUTCOME_KINDS[6:])


def tables(
    label: str, rows: Sequence[tuple[str, dict[str, int]]], *, colour: bool, width: int
) -> list[str]:
    """One row per label, a column per kind recorded in any row ("-": not recorded for that
    row's tool, never 0), edits and lines in one table, commands, commits and suggestions in
    another; a table only where some row recorded one of its kinds."""
    out = []
    for group in GROUPS:
        kinds = [k for k in recorded_kinds([o for _, o in rows]) if k in group]
        if kinds:
            body = [[name, *(str(o[k]) if k in o else "-" for k in kinds)] for name, o in rows]
            right = tuple(range(1, len(kinds) + 1))
            head = [label, *(HEADERS[k] for k in kinds)]
            out.append(render(head, body, colour=colour, width=width, right=right))
    return out


def brief(o: dict[str, Any]) -> str:
    """A segment's outcomes in one short cell, e.g. `2/3 edits kept, +40 -3, 5 cmds (1 failed)`."""
    parts = []
    if "edits_proposed" in o:
        parts.append(f"{o.get('edits_accepted', 0)}/{o['edits_proposed']} edits kept")
    if "lines_added" in o or "lines_removed" in o:
        parts.append(f"+{o.get('lines_added', 0)} -{o.get('lines_removed', 0)}")
    if "commands_run" in o:
        failed = o.get("commands_failed", 0)
        parts.append(f"{o['commands_run']} cmds" + (f" ({failed} failed)" if failed else ""))
    if o.get("commits"):
        parts.append(f"{o['commits']} commits")
    if "lines_suggested" in o:
        parts.append(f"{o.get('lines_accepted', 0)}/{o['lines_suggested']} lines kept")
    return ", ".join(parts) or "-"
