"""Cline: tasks/<id>/ui_messages.json, rewritten whole; figures from api_req_started entries."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from aitally.collectors.files.adapters.base import FileState, SnapshotAdapter, num, text, ts
from aitally.core.observation import Activity, Observation, Tokens, Usage

TOOL = "cline"
FIELDS = ("tokensIn", "tokensOut", "cacheReads", "cacheWrites", "reasoningTokens")


class Cline(SnapshotAdapter):
    """A task's message list, rewritten whole; requests diffed by timestamp."""

    tool = TOOL
    dirs = ("tasks",)

    def matches(self, rel: PurePosixPath) -> bool:
        return (
            len(rel.parts) == 3
            and rel.parts[0] == "tasks"
            and rel.name in ("ui_messages.json", "claude_messages.json")
        )

    def snapshot(self, obj: Any, rel: PurePosixPath, st: FileState) -> list[Observation]:
        if not isinstance(obj, list):
            st.drifted()
            return []
        task = rel.parts[1]
        last_prompt = float(st.data.get("last_prompt") or 0)
        seen: dict[str, list[int]] = st.data.setdefault("reqs", {})
        out: list[Observation] = []
        for m in obj:
            if not isinstance(m, Mapping):
                continue
            at = ts(m.get("ts"))
            if at is None:
                continue
            say = m.get("say")
            if say in ("task", "user_feedback") and at > last_prompt:
                st.data["last_prompt"] = max(float(st.data.get("last_prompt") or 0), at)
                out.append(Activity(TOOL, task, at, "prompt"))
            elif say == "api_req_started" and isinstance(m.get("text"), str):
                out += self._request(m["text"], task, at, seen, st)
        return out

    @staticmethod
    def _request(
        raw: str, task: str, at: float, seen: dict[str, list[int]], st: FileState
    ) -> list[Observation]:
        # The JSON string also holds the request text: only the numeric fields are copied.
        try:
            info = json.loads(raw)
        except (ValueError, RecursionError):
            st.drifted()
            return []
        if not isinstance(info, Mapping):
            return []
        now = [num(info.get(f)) or 0 for f in FIELDS]
        key = str(int(at * 1000))
        old = seen.get(key, [0] * len(FIELDS))
        delta = [max(0, n - o) for n, o in zip(now, old, strict=True)]
        if not any(delta):
            return []
        seen[key] = [max(n, o) for n, o in zip(now, old, strict=True)]
        has_reasoning = "reasoningTokens" in info
        tokens = Tokens(delta[0], delta[1], delta[2], delta[3], delta[4] if has_reasoning else None)
        dedup = f"{task}:{key}:" + ",".join(map(str, seen[key]))
        return [Usage(TOOL, task, at, text(info.get("modelId")), tokens, dedup)]
