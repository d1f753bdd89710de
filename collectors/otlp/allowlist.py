"""From OTLP export requests, only what usage needs: an allowlist, never a blocklist.

Each function below reads named attributes and nothing else, so a prompt, a tool input, a
file path, an email or any attribute a tool adds tomorrow is never copied out: it is simply
not read. What comes out are the observations of core/observation.py with signal `otlp`.

What maps (checked against a real Claude Code 2.1.197 export, tests/fixtures/otlp/):
- Claude Code's `claude_code.api_request` log events become `Usage`: `model`,
  `input_tokens`, `output_tokens`, `cache_read_tokens`, `cache_creation_tokens`, the session
  (`session.id`) and the call's `request_id`, which is also the transcript's `requestId`
  (collectors/files/adapters/claude_code.py), so a call in both is counted once. An event
  without `request_id` (older versions) cannot be told apart from its transcript line and is
  dropped (counted `otlp_dropped/no_request_id`): doubling is worse than missing.
- Its `tool_decision`/`tool_result` events become `Activity` (kind "tool", no turn).
- Gemini CLI's `gemini_cli.api_response` events (checked against a real Gemini CLI 0.61.0
  export, tests/fixtures/otlp/gemini-cli/) carry no id its chat file also records, but a `role`:
  `main` calls are the chat's own replies (already counted from the chat file), while the
  `utility_*` calls (router, compressor, summarizer, next-speaker check, ...) are in no file.
  Only those become `Usage` (input = `input_token_count` - `cached_content_token_count`,
  cache read = cached, output, reasoning = `thoughts_token_count`), keyed by the record's time,
  role and counts so a batch sent again is not counted twice; `main`/`subagent` calls are
  dropped (`otlp_dropped/in_transcript`).
- Codex's events (checked against a real Codex 0.171.0 export, tests/fixtures/otlp/codex/) carry
  no id its rollout also records, only the `conversation.id` (the rollout's session id) and an
  `originator`. From the TUI's (`codex-tui`) the conversation and time of each
  `codex.user_prompt` (a turn starts) and each `codex.sse_event` `response.completed` with its
  token counts (a billed call) are kept; collectors/otlp/codex_title_calls.py counts the calls
  of conversations that have no rollout (the thread-title calls) in the thread they serve.
  `codex exec` records every call in its rollout, so its events are dropped (`in_transcript`).
- Everything else (other services' events, all metrics and spans) is counted, not mapped:
  Copilot CLI's spans restate its session file, and Claude Code's `token.usage` metric
  restates the events.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from aitally.core.observation import Activity, Observation, Tokens, Usage

# service.name -> aitally tool id (core/tools.py); any other service is dropped.
SERVICES: Final = {
    "claude-code": "claude-code",
    "gemini-cli": "gemini-cli",
    # Codex's TUI (its app server), its CLI core and `codex exec`.
    "codex-app-server": "codex",
    "codex_cli_rs": "codex",
    "codex_exec": "codex",
}
# Gemini CLI's LlmRole values whose calls its chat file does not record.
GEMINI_UNRECORDED_ROLE_PREFIX: Final = "utility_"
# The originator of Codex's TUI; only it makes calls its rollouts do not record.
CODEX_TUI: Final = "codex-tui"
# A Codex conversation id is a UUID; nothing else is ever used to look for its rollout.
CODEX_CONVERSATION: Final = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
ID_LIMIT: Final = 200
VERSION_LIMIT: Final = 40


@dataclass(slots=True)
class CodexFacts:
    """What Codex's TUI telemetry says about turns and calls, before attribution: per turn its
    conversation and start, per call a `Usage` whose session is its own conversation."""

    turns: list[tuple[str, float]] = field(default_factory=list)
    calls: list[Usage] = field(default_factory=list)


@dataclass(slots=True)
class Reduced:
    """The observations kept from one request and counts of what was not."""

    observations: list[Observation] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    records: int = 0
    codex: CodexFacts = field(default_factory=CodexFacts)

    def drop(self, reason: str) -> None:
        self.dropped[reason] = self.dropped.get(reason, 0) + 1


def _items(obj: Any, key: str) -> Iterator[Mapping[str, Any]]:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    if isinstance(value, list):
        yield from (v for v in value if isinstance(v, Mapping))


def _attr(attrs: Any, key: str) -> Any:
    """The scalar value of one named attribute, or None; other attributes are never read."""
    if not isinstance(attrs, list):
        return None
    for kv in attrs:
        if isinstance(kv, Mapping) and kv.get("key") == key:
            value = kv.get("value")
            if not isinstance(value, Mapping):
                return None
            for kind in ("stringValue", "intValue", "doubleValue", "boolValue"):
                if kind in value:
                    return value[kind]
            return None
    return None


def _id(value: Any, limit: int = ID_LIMIT) -> str | None:
    """An id, model name or version: a short string without spaces, or None."""
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        return None
    return value if value.isprintable() and " " not in value else None


def _count(value: Any) -> int | None:
    """A token count: OTLP/JSON int64 may be a number or a decimal string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, int | float) and value >= 0:
        return int(value)
    return None


def _time(record: Mapping[str, Any]) -> float:
    for key in ("timeUnixNano", "observedTimeUnixNano"):
        nanos = _count(record.get(key))
        if nanos:
            return nanos / 1e9
    return time.time()


def _event(record: Mapping[str, Any]) -> str | None:
    """The event's name: the body (`claude_code.api_request`) or the `event.name` attribute
    (`api_request`, without the prefix, in Claude Code 2.1)."""
    body = record.get("body")
    name = _id(body.get("stringValue")) if isinstance(body, Mapping) else None
    if name and "." in name:
        return name.rsplit(".", 1)[1]
    return _id(_attr(record.get("attributes"), "event.name"))


def _claude_code(record: Mapping[str, Any], version: str | None, out: Reduced) -> None:
    attrs = record.get("attributes")
    event = _event(record)
    session = _id(_attr(attrs, "session.id"))
    if session is None:
        out.drop("no_session")
        return
    at = _time(record)
    if event == "api_request":
        request = _id(_attr(attrs, "request_id"))
        if request is None:
            out.drop("no_request_id")
            return
        tokens = Tokens(
            _count(_attr(attrs, "input_tokens")),
            _count(_attr(attrs, "output_tokens")),
            _count(_attr(attrs, "cache_read_tokens")),
            _count(_attr(attrs, "cache_creation_tokens")),
            None,
        )
        model = _id(_attr(attrs, "model"))
        out.observations.append(
            Usage(
                "claude-code",
                session,
                at,
                model,
                tokens,
                f"otlp:{request}",
                "otlp",
                None,
                version,
                request,
            )
        )
    elif event in ("tool_decision", "tool_result"):
        out.observations.append(Activity("claude-code", session, at, "tool", "otlp", None, version))
    else:
        out.drop("event_not_mapped")


def _gemini_cli(record: Mapping[str, Any], out: Reduced) -> None:
    attrs = record.get("attributes")
    if _event(record) != "gemini_cli.api_response":
        out.drop("event_not_mapped")
        return
    session = _id(_attr(attrs, "session.id"))
    if session is None:
        out.drop("no_session")
        return
    role = _id(_attr(attrs, "role")) or ""
    if not role.startswith(GEMINI_UNRECORDED_ROLE_PREFIX):
        out.drop("in_transcript")
        return
    prompt = _count(_attr(attrs, "input_token_count"))
    cached = _count(_attr(attrs, "cached_content_token_count"))
    fresh = None if prompt is None else max(prompt - (cached or 0), 0)
    output = _count(_attr(attrs, "output_token_count"))
    thoughts = _count(_attr(attrs, "thoughts_token_count"))
    at = _time(record)
    key = f"otlp:gemini:{session}:{record.get('timeUnixNano')}:{role}:{prompt}:{output}"
    tokens = Tokens(fresh, output, cached, None, thoughts)
    model = _id(_attr(attrs, "model"))
    out.observations.append(
        Usage("gemini-cli", session, at, model, tokens, key, "otlp", None, None, None)
    )


def _codex(record: Mapping[str, Any], version: str | None, out: Reduced) -> None:
    attrs = record.get("attributes")
    event = _attr(attrs, "event.name")
    if event not in ("codex.user_prompt", "codex.sse_event"):
        out.drop("event_not_mapped")
        return
    if _attr(attrs, "originator") != CODEX_TUI:
        out.drop("in_transcript")  # `codex exec` records every call in its rollout
        return
    conversation = _id(_attr(attrs, "conversation.id"))
    if conversation is None or not CODEX_CONVERSATION.fullmatch(conversation):
        out.drop("no_session")
        return
    at = _time(record)
    if event == "codex.user_prompt":
        out.codex.turns.append((conversation, at))
        return
    prompt = _count(_attr(attrs, "input_token_count"))
    if _attr(attrs, "event.kind") != "response.completed" or prompt is None:
        out.drop("event_not_mapped")  # the stream's other events carry no tokens
        return
    cached = _count(_attr(attrs, "cached_token_count"))
    output = _count(_attr(attrs, "output_token_count"))
    reasoning = _count(_attr(attrs, "reasoning_token_count"))
    tokens = Tokens(
        max(prompt - (cached or 0), 0),  # input includes the cached input, as in the rollout
        None if output is None else max(output - (reasoning or 0), 0),
        cached,
        _count(_attr(attrs, "cache_write_token_count")),
        reasoning,
    )
    stamp = record.get("observedTimeUnixNano") or record.get("timeUnixNano")
    key = f"otlp:codex:{conversation}:{stamp}:{prompt}:{output}"
    model = _id(_attr(attrs, "model"))
    out.codex.calls.append(
        Usage("codex", conversation, at, model, tokens, key, "otlp", None, version, None)
    )


def reduce_logs(request: Mapping[str, Any]) -> Reduced:
    """The usage in an ExportLogsServiceRequest (OTLP/JSON shape, collectors/otlp/decode.py)."""
    out = Reduced()
    for resource_logs in _items(request, "resourceLogs"):
        resource = resource_logs.get("resource")
        rattrs = resource.get("attributes") if isinstance(resource, Mapping) else None
        tool = SERVICES.get(str(_attr(rattrs, "service.name")))
        version = _id(_attr(rattrs, "service.version"), VERSION_LIMIT)
        for scope_logs in _items(resource_logs, "scopeLogs"):
            for record in _items(scope_logs, "logRecords"):
                out.records += 1
                if tool == "claude-code":
                    _claude_code(record, version, out)
                elif tool == "gemini-cli":
                    _gemini_cli(record, out)  # its service.version is Node's, not its own
                elif tool == "codex":
                    _codex(record, version, out)
                else:
                    out.drop("service_not_mapped")
    return out


def count_records(request: Mapping[str, Any], signal: str) -> Reduced:
    """Metrics and spans are counted, never mapped (see the module's docstring)."""
    out = Reduced()
    outer, inner, leaf = {
        "metrics": ("resourceMetrics", "scopeMetrics", "metrics"),
        "traces": ("resourceSpans", "scopeSpans", "spans"),
    }[signal]
    for resource in _items(request, outer):
        for scope in _items(resource, inner):
            for _ in _items(scope, leaf):
                out.records += 1
                out.drop(f"{signal}_not_mapped")
    return out
