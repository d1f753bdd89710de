"""opencode: opencode.db read-only; message.data holds role, model and token figures."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from aitally.collectors.files.adapters.base import Adapter, FileState, dig, num, text, ts
from aitally.collectors.files.adapters.sqlite_source import pend, rows
from aitally.core.observation import Activity, Observation, Tokens, Usage

TOOL = "opencode"


class OpenCode(Adapter):
    tool = TOOL
    kind = "sqlite"
    signal = "state-db"

    def matches(self, rel: PurePosixPath) -> bool:
        return str(rel) == "opencode.db"

    def poll(self, path: Path, rel: PurePosixPath, st: FileState) -> list[Observation]:
        out: list[Observation] = []
        try:
            # Only the message table: `part` holds the content and is never queried.
            for rowid, mid, session, created, data in rows(
                path, "message", "id, session_id, time_created, data", "1=1", st
            ):
                out += self._message(int(rowid), mid, session, created, data, st)
        except sqlite3.Error as exc:
            if "no such table" in str(exc):
                return out
            raise OSError(str(exc)) from None
        return out

    @staticmethod
    def _message(
        rowid: int, mid: object, session: object, created: object, raw: object, st: FileState
    ) -> list[Observation]:
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
            pend(st, rowid)  # still streaming: its figures are not final
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
        key = f"{sid}:{text(mid) or rowid}"
        return [Usage(TOOL, sid, at, text(data.get("modelID")), tokens, key, "state-db")]
