"""Counting the lines a change adds and removes from its patch, reading only each line's first
character; the patch text itself is never kept."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def hunk_lines(lines: Iterable[Any]) -> tuple[int, int]:
    """(added, removed) of a hunk's lines (`+`, `-`; context lines start with a space)."""
    added = removed = 0
    for line in lines:
        if isinstance(line, str) and line:
            if line[0] == "+":
                added += 1
            elif line[0] == "-":
                removed += 1
    return added, removed


def unified_diff(diff: str) -> tuple[int, int]:
    """(added, removed) of a unified diff; the `---`/`+++` file headers before the first hunk
    are not lines of the change (a removed line `-- x` inside a hunk reads `--- x` and is)."""
    added = removed = 0
    in_hunk = False
    for line in diff.splitlines():
        if line.startswith("@@"):
            in_hunk = True
        elif not in_hunk and line.startswith(("--- ", "+++ ")):
            continue
        elif line[:1] == "+":
            added += 1
        elif line[:1] == "-":
            removed += 1
    return added, removed


def text_lines(content: str) -> int:
    """How many lines a whole text has (a last line without a newline counts)."""
    return content.count("\n") + (1 if content and not content.endswith("\n") else 0)
