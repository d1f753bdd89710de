"""Cursor: globalStorage/state.vscdb and ~/.cursor/ai-tracking/ai-code-tracking.db, read-only.

Of state.vscdb only the chat bubbles of cursorDiskKV and the daily line counts of ItemTable
(never its other keys, which hold credentials); of ai-code-tracking.db only the line counts of
scored_commits (never the tables that hold code or conversation summaries). The allowlist is
`sqlite_source.READABLE`; the formats are in docs/clients/cursor.md.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from aitally.collectors.files.adapters.base import (
    FileState,
    Row,
    SqliteAdapter,
    dig,
    num,
    text,
    ts,
)
from aitally.collectors.files.outcomes import cursor as outcomes
from aitally.core.observation import Activity, Observation, Tokens, Usage

TOOL = outcomes.TOOL


class Cursor(SqliteAdapter):
    """Chat bubbles (key bubbleId:<composer>:<bubble>): prompts, replies and their figures;
    and the daily line counts (keys aiCodeTracking.dailyStats.<version>.<date>)."""

    tool = TOOL
    signal = "state-db"
    table = "cursorDiskKV"
    columns = ("key", "value")
    key_prefix = ("key", "bubbleId:")
    rewritten = ("ItemTable", "aiCodeTracking.dailyStats")

    def matches(self, rel: PurePosixPath) -> bool:
        return str(rel) == "state.vscdb"

    def row(self, row: Row, rel: PurePosixPath, st: FileState) -> list[Observation]:
        key, value = row.values
        parts = str(key).split(":")
        if len(parts) != 3:
            st.drifted()
            return []
        composer, bubble = parts[1], parts[2]
        try:
            data = json.loads(value) if isinstance(value, str | bytes) else None
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, Mapping):
            st.drifted()
            return []
        at = ts(data.get("createdAt")) or row.file_mtime
        if data.get("type") == 1:
            return [Activity(TOOL, composer, at, "prompt", "state-db", "ide")]
        if data.get("type") != 2:
            return []
        tin, tout = (
            num(dig(data, "tokenCount", "inputTokens")),
            num(dig(data, "tokenCount", "outputTokens")),
        )
        if not tin and not tout:
            # Only the turn-final reply carries figures, written once the turn ends.
            st.pend(row.rowid)
            return [Activity(TOOL, composer, at, "reply", "state-db", "ide")]
        model = text(dig(data, "modelInfo", "modelName"))
        model = None if model in (None, "default") else model
        tokens = Tokens(tin, tout)
        return [Usage(TOOL, composer, at, model, tokens, f"{composer}:{bubble}", "state-db", "ide")]

    def rewritten_rows(
        self, rows: list[tuple[str, Any]], mtime: float, st: FileState
    ) -> list[Observation]:
        return list(outcomes.daily_outcomes(rows, mtime, st))


class CursorScoredCommits(SqliteAdapter):
    """Commits Cursor scored for AI and human lines (ai-code-tracking.db, table
    scored_commits): its line counts and dates, never the message or the branch."""

    tool = TOOL
    signal = "state-db"
    table = "scored_commits"
    columns = outcomes.SCORED_COLUMNS

    def matches(self, rel: PurePosixPath) -> bool:
        return str(rel) == "ai-code-tracking.db"

    def row(self, row: Row, rel: PurePosixPath, st: FileState) -> list[Observation]:
        return list(outcomes.scored_commit(row.values, row.file_mtime, st))
