"""Cursor: globalStorage/state.vscdb, read-only, only cursorDiskKV bubbles (never ItemTable)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from aitally.collectors.files.adapters.base import Adapter, FileState, dig, num, text, ts
from aitally.collectors.files.adapters.sqlite_source import pend, rows
from aitally.core.observation import Activity, Observation, Tokens, Usage

TOOL = "cursor"


class Cursor(Adapter):
    tool = TOOL
    kind = "sqlite"
    signal = "state-db"

    def matches(self, rel: PurePosixPath) -> bool:
        return str(rel) == "state.vscdb"

    def poll(self, path: Path, rel: PurePosixPath, st: FileState) -> list[Observation]:
        out: list[Observation] = []
        fallback = path.stat().st_mtime
        try:
            for rowid, key, value in rows(
                path, "cursorDiskKV", "key, value", "key LIKE 'bubbleId:%'", st
            ):
                out += self._bubble(int(rowid), str(key), value, fallback, st)
        except sqlite3.Error as exc:
            if "no such table" in str(exc):
                return out
            raise OSError(str(exc)) from None
        return out

    @staticmethod
    def _bubble(
        rowid: int, key: str, value: object, fallback: float, st: FileState
    ) -> list[Observation]:
        parts = key.split(":")
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
        at = ts(data.get("createdAt")) or fallback
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
            pend(st, rowid)
            return [Activity(TOOL, composer, at, "reply", "state-db", "ide")]
        model = text(dig(data, "modelInfo", "modelName"))
        model = None if model in (None, "default") else model
        tokens = Tokens(tin, tout)
        return [Usage(TOOL, composer, at, model, tokens, f"{composer}:{bubble}", "state-db", "ide")]
