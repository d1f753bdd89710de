"""GitHub Copilot CLI: session-state/<id>/events.jsonl; tokens from each call's
session.usage_record, and from session.shutdown's per-model totals for what no record covered;
outcomes (edits, the person's answers, shell runs, commits) from the tool and permission events."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from aitally.collectors.files.adapters.base import FileState, LineAdapter, dig, minus, num, text, ts
from aitally.collectors.files.outcomes import copilot_cli as outcomes
from aitally.core.observation import Activity, ActivityKind, Observation, Tokens, Usage

TOOL = "copilot-cli"
KINDS: dict[str, ActivityKind] = {
    "user.message": "prompt",
    "assistant.message": "reply",
    "tool.execution_complete": "tool",
}


class CopilotCli(LineAdapter):
    """Session events: prompts, replies, tool runs and their outcomes, and the per-model totals
    at shutdown."""

    tool = TOOL
    markers = (
        b'"user.message"',
        b'"assistant.message"',
        b'"tool.execution_complete"',
        b'"tool.execution_start"',
        b'"permission.completed"',
        b'"session.shutdown"',
        b'"session.usage_record"',
        b'"session.compaction_complete"',
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
        found: list[Observation] = []
        if kind in outcomes.EVENTS:
            found += outcomes.observe(TOOL, obj, sid, at, st)
            if kind not in KINDS:
                return found
        if kind in KINDS:
            source = dig(obj, "data", "source")
            if kind == "user.message" and source not in (None, "", "user"):
                # A subagent's instructions (`source: "agent-<id>"`): nobody typed them.
                return [Activity(TOOL, sid, at, "tool")]
            return [*found, Activity(TOOL, sid, at, KINDS[kind])]
        if kind == "session.usage_record":
            return self._record(obj, sid, at, st)
        if kind == "session.compaction_complete":
            return self._compaction(obj, sid, at, st)
        if kind != "session.shutdown":
            return []
        metrics = dig(obj, "data", "modelMetrics")
        if not isinstance(metrics, Mapping):
            st.drifted()
            return []
        # The totals are cumulative over the session, resumes included (`--resume` appends a
        # second shutdown to the same file): only what the calls' records and earlier
        # shutdowns have not counted yet is added, keyed by this event's id.
        event = text(obj.get("id")) or str(at)
        out: list[Observation] = []
        for model, m in metrics.items():
            u = m.get("usage", m) if isinstance(m, Mapping) else None
            if not isinstance(u, Mapping) or text(model) is None:
                st.drifted()
                continue
            extra = _count(st, model, _figures(u))
            if extra is not None:
                out.append(Usage(TOOL, sid, at, model, extra, f"{sid}:{event}:{model}"))
        return out

    @staticmethod
    def _record(obj: Mapping[str, Any], sid: str, at: float, st: FileState) -> list[Observation]:
        """One API call's usage, keyed by its call id: a running session shows live tokens."""
        u = dig(obj, "data", "usage")
        model = text(dig(u, "model"))
        call = text(dig(u, "apiCallId")) or text(obj.get("id"))
        if not isinstance(u, Mapping) or model is None or call is None:
            st.drifted()
            return []
        figures = _figures(u)
        _count(st, model, figures, add=True)
        tokens = Tokens(figures[0], figures[1], figures[2], figures[3], None)
        return [Usage(TOOL, sid, at, model, tokens, f"{sid}:call:{call}")]

    @staticmethod
    def _compaction(
        obj: Mapping[str, Any], sid: str, at: float, st: FileState
    ) -> list[Observation]:
        """The summary call of a compaction (`compactionTokensUsed`): no usage record and no
        shutdown total covers it, so it is counted on its own, keyed by the event's id."""
        u = dig(obj, "data", "compactionTokensUsed")
        if u is None:
            return []  # a compaction that failed or used no model
        model = text(dig(u, "model"))
        event = text(obj.get("id"))
        if not isinstance(u, Mapping) or model is None or event is None:
            st.drifted()
            return []
        f = _figures(u)
        tokens = Tokens(f[0], f[1], f[2], f[3], None)
        return [Usage(TOOL, sid, at, model, tokens, f"{sid}:compaction:{event}")]


def _figures(u: Mapping[str, Any]) -> list[int | None]:
    """[fresh input, output, cache read, cache write]; inputTokens includes both caches."""
    cr, cw = num(u.get("cacheReadTokens")), num(u.get("cacheWriteTokens"))
    return [minus(minus(num(u.get("inputTokens")), cr), cw), num(u.get("outputTokens")), cr, cw]


def _count(
    st: FileState, model: str, figures: list[int | None], *, add: bool = False
) -> Tokens | None:
    """Keeps the per-model figures counted so far in this file; with `add`, adds `figures` (a
    call); otherwise takes them as cumulative totals and returns what they add, if anything."""
    counted: dict[str, list[int]] = st.data.setdefault("counted", {})
    have = counted.get(model, [0, 0, 0, 0])
    if add:
        counted[model] = [h + (f or 0) for h, f in zip(have, figures, strict=True)]
        return None
    extra = [None if f is None else max(0, f - h) for f, h in zip(figures, have, strict=True)]
    counted[model] = [max(h, f or 0) for h, f in zip(have, figures, strict=True)]
    if not any(extra):
        return None
    return Tokens(extra[0], extra[1], extra[2], extra[3], None)
