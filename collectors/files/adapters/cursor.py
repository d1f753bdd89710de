"""Cursor: globalStorage/state.vscdb, read-only, only cursorDiskKV bubbles (never ItemTable)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import PurePosixPath

from aitally.collectors.files.adapters.base import (
    FileState,
    Row,
    SqliteAdapter,
    dig,
    num,
    text,
    ts,
)
from aitally.core.observation import Activity, Observation, Tokens, Usage

TOOL = "cursor"


class Cursor(SqliteAdapter):
    """Chat bubbles (key bubbleId:<composer>:<bubble>): prompts, replies and their figures."""

    tool = TOOL
    signal = "state-db"
    table = "cursorDiskKV"
    columns = ("key", "value")
    key_prefix = ("key", "bubbleId:")

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
