"""Gemini CLI: chats/*.jsonl (the last record per message id wins) and the older whole-file JSON."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from aitally.collectors.files.adapters.base import (
    FileState,
    LineAdapter,
    SnapshotAdapter,
    minus,
    num,
    text,
    ts,
)
from aitally.collectors.files.outcomes import gemini_cli as outcomes
from aitally.core.observation import Activity, Observation, Tokens, Usage

TOOL = "gemini-cli"
# Messages per file whose figures are kept to diff a re-appended record against.
RECENT = 256


def _session(rel: PurePosixPath, st: FileState) -> str:
    # chats/<parentSessionId>/<sessionId>.jsonl: subagent work belongs to the parent session.
    if len(rel.parts) >= 2 and rel.parts[-2] != "chats":
        return rel.parts[-2]
    return str(st.data.get("sid") or rel.stem)


# A `user` record opening with this is the context the client sets up (it writes it again when
# it rebuilds the history, after a refused tool call): only the start is compared.
CONTEXT_TAG = "<session_context>"


def _not_typed(msg: Mapping[str, Any]) -> bool:
    """Whether a `type: "user"` record is something nobody typed: a tool's result (a
    `functionResponse` part; only the parts' keys are read) or the session's context."""
    parts = msg.get("content")
    if not isinstance(parts, list):
        return False
    first = parts[0] if parts else None
    opening = first.get("text") if isinstance(first, Mapping) else None
    return (isinstance(opening, str) and opening.lstrip().startswith(CONTEXT_TAG)) or any(
        isinstance(p, Mapping) and "functionResponse" in p for p in parts
    )


def message(msg: Mapping[str, Any], rel: PurePosixPath, st: FileState) -> list[Observation]:
    """One message record: its activity, figures and the outcomes of its ended tool calls."""
    found = _figures(msg, rel, st)
    at = ts(msg.get("timestamp"))
    if at is not None and msg.get("type") == "gemini":
        found += outcomes.tool_calls(TOOL, msg, _session(rel, st), at, st)
    return found


def _figures(msg: Mapping[str, Any], rel: PurePosixPath, st: FileState) -> list[Observation]:
    """A record re-appended with new figures adds only the difference."""
    at = ts(msg.get("timestamp"))
    mid = text(msg.get("id"))
    kind = msg.get("type")
    if at is None or mid is None:
        st.drifted()
        return []
    sid = _session(rel, st)
    if kind == "user":
        prompts: list[str] = st.data.setdefault("prompts", [])
        if mid in prompts:
            return []
        prompts.append(mid)
        del prompts[:-RECENT]
        return [Activity(TOOL, sid, at, "tool" if _not_typed(msg) else "prompt")]
    tokens = msg.get("tokens")
    if kind != "gemini" or not isinstance(tokens, Mapping):
        return [Activity(TOOL, sid, at, "reply")] if kind == "gemini" else []
    cached = num(tokens.get("cached"))
    tool_in = num(tokens.get("tool")) or 0
    fresh = minus(num(tokens.get("input")), cached)
    now = [
        None if fresh is None else fresh + tool_in,
        num(tokens.get("output")),
        cached,
        num(tokens.get("thoughts")),
    ]
    seen: dict[str, list[int | None]] = st.data.setdefault("msgs", {})
    old = seen.get(mid, [None] * 4)
    delta = [None if n is None else max(0, n - (o or 0)) for n, o in zip(now, old, strict=True)]
    seen[mid] = [n if n is not None else o for n, o in zip(now, old, strict=True)]
    while len(seen) > RECENT:
        del seen[next(iter(seen))]
    if not any(delta):
        return []
    key = f"{sid}:{mid}:" + ",".join(str(v or 0) for v in seen[mid])
    figures = Tokens(delta[0], delta[1], delta[2], None, delta[3])
    return [Usage(TOOL, sid, at, text(msg.get("model")), figures, key)]


class GeminiJsonl(LineAdapter):
    """Chat records, one per line; a message re-appended with new figures adds the difference."""

    tool = TOOL
    markers = (b'"tokens"', b'"user"', b'"sessionId"', b'"toolCalls"')
    dirs = ("tmp",)

    def matches(self, rel: PurePosixPath) -> bool:
        return rel.parts[0] == "tmp" and "chats" in rel.parts and rel.suffix == ".jsonl"

    def line(self, obj: Mapping[str, Any], rel: PurePosixPath, st: FileState) -> list[Observation]:
        if "$set" in obj or "$rewindTo" in obj:
            return []  # rewound replies were still paid for: their usage stays counted
        if "sessionId" in obj and "type" not in obj:
            st.data["sid"] = text(obj.get("sessionId")) or st.data.get("sid")
            return []
        return message(obj, rel, st)


class GeminiJson(SnapshotAdapter):
    """Builds before April 2026 rewrote one ConversationRecord JSON per session."""

    tool = TOOL
    dirs = ("tmp",)

    def matches(self, rel: PurePosixPath) -> bool:
        return (
            rel.parts[0] == "tmp"
            and len(rel.parts) >= 2
            and rel.parts[-2] == "chats"
            and rel.name.startswith("session-")
            and rel.suffix == ".json"
        )

    def snapshot(self, obj: Any, rel: PurePosixPath, st: FileState) -> list[Observation]:
        if not isinstance(obj, Mapping) or not isinstance(obj.get("messages"), list):
            st.drifted()
            return []
        st.data["sid"] = text(obj.get("sessionId")) or st.data.get("sid")
        out: list[Observation] = []
        for msg in obj["messages"]:
            if isinstance(msg, Mapping):
                out += message(msg, rel, st)
        return out
