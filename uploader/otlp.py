"""The OTLP sink: records as OTLP/HTTP JSON logs with gen_ai.* attributes, for OTel Collectors."""

from __future__ import annotations

import calendar
import gzip
import sys
import time
from typing import Any

import requests

from aitally.core.wire import OUTCOME_KINDS, RECORD_SCHEMA, TOKEN_KINDS
from aitally.uploader import records
from aitally.uploader.answer import Answer, Outcome, classify_status
from aitally.uploader.retry import parse_retry_after
from aitally.uploader.sender import exception_answer
from aitally.uploader.version import agent_version

# gen_ai.provider.name well-known values (semantic conventions v1.41) for tools with one vendor.
PROVIDERS = {
    "claude-code": "anthropic",
    "claude-desktop": "anthropic",
    "codex": "openai",
    "chatgpt-desktop": "openai",
    "gemini-cli": "gcp.gemini",
    "amazon-q": "aws.bedrock",
}
# The GenAI conventions' token attributes and which of our disjoint kinds each sums:
# input_tokens includes cached reads and writes, output_tokens includes reasoning.
USAGE = {
    "gen_ai.usage.input_tokens": ("input", "cache_read", "cache_write"),
    "gen_ai.usage.output_tokens": ("output", "reasoning"),
    "gen_ai.usage.cache_read.input_tokens": ("cache_read",),
    "gen_ai.usage.cache_creation.input_tokens": ("cache_write",),
    "gen_ai.usage.reasoning.output_tokens": ("reasoning",),
}
# Our disjoint kinds as they are, beside the conventions' sums.
OWN_USAGE = {k: f"aitally.usage.{k}_tokens" for k in TOKEN_KINDS}
# Outcome counts (docs/wire-protocol.md `outcomes`), one integer attribute per recorded kind.
OUTCOMES = {k: f"aitally.outcomes.{k}" for k in OUTCOME_KINDS}
# os.type well-known values of the OS resource conventions, by sys.platform prefix.
OS_TYPES = (("win32", "windows"), ("cygwin", "windows"), ("darwin", "darwin"), ("linux", "linux"))
SEVERITY_INFO = 9


def os_type(platform: str = sys.platform) -> str:
    """`os.type` as the resource conventions name it (`windows`, not `win32`)."""
    for prefix, name in OS_TYPES:
        if platform.startswith(prefix):
            return name
    return platform.rstrip("0123456789")  # freebsd14 -> freebsd, as the list spells them


def _usage(tokens: dict[str, int | None] | None) -> dict[str, int | None]:
    """The conventions' sums (absent when no part is recorded) and our own kinds."""
    tokens = tokens or {}
    out: dict[str, int | None] = {}
    for name, kinds in USAGE.items():
        parts = [tokens.get(k) for k in kinds if tokens.get(k) is not None]
        out[name] = sum(p for p in parts if p is not None) if parts else None
    for kind, name in OWN_USAGE.items():
        out[name] = tokens.get(kind)
    return out


def _value(v: Any) -> dict[str, Any]:
    """An OTLP AnyValue in the JSON mapping (64-bit integers are strings there)."""
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, list):
        return {"arrayValue": {"values": [_value(x) for x in v]}}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": _attrs(v)}}
    return {"stringValue": str(v)}


def _attrs(values: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"key": k, "value": _value(v)} for k, v in values.items() if v is not None]


def _nanos(stamp: str) -> str:
    return str(calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")) * 1_000_000_000)


def _log_record(rec: records.Record, observed: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "aitally.record_id": rec["record_id"],
        "aitally.kind": rec["kind"],
        "aitally.tool": rec["tool"],
        "aitally.surface": rec["surface"],
        "aitally.tool_version": rec["tool_version"],
        "aitally.started_at": rec["started_at"],
        "aitally.ended_at": rec["ended_at"],
        "aitally.active_seconds": float(rec["active_seconds"]),
        "aitally.present_seconds": float(rec["present_seconds"]),
        "aitally.turns": rec["turns"],
        "aitally.sessions": rec["sessions"],
        "aitally.signals": rec["signals"] or None,
        "aitally.project": rec["project"],
        "gen_ai.provider.name": PROVIDERS.get(rec["tool"]),
    }
    if len(rec["models"]) == 1:
        attrs["gen_ai.request.model"] = next(iter(rec["models"]))
    attrs.update(_usage(rec["tokens"]))
    outcomes = rec.get("outcomes") or {}
    attrs.update({name: outcomes.get(kind) for kind, name in OUTCOMES.items()})
    if rec["models"]:
        attrs["aitally.models"] = {
            m: {k: v for k, v in t.items() if v is not None} for m, t in rec["models"].items()
        }
    return {
        "timeUnixNano": _nanos(rec["ended_at"]),
        "observedTimeUnixNano": observed,
        "severityNumber": SEVERITY_INFO,
        "severityText": "INFO",
        "eventName": f"aitally.{rec['kind']}",
        "body": {"stringValue": RECORD_SCHEMA},
        "attributes": _attrs(attrs),
    }


def export_request(recs: list[records.Record], health: dict[str, Any], now: float) -> bytes:
    """An ExportLogsServiceRequest in OTLP/HTTP JSON; identities sit on the resource."""
    first = recs[0] if recs else {}
    level_user = first.get("user")
    user_key = "user.hash" if str(level_user).startswith("hmac:") else "user.name"
    device = first.get("device")
    device_key = "host.id" if str(device).startswith("hmac:") else "host.name"
    resource = {
        "service.name": "aitally",
        "service.version": agent_version(),
        "os.type": os_type(),
        user_key: level_user,
        device_key: device,
        "aitally.org_unit": first.get("org_unit"),
        "aitally.queue_depth": health.get("queue_depth"),
    }
    observed = str(int(now * 1_000_000_000))
    return records.encode(
        {
            "resourceLogs": [
                {
                    "resource": {"attributes": _attrs(resource)},
                    "scopeLogs": [
                        {
                            "scope": {"name": "aitally.uploader", "version": agent_version()},
                            "logRecords": [_log_record(r, observed) for r in recs],
                        }
                    ],
                }
            ]
        }
    )


class OtlpSink:
    """Sends batches to an OTLP/HTTP logs endpoint (an OpenTelemetry Collector)."""

    name = "otlp"

    def __init__(
        self, session: requests.Session, endpoint: str, headers: dict[str, str] | None = None
    ) -> None:
        self.session = session
        self.url = endpoint
        self.headers = dict(headers or {})
        self.credential_id = ""
        self.bytes_sent = 0

    def send(self, recs: list[records.Record], health: dict[str, Any]) -> Answer:
        """Posts the batch as one gzip'd export request; a 200 must be an OTLP JSON answer."""
        wire = gzip.compress(export_request(recs, health, time.time()))
        try:
            resp = self.session.post(
                self.url,
                data=wire,
                headers={
                    **self.headers,
                    "Content-Type": "application/json",
                    "Content-Encoding": "gzip",
                },
            )
        except requests.RequestException as exc:
            return exception_answer(exc)
        self.bytes_sent += len(wire)
        with resp:
            if resp.status_code == 200:
                if not resp.headers.get("Content-Type", "").startswith("application/json"):
                    return Answer(Outcome.RETRY, 200, "200 that is not an OTLP response")
                try:
                    partial = (resp.json() or {}).get("partialSuccess") or {}
                except (ValueError, AttributeError):
                    return Answer(Outcome.RETRY, 200, "200 with an unreadable OTLP response")
                detail = f"ok; partial success: {partial}" if partial else "ok"
                return Answer(Outcome.OK, 200, detail, accepted=len(recs))
            after = parse_retry_after(resp.headers.get("Retry-After"), time.time())
            return classify_status(resp.status_code, f"HTTP {resp.status_code}", after)
