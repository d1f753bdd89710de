"""Codex CLI: rollouts under sessions/ and archived_sessions/, tokens from cumulative totals."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from aitally.collectors.files.adapters.base import FileState, LineAdapter, dig, minus, num, text, ts
from aitally.collectors.files.outcomes import codex as outcomes
from aitally.core.observation import Activity, Observation, Tokens, Usage

TOOL = "codex"
# total_token_usage fields, in the order kept in the file state.
FIELDS = (
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "reasoning_output_tokens",
    "cache_write_input_tokens",
)
# A UserMessage item within this many seconds of a user_message event is the same prompt
# written twice by builds that persist both.
SAME_PROMPT = 2.0


class Codex(LineAdapter):
    """Rollout events: prompts, replies and cumulative token totals turned into deltas."""

    tool = TOOL
    markers = (
        b'"session_meta"',
        b'"token_usage_record"',
        b'"turn_context"',
        b'"token_count"',
        b'"user_message"',
        b'"item_completed"',
        b'"task_complete"',
        b'"apply_patch"',
        b'"turn_aborted"',
    )
    dirs = ("sessions", "archived_sessions")

    def matches(self, rel: PurePosixPath) -> bool:
        return (
            rel.parts[0] in ("sessions", "archived_sessions")
            and rel.name.startswith("rollout-")
            and rel.suffix == ".jsonl"
        )

    def line(self, obj: Mapping[str, Any], rel: PurePosixPath, st: FileState) -> list[Observation]:
        found = self._activity(obj, rel, st)
        kind, payload, at = obj.get("type"), obj.get("payload"), ts(obj.get("timestamp"))
        if isinstance(payload, Mapping) and at is not None:
            sid = st.data.get("sid") or rel.stem[-36:]
            if kind == "response_item":
                found += outcomes.proposal(TOOL, payload, sid, at, st)
            elif kind == "event_msg":
                found += outcomes.event(TOOL, payload, sid, at, st)
        return found

    def _activity(
        self, obj: Mapping[str, Any], rel: PurePosixPath, st: FileState
    ) -> list[Observation]:
        """Prompts, replies and token figures of one line."""
        kind, payload = obj.get("type"), obj.get("payload")
        if not isinstance(payload, Mapping):
            return []
        data = st.data
        if kind == "session_meta":
            # The first session_meta is canonical; forks repeat their parent's later on.
            if "sid" not in data:
                data["sid"] = text(payload.get("id")) or rel.stem[-36:]
                data["ver"] = text(payload.get("cli_version"), 40)
                # Not `source`: it says "vscode" in a terminal too. A linked process's
                # observed surface wins over this anyway (core/sessionizer.py).
                ide = payload.get("originator") == "codex_vscode"
                data["surface"] = "ide-extension" if ide else "cli"
                data["fork"] = bool(text(payload.get("forked_from_id")))
            return []
        if kind == "token_usage_record":
            return self._record(obj, payload, rel, st)
        if kind == "turn_context":
            data["model"] = text(payload.get("model")) or data.get("model")
            return []
        if kind != "event_msg":
            return []
        at = ts(obj.get("timestamp"))
        if at is None:
            st.drifted()
            return []
        sid = data.get("sid") or rel.stem[-36:]
        surface, version = data.get("surface"), data.get("ver")
        event = payload.get("type")
        if event == "token_count":
            return self._tokens(payload, at, sid, st)
        if event == "user_message" and not data.get("items"):
            data["prompt_at"] = at
            return [Activity(TOOL, sid, at, "prompt", "transcript", surface, version)]
        if event == "item_completed":
            item = dig(payload, "item", "type")
            if item == "UserMessage":
                first = not data.get("items")
                data["items"] = True
                if first and abs(at - float(data.get("prompt_at") or 0)) < SAME_PROMPT:
                    return []
                return [Activity(TOOL, sid, at, "prompt", "transcript", surface, version)]
            return [Activity(TOOL, sid, at, "reply", "transcript", surface, version)]
        if event == "task_complete":
            return [Activity(TOOL, sid, at, "reply", "transcript", surface, version)]
        return []

    @staticmethod
    def _record(
        obj: Mapping[str, Any], payload: Mapping[str, Any], rel: PurePosixPath, st: FileState
    ) -> list[Observation]:
        """One reply's usage (`token_usage_record`, keyed by its response id): preferred to
        the cumulative totals, which a fork starts from its parent's total."""
        at, usage = ts(obj.get("timestamp")), payload.get("usage")
        rid = text(payload.get("response_id"))
        if at is None or not isinstance(usage, Mapping) or rid is None:
            st.drifted()
            return []
        st.data["records"] = True
        d_in, d_cached, d_out, d_reason, d_write = (num(usage.get(f)) for f in FIELDS)
        tokens = Tokens(minus(d_in, d_cached), minus(d_out, d_reason), d_cached, d_write, d_reason)
        sid = st.data.get("sid") or rel.stem[-36:]
        surface, version = st.data.get("surface"), st.data.get("ver")
        model = st.data.get("model")
        return [Usage(TOOL, sid, at, model, tokens, f"resp:{rid}", "transcript", surface, version)]

    @staticmethod
    def _tokens(
        payload: Mapping[str, Any], at: float, sid: str, st: FileState
    ) -> list[Observation]:
        total = dig(payload, "info", "total_token_usage")
        if not isinstance(total, Mapping):
            return []  # info is null on rate-limit-only refreshes
        cum = [num(total.get(f)) for f in FIELDS]
        if cum[0] is None and cum[2] is None:
            st.drifted()
            return []
        prev: list[int | None] = st.data.get("cum") or [None] * len(FIELDS)
        if cum == prev:
            return []  # a re-emit of unchanged totals
        if st.data.get("records"):
            st.data["cum"] = cum
            return []  # this file's replies come one by one in token_usage_record
        last = dig(payload, "info", "last_token_usage")
        if st.data.get("fork") and "cum" not in st.data and isinstance(last, Mapping):
            # A fork's totals start from its parent's total: its first reply is the last one.
            prev = [minus(c, num(last.get(f))) for c, f in zip(cum, FIELDS, strict=True)]
        reset = any(
            c is not None and p is not None and c < p for c, p in zip(cum, prev, strict=True)
        )
        delta = [
            None if c is None else c - (0 if reset or p is None else p)
            for c, p in zip(cum, prev, strict=True)
        ]
        st.data["cum"] = cum
        d_in, d_cached, d_out, d_reason, d_write = delta
        # input_tokens includes cached input and output_tokens includes reasoning: split them
        # so the five kinds are disjoint and add up to total_tokens.
        tokens = Tokens(minus(d_in, d_cached), minus(d_out, d_reason), d_cached, d_write, d_reason)
        model = (
            st.data.get("model")
            or text(dig(payload, "info", "model"))
            or text(payload.get("model"))
        )
        key = f"{sid}:" + ",".join(str(c) for c in cum)
        surface, version = st.data.get("surface"), st.data.get("ver")
        return [Usage(TOOL, sid, at, model, tokens, key, "transcript", surface, version)]
