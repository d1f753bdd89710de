"""opencode: opencode.db read-only; message.data holds role, model and token figures."""

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

TOOL = "opencode"


class OpenCode(SqliteAdapter):
    """Rows of the message table; `part`, which holds the content, is never queried."""

    tool = TOOL
    signal = "state-db"
    table = "message"
    columns = ("id", "session_id", "time_created", "data")

    def matches(self, rel: PurePosixPath) -> bool:
        return str(rel) == "opencode.db"

    def row(self, row: Row, rel: PurePosixPath, st: FileState) -> list[Observation]:
        mid, session, created, raw = row.values
        sid = text(session)
        try:
            data = json.loads(raw) if isinstance(raw, str | bytes) else None
        except (ValueError, RecursionError):
            data = None
        if sid is None or not isinstance(data, Mapping):
            st.drifted()
            return []
        at = ts(dig(data, "time", "created")) or ts(created)
        if at is None:
            st.drifted()
            return []
        if data.get("role") == "user":
            return [Activity(TOOL, sid, at, "prompt", "state-db")]
        if data.get("role") != "assistant":
            return []
        if dig(data, "time", "completed") is None:
            st.pend(row.rowid)  # still streaming: its figures are not final
            return [Activity(TOOL, sid, at, "reply", "state-db")]
        tok = data.get("tokens")
        if not isinstance(tok, Mapping):
            st.drifted()
            return []
        tokens = Tokens(
            num(tok.get("input")),
            num(tok.get("output")),
            num(dig(tok, "cache", "read")),
            num(dig(tok, "cache", "write")),
            num(tok.get("reasoning")),
        )
        key = f"{sid}:{text(mid) or row.rowid}"
        return [Usage(TOOL, sid, at, text(data.get("modelID")), tokens, key, "state-db")]
