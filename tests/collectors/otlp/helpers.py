"""The recorded Claude Code export and transcript (tests/fixtures/otlp/), shifted to now, and
OTLP requests built with opentelemetry-proto, with canary markers where content would be."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import time
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from aitally.collectors.otlp.receiver import OtlpCollector

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "otlp"
RECORDED_AT = 1796232384.0  # the recording's clock (tests/fixtures/otlp/*, 2026-12-02)
SESSION = "3af38aaa-7a49-4c9c-8f27-ce24801da342"
CANARY = "CANARY_7f3a"


def _shift_iso(text: str, delta: float) -> str:
    import datetime as dt

    def repl(m: re.Match[str]) -> str:
        d = dt.datetime.fromisoformat(m.group(0).replace("Z", "+00:00"))
        return (d + dt.timedelta(seconds=delta)).isoformat().replace("+00:00", "Z")

    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", repl, text)


def recorded_logs(now: float | None = None) -> bytes:
    """Claude Code 2.1.197's real /v1/logs body, its times moved to about `now`."""
    delta = (now or time.time()) - RECORDED_AT
    text = (FIXTURES / "claude_code_2.1.197_logs.json").read_text()
    text = re.sub(r'"(\d{19})"', lambda m: f'"{int(int(m.group(1)) + delta * 1e9)}"', text)
    return _shift_iso(text, delta).encode()


def recorded_transcript(now: float | None = None) -> str:
    delta = (now or time.time()) - RECORDED_AT
    return _shift_iso((FIXTURES / "claude_code_2.1.197_transcript.jsonl").read_text(), delta)


def _kv(key: str, value: str | int) -> KeyValue:
    v = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=value)
    return KeyValue(key=key, value=v)


def protobuf_logs(request_id: str, session: str = SESSION, *, tokens: int = 100) -> bytes:
    """An api_request event as Claude Code would send it in protobuf, with canaries planted
    in a prompt, a tool input, a file path, an email and resource attributes."""
    req = ExportLogsServiceRequest()
    rl = req.resource_logs.add()
    rl.resource.attributes.extend(
        [
            _kv("service.name", "claude-code"),
            _kv("service.version", "2.1.197"),
            _kv("host.name", f"{CANARY}-host"),
            _kv("user.email", f"{CANARY}@example.com"),
        ]
    )
    record = rl.scope_logs.add().log_records.add()
    record.time_unix_nano = int(time.time() * 1e9)
    record.body.string_value = "claude_code.api_request"
    record.attributes.extend(
        [
            _kv("session.id", session),
            _kv("event.name", "api_request"),
            _kv("model", "claude-test-model"),
            _kv("input_tokens", tokens),
            _kv("output_tokens", 7),
            _kv("cache_read_tokens", 3),
            _kv("cache_creation_tokens", 2),
            _kv("request_id", request_id),
            _kv("prompt", f"{CANARY} prompt text"),
            _kv("tool_parameters", json.dumps({"bash_command": f"cat /{CANARY}/file"})),
            _kv("file_path", f"/home/{CANARY}/secret.py"),
            _kv("user.email", f"{CANARY}@example.com"),
        ]
    )
    prompt = rl.scope_logs[0].log_records.add()
    prompt.body.string_value = "claude_code.user_prompt"
    prompt.attributes.extend([_kv("session.id", session), _kv("prompt", CANARY)])
    return req.SerializeToString()


def post(
    port: int,
    path: str,
    body: bytes,
    *,
    token: str | None,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
    gzipped: bool = False,
) -> tuple[int, dict[str, str], bytes]:
    """One real HTTP POST to the receiver; (status, headers, body)."""
    h = {"Content-Type": content_type, **(headers or {})}
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    if gzipped:
        body = gzip.compress(body)
        h["Content-Encoding"] = "gzip"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers=h)
        res = conn.getresponse()
        return res.status, dict(res.getheaders()), res.read()
    finally:
        conn.close()


def every_byte(folder: Path) -> bytes:
    """Everything under a folder, concatenated (the store, its WAL, the token, the logs)."""
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def port_of(c: OtlpCollector) -> int:
    """The started receiver's port."""
    assert c.receiver is not None
    return c.receiver.port


def token_of(c: OtlpCollector) -> str:
    """The started receiver's token."""
    assert c.receiver is not None
    return c.receiver.token


# Codex TUI events with the attributes of the recorded Codex 0.171.0 export
# (tests/fixtures/otlp/codex/0.171.0/interactive).
THREAD_A = "01a2387a-ccee-7fa1-b5fe-2ad85b78a6be"
THREAD_B = "01a2387b-0000-7fa1-b5fe-2ad85b78a6be"
TITLE = "01a2387a-ce8c-7f00-841b-84df50fcc1f6"
# The recorded title call's counts: 373 fresh input, 21209 cached, 55 output, 286 reasoning.
TITLE_COUNTS = {"input": 21582, "cached": 21209, "output": 341, "reasoning": 286}
# ... as counted: fresh input, output, cache read, reasoning.
TITLE_TOKENS = (373, 55, 21209, 286)


def _codex_attrs(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": {"stringValue": str(v)}} for k, v in values.items()]


def _codex_record(event: str, conversation: str, at: float, **extra: Any) -> dict[str, Any]:
    """One Codex TUI log record, with the common attributes every recorded one has."""
    common = {
        "event.name": f"codex.{event}",
        "conversation.id": conversation,
        "app.version": "0.171.0",
        "originator": extra.pop("originator", "codex-tui"),
        "terminal.type": "tmux-256color",
        "model": "gpt-5-codex",
        "slug": "gpt-5-codex",
    }
    return {"observedTimeUnixNano": str(int(at * 1e9)), "attributes": _codex_attrs(common | extra)}


def codex_prompt(conversation: str, at: float) -> dict[str, Any]:
    """A `codex.user_prompt` record: a turn of `conversation` starts at `at`."""
    return _codex_record("user_prompt", conversation, at, prompt_length=27, prompt="[REDACTED]")


def codex_call(
    conversation: str,
    at: float,
    counts: dict[str, int] = TITLE_COUNTS,
    originator: str = "codex-tui",
) -> dict[str, Any]:
    """A `codex.sse_event` `response.completed` record with a call's token counts."""
    return _codex_record(
        "sse_event",
        conversation,
        at,
        originator=originator,
        **{
            "event.kind": "response.completed",
            "input_token_count": counts["input"],
            "cached_token_count": counts["cached"],
            "output_token_count": counts["output"],
            "reasoning_token_count": counts["reasoning"],
            "cache_write_token_count": 0,
        },
    )


def codex_logs(*records: dict[str, Any]) -> bytes:
    """An OTLP/JSON logs export of Codex's TUI (its app server) with these records."""
    resource = {"attributes": _codex_attrs({"service.name": "codex-app-server"})}
    scope = {"scope": {"name": "codex_otel.log_only"}, "logRecords": list(records)}
    return json.dumps({"resourceLogs": [{"resource": resource, "scopeLogs": [scope]}]}).encode()
