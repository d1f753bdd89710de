"""GitHub Copilot CLI: session-state/<id>/events.jsonl; tokens from session.shutdown per model."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from aitally.collectors.files.adapters.base import FileState, LineAdapter, dig, minus, num, text, ts
from aitally.core.observation import Activity, ActivityKind, Observation, Tokens, Usage

TOOL = "copilot-cli"
KINDS: dict[str, ActivityKind] = {
    "user.message": "prompt",
    "assistant.message": "reply",
    "tool.execution_complete": "tool",
}


class CopilotCli(LineAdapter):
    """Session events: prompts, replies, tool runs and the per-model totals at shutdown."""

    tool = TOOL
    markers = (
        b'"user.message"',
        b'"assistant.message"',
        b'"tool.execution_complete"',
        b'"session.shutdown"',
    )
    dirs = ("session-state",)

    def matches(self, rel: PurePosixPath) -> bool:
        return (
            len(rel.parts) == 3 and rel.parts[0] == "session-state" and rel.name == "events.jsonl"
        )

    def line(self, obj: Mapping[str, Any], rel: PurePosixPath, st: FileState) -> list[Observation]:
        kind = obj.get("type")
        at = ts(obj.get("timestamp"))
        if not isinstance(kind, str) or at is None:
            st.drifted()
            return []
        sid = rel.parts[1]
        if kind in KINDS:
            return [Activity(TOOL, sid, at, KINDS[kind])]
        if kind != "session.shutdown":
            return []
        metrics = dig(obj, "data", "modelMetrics")
        if not isinstance(metrics, Mapping):
            st.drifted()
            return []
        # assistant.message carries output only; the shutdown totals are the complete
        # figures, one event per compaction segment, each keyed by its own event id.
        event = text(obj.get("id")) or str(at)
        out: list[Observation] = []
        for model, m in metrics.items():
            u = m.get("usage", m) if isinstance(m, Mapping) else None
            if not isinstance(u, Mapping):
                st.drifted()
                continue
            cr, cw = num(u.get("cacheReadTokens")), num(u.get("cacheWriteTokens"))
            # inputTokens includes cache reads and writes.
            fresh = minus(minus(num(u.get("inputTokens")), cr), cw)
            tokens = Tokens(fresh, num(u.get("outputTokens")), cr, cw, None)
            out.append(Usage(TOOL, sid, at, text(model), tokens, f"{sid}:{event}:{model}"))
        return out
