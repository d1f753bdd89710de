"""Claude Code: projects/**/*.jsonl transcripts (subagents too) and sessions/<pid>.json links."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, TypedDict, cast

import msgspec

from aitally.collectors.files.adapters.base import FileState, LineAdapter, dig, num, text, ts
from aitally.collectors.files.lines import open_regular
from aitally.collectors.files.outcomes import claude_code as outcomes
from aitally.core.observation import (
    Activity,
    ActivityKind,
    Observation,
    ProcessLink,
    Tokens,
    Usage,
)

TOOL = "claude-code"
# entrypoint (transcript line, sessions/<pid>.json) -> surface
SURFACES = {
    "cli": "cli",
    "sdk-cli": "cli",
    "sdk-ts": "cli",
    "sdk-py": "cli",
    "claude-vscode": "ide-extension",
    "claude-desktop": "desktop-app",
}
# How many recent replies per file keep their figures, to merge later copies of a reply whose
# first line carried streaming placeholder counts (the larger figure is the final one).
RECENT = 32
REGISTRY_MAX_BYTES = 64 * 1024
# A slash command and its output are written as user lines that start with these tags; only
# the start is compared, nothing of the line is kept.
COMMAND_TAGS = (
    "<command-name>",
    "<command-message>",
    "<command-args>",
    "<local-command-stdout>",
    "<local-command-stderr>",
    "<local-command-caveat>",
)


# The partial decode: typed dicts of only the fields the adapter reads, so that msgspec skips
# every other field unread and gives plain dicts at once (decoding into Structs and converting
# them to dicts cost about as much again, bench/README.md, File collectors).


class _CallInput(TypedDict, total=False):
    """A tool call's input: a shell command only (searched in memory for an AI commit trailer);
    file contents and edit strings are skipped."""

    command: Any


class _Block(TypedDict, total=False):
    """A content block: its type and a tool call's ids, name, command and error flag (a tool
    result's text and a reply's text are skipped)."""

    type: Any
    id: Any
    name: Any
    input: _CallInput
    tool_use_id: Any
    is_error: Any


class _ToolResult(TypedDict, total=False):
    """The `toolUseResult` fields read: what outcomes need (outputs and file contents but a
    new file's are skipped) and a subagent's id, model and last reply's usage."""

    type: Any
    structuredPatch: Any
    userModified: Any
    content: Any
    gitOperation: Any
    agentId: Any  # camelCase: the transcript's own keys; a subagent's id
    resolvedModel: Any
    usage: Any  # a subagent's last reply's usage


class _Message(TypedDict, total=False):
    """The message fields `ClaudeCode.line` reads."""

    content: str | list[_Block] | None
    model: Any
    id: Any
    usage: Any


class _Line(TypedDict, total=False):
    """The transcript line fields `ClaudeCode.line` reads; every other field is skipped
    unread, which is what makes a 40 KB tool result cheap (bench/README.md has the figures)."""

    type: Any
    timestamp: Any
    sessionId: Any  # camelCase: the transcript's own keys
    version: Any
    entrypoint: Any
    isMeta: Any
    isSidechain: Any
    isCompactSummary: Any
    requestId: Any
    promptId: Any
    message: _Message | None
    toolUseResult: str | _ToolResult | list[Any] | None
    toolDenialKind: Any


_decoder = msgspec.json.Decoder(_Line)


def _tokens(usage: Mapping[str, Any]) -> list[int | None]:
    write = num(usage.get("cache_creation_input_tokens"))
    if write is None:
        parts = [num(v) for v in (dig(usage, "cache_creation") or {}).values()]
        write = (
            sum(p for p in parts if p is not None) if any(p is not None for p in parts) else None
        )
    return [
        num(usage.get("input_tokens")),
        num(usage.get("output_tokens")),
        num(usage.get("cache_read_input_tokens")),
        write,
    ]


def _delta(new: list[int | None], old: list[int | None]) -> list[int | None] | None:
    """What a later copy of the same reply adds (the larger figure wins), or None."""
    out: list[int | None] = []
    grew = False
    for n, o in zip(new, old, strict=True):
        if n is not None and n > (o or 0):
            out.append(n - (o or 0))
            grew = True
        else:
            out.append(None if n is None and o is None else 0)
    return out if grew else None


class ClaudeCode(LineAdapter):
    """Transcript lines: prompts, tool results and replies with their usage."""

    tool = TOOL
    # Only person/tool-result lines and replies with usage are decoded; attachments,
    # snapshots and summaries are skipped on these bytes alone.
    # queue-operation lines are read for their time alone: the start of the file's own history.
    markers = (b'"user"', b'"usage"', b'"queue-operation"')
    dirs = ("projects",)

    def decode(self, raw: bytes) -> dict[str, Any] | None:
        """The read fields only, as `json.loads` would give them (absent ones absent); None for
        a line of another shape (the reader then decodes it whole and counts what is wrong)."""
        try:
            if not raw.isascii():
                # msgspec does not check UTF-8 in the fields it skips; json.loads refuses
                # such a line, and the reader counts it (invalid_utf8).
                raw.decode()
            picked = _decoder.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            return None
        return cast(dict[str, Any], picked)  # a TypedDict is a plain dict at run time

    def matches(self, rel: PurePosixPath) -> bool:
        parts = rel.parts
        return (
            len(parts) >= 3
            and parts[0] == "projects"
            and rel.suffix == ".jsonl"
            and "tool-results" not in parts
        )

    @staticmethod
    def _session(obj: Mapping[str, Any], rel: PurePosixPath) -> str:
        # projects/<p>/<s>/subagents/<x>.jsonl and projects/<p>/<s>/<x>.jsonl belong to <s>.
        if len(rel.parts) >= 4:
            return rel.parts[2]
        return text(obj.get("sessionId")) or rel.stem

    def line(self, obj: Mapping[str, Any], rel: PurePosixPath, st: FileState) -> list[Observation]:
        kind = obj.get("type")
        if kind != "user" and kind != "assistant":
            if kind == "queue-operation":
                # A one-shot (or forked) run's file opens with the prompt's enqueue: the start
                # of the file's own history. A file that opens otherwise has no such boundary.
                at = ts(obj.get("timestamp"))
                if at is None:
                    st.drifted()
                else:
                    st.data.setdefault("start", at)
            return []
        # The time and the session once per line: both the figures and the outcomes use them.
        at = ts(obj.get("timestamp"))
        if at is None:
            st.drifted()
            return []
        session = self._session(obj, rel)
        start = st.data.setdefault("start", None)
        if start is not None and at < start:
            # `--fork-session` copies the parent's history (same message and request ids,
            # same times, the new session id) after the fork's opening enqueue: those prompts
            # were typed, and those replies billed, in the parent, which counts them whatever
            # order the two files are read in.
            found: list[Observation] = []
        else:
            found = self._figures(obj, kind, at, session, rel, st)
        found += outcomes.observe(TOOL, obj, session, at, st)
        return found

    def _figures(
        self,
        obj: Mapping[str, Any],
        kind: str,
        at: float,
        session: str,
        rel: PurePosixPath,
        st: FileState,
    ) -> list[Observation]:
        """Activity and token usage of one person's or assistant's line."""
        version = text(obj.get("version"), 40)
        entrypoint = obj.get("entrypoint")
        surface = SURFACES.get(entrypoint) if type(entrypoint) is str else None
        if kind == "user":
            # Most user lines carry no subagent's result: no call for them.
            done = (
                _subagent_done(obj, session, at, surface, version)
                if isinstance(obj.get("toolUseResult"), (dict, Mapping))
                else []
            )
            user_kind = self._user_kind(obj)
            prompt_id = text(obj.get("promptId"))
            if user_kind == "prompt" and prompt_id is not None:
                # Lines the client adds to a prompt (`[Request interrupted by user for tool
                # use]` after a refused tool call) carry that prompt's id: one turn.
                if prompt_id == st.data.get("prompt"):
                    user_kind = "tool"
                st.data["prompt"] = prompt_id
            return [Activity(TOOL, session, at, user_kind, "transcript", surface, version), *done]
        msg = obj.get("message")
        if not isinstance(msg, (dict, Mapping)):
            msg = {}
        usage = msg.get("usage")
        model = text(msg.get("model"))
        if not isinstance(usage, (dict, Mapping)) or model == "<synthetic>":
            return [Activity(TOOL, session, at, "reply", "transcript", surface, version)]
        figures = _tokens(usage)
        if all(v is None for v in figures):
            st.drifted()
            return [Activity(TOOL, session, at, "reply", "transcript", surface, version)]
        mid, rid = text(msg.get("id")), text(obj.get("requestId"))
        agent = _agent_of(rel)
        if agent is not None:
            # A subagent's last reply is written with its streaming placeholder figures
            # only; the complete ones come in the parent's tool result (`_subagent_done`).
            tokens = Tokens(figures[0], figures[1], figures[2], figures[3], None)
            merged = _agent_key(agent, figures)
            return [
                Usage(
                    TOOL,
                    session,
                    at,
                    model,
                    tokens,
                    merged,
                    "transcript",
                    surface,
                    version,
                    rid,
                    True,
                )
            ]
        key = f"{mid}:{rid}" if mid and rid else mid
        if key is not None:
            recent: dict[str, list[int | None]] = st.data.setdefault("recent", {})
            if key in recent:
                extra = _delta(figures, recent[key])
                if extra is None:
                    return []
                recent[key] = [
                    max(a, b) if a is not None and b is not None else (a if b is None else b)
                    for a, b in zip(figures, recent[key], strict=True)
                ]
                figures, key = extra, f"{key}+{sum(v or 0 for v in recent[key])}"
            else:
                recent[key] = figures
                while len(recent) > RECENT:
                    del recent[next(iter(recent))]
        tokens = Tokens(figures[0], figures[1], figures[2], figures[3], None)
        # The request id is the call's identity shared with Claude Code's telemetry
        # (`request_id` of claude_code.api_request, collectors/otlp/allowlist.py).
        return [Usage(TOOL, session, at, model, tokens, key, "transcript", surface, version, rid)]

    @staticmethod
    def _user_kind(obj: Mapping[str, Any]) -> ActivityKind:
        """A person's prompt is a turn; tool results, meta lines and summaries are not."""
        if obj.get("isMeta") or obj.get("isSidechain") or obj.get("isCompactSummary"):
            return "tool"
        content = dig(obj, "message", "content")
        if isinstance(content, str):
            return "tool" if content.lstrip().startswith(COMMAND_TAGS) else "prompt"
        if isinstance(content, list):
            types = {b.get("type") for b in content if isinstance(b, Mapping)}
            if "tool_result" in types:
                return "tool"
            return "prompt" if types else "tool"
        return "tool"


def _agent_of(rel: PurePosixPath) -> str | None:
    """The subagent id of projects/<p>/<s>/subagents/agent-<id>.jsonl; None for other files."""
    if len(rel.parts) >= 5 and rel.parts[-2] == "subagents" and rel.stem.startswith("agent-"):
        return rel.stem[len("agent-") :] or None
    return None


def _agent_key(agent: str, figures: list[int | None]) -> str:
    """A subagent reply's key, known both in its own file and in the parent's tool result:
    the agent and the reply's input figures (final from the first streamed line on)."""
    return f"agent:{agent}:{figures[0]}:{figures[2]}:{figures[3]}"


def _subagent_done(
    obj: Mapping[str, Any], session: str, at: float, surface: str | None, version: str | None
) -> list[Observation]:
    """The subagent's last reply, complete, from the tool result that ends it."""
    result = obj.get("toolUseResult")
    if not isinstance(result, (dict, Mapping)):
        return []  # most lines: a prompt, a rejection's text
    agent = text(result.get("agentId"))
    usage = result.get("usage")
    if agent is None or not isinstance(usage, Mapping):
        return []
    figures = _tokens(usage)
    if figures[0] is None:
        return []
    tokens = Tokens(figures[0], figures[1], figures[2], figures[3], None)
    key = _agent_key(agent, figures)
    model = text(result.get("resolvedModel"))
    return [
        Usage(TOOL, session, at, model, tokens, key, "transcript", surface, version, None, True)
    ]


def live_links(root: Path, now: float) -> list[ProcessLink]:
    """sessions/<pid>.json names the live process's session id (the title in it is not read out)."""
    folder = root / "sessions"
    links: list[ProcessLink] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return links
    for entry in entries:
        if not entry.name.endswith(".json") or not entry.name[:-5].isdigit():
            continue
        try:
            if entry.stat().st_size > REGISTRY_MAX_BYTES:
                continue
            # Never a blocking open: a FIFO named like this would hang the agent for good.
            with open_regular(Path(entry.path)) as fh:
                data = json.loads(fh.read(REGISTRY_MAX_BYTES + 1))
        except (OSError, ValueError, RecursionError):
            continue
        pid, sid = dig(data, "pid"), text(dig(data, "sessionId"))
        if isinstance(pid, int) and not isinstance(pid, bool) and sid:
            links.append(ProcessLink(TOOL, pid, sid, now))
    return links
