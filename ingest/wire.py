"""The wire protocol's batch envelope and records: limits, validation one record at a time."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

BATCH_SCHEMA = "aitally.batch.v1"
MAX_RECORDS = 500  # docs/wire-protocol.md: at most 500 records per batch
MAX_WIRE_BYTES = 5 << 20  # design 4: <= 5 MiB compressed
MAX_BODY_BYTES = 20 << 20  # design 4: <= 20 MiB after decompression

TOKEN_KINDS = ("input", "output", "cache_read", "cache_write", "reasoning")
KINDS = frozenset({"segment", "pause", "daily_total"})
SURFACES = frozenset({"cli", "ide", "ide-extension", "desktop-app", "local-runtime"})
SIGNALS = frozenset({"process", "transcript", "log", "state-db", "otlp"})

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
# A project is only ever a keyed hash; anything else could be a raw path or name.
_HMAC = re.compile(r"^hmac:[A-Za-z0-9_.-]{1,64}:[0-9a-f]{16,128}$")
# Lone surrogates (JSON "\ud800") cannot be encoded to UTF-8: storing or echoing one fails.
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_MAX_SECONDS = 400 * 86400.0  # generous: a daily total sums many sessions
# Counts above this are broken clients: a trillion tokens in one record is absurd, and the
# cap keeps every column within 64-bit integers and report sums far from overflowing.
MAX_COUNT = 10**12
_EARLIEST = dt.datetime(2020, 1, 1, tzinfo=dt.UTC).timestamp()
_FUTURE_SLACK = 2 * 86400.0  # laptop clocks drift; further ahead is a broken clock


class EnvelopeError(Exception):
    """The whole batch is unusable; `status` is the HTTP answer (400, 413, 422)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class RecordError(ValueError):
    """One record is invalid; str() is the reason sent back, `field` names the field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


Tokens = tuple[int | None, int | None, int | None, int | None, int | None]


@dataclass(slots=True)
class Record:
    record_id: str
    kind: str
    tool: str
    surface: str | None
    tool_version: str | None
    started_at: float
    ended_at: float
    active_seconds: float
    present_seconds: float
    turns: int
    sessions: int
    tokens: Tokens | None
    models: dict[str, Tokens]
    signals: list[str]
    project: str | None
    user: str | None
    device: str | None
    org_unit: str | None


@dataclass(slots=True)
class Batch:
    batch_id: str
    agent_version: str | None
    agent_os: str | None
    health: dict[str, Any]
    records: list[Record] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)


def _str(obj: dict[str, Any], name: str, *, limit: int, required: bool = False) -> str | None:
    value = obj.get(name)
    if value is None:
        if required:
            raise RecordError(name, "required")
        return None
    if not isinstance(value, str):
        raise RecordError(name, "must be a string")
    if not value or len(value) > limit or _CONTROL.search(value):
        raise RecordError(name, f"must be 1..{limit} printable characters")
    return value


def _int(obj: dict[str, Any], name: str, *, minimum: int = 0, default: int = 0) -> int:
    value = obj.get(name, default)
    # bool is an int subclass in Python; JSON true is not a count.
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RecordError(name, f"must be an integer >= {minimum}")
    if value > MAX_COUNT:
        raise RecordError(name, f"must be at most {MAX_COUNT}")
    return value


def _seconds(obj: dict[str, Any], name: str) -> float:
    value = obj.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordError(name, "must be a number >= 0")
    # A chained comparison also refuses NaN and ints too large for a float.
    if not 0 <= value <= _MAX_SECONDS:
        raise RecordError(name, f"must be a number between 0 and {_MAX_SECONDS:.0f}")
    return float(value)


def _time(obj: dict[str, Any], name: str, now: float) -> float:
    value = obj.get(name)
    if not isinstance(value, str):
        raise RecordError(name, "required, an ISO 8601 UTC time")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise RecordError(name, "must be an ISO 8601 UTC time like 2026-11-25T21:00:00Z") from None
    if parsed.tzinfo is None:
        raise RecordError(name, "must carry a time zone (Z)")
    ts = parsed.timestamp()
    if ts < _EARLIEST or ts > now + _FUTURE_SLACK:
        raise RecordError(name, "out of range (before 2020 or in the future)")
    return ts


def _tokens(value: Any, name: str) -> Tokens:
    if not isinstance(value, dict):
        raise RecordError(name, "must be an object of token counts")
    out: list[int | None] = []
    for kind in TOKEN_KINDS:
        n = value.get(kind)
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
            raise RecordError(f"{name}.{kind}", "must be an integer >= 0 or null")
        if n is not None and n > MAX_COUNT:
            raise RecordError(f"{name}.{kind}", f"must be at most {MAX_COUNT}")
        out.append(n)
    return (out[0], out[1], out[2], out[3], out[4])


def parse_record(obj: Any, now: float) -> Record:
    """One validated record, or RecordError naming the first bad field."""
    if not isinstance(obj, dict):
        raise RecordError("record", "must be an object")
    raw_id = obj.get("record_id")
    try:
        record_id = str(uuid.UUID(raw_id)) if isinstance(raw_id, str) else ""
    except ValueError:
        record_id = ""
    if not record_id:
        raise RecordError("record_id", "required, a UUID string")
    kind = obj.get("kind")
    if kind not in KINDS:
        raise RecordError("kind", "must be one of " + ", ".join(sorted(KINDS)))
    tool = obj.get("tool")
    if not isinstance(tool, str) or not _SLUG.match(tool):
        raise RecordError("tool", "required, a tool id slug like claude-code")
    surface = obj.get("surface")
    if surface is not None and surface not in SURFACES:
        raise RecordError("surface", "must be one of " + ", ".join(sorted(SURFACES)) + " or null")
    started, ended = _time(obj, "started_at", now), _time(obj, "ended_at", now)
    if ended < started:
        raise RecordError("ended_at", "must not be before started_at")
    tokens_raw = obj.get("tokens")
    models_raw = obj.get("models") or {}
    if not isinstance(models_raw, dict):
        raise RecordError("models", "must be an object of model name to token counts")
    models: dict[str, Tokens] = {}
    for model, counts in models_raw.items():
        if not model or len(model) > 128 or _CONTROL.search(model):
            raise RecordError("models", "model names must be 1..128 printable characters")
        models[model] = _tokens(counts, f"models.{model}")
    signals = obj.get("signals") or []
    if not isinstance(signals, list) or not all(s in SIGNALS for s in signals):
        raise RecordError("signals", "must be a list of " + ", ".join(sorted(SIGNALS)))
    project = _str(obj, "project", limit=256)
    if project is not None and not _HMAC.match(project):
        raise RecordError("project", "must be a keyed hash hmac:<key id>:<hex> or null")
    return Record(
        record_id=record_id,
        kind=kind,
        tool=tool,
        surface=surface,
        tool_version=_str(obj, "tool_version", limit=64),
        started_at=started,
        ended_at=ended,
        active_seconds=_seconds(obj, "active_seconds"),
        present_seconds=_seconds(obj, "present_seconds"),
        turns=_int(obj, "turns"),
        sessions=_int(obj, "sessions", minimum=1, default=1),
        tokens=None if tokens_raw is None else _tokens(tokens_raw, "tokens"),
        models=models,
        signals=sorted(set(signals)),
        project=project,
        user=_str(obj, "user", limit=256),
        device=_str(obj, "device", limit=256),
        org_unit=_str(obj, "org_unit", limit=128),
    )


def _count(n: Any) -> bool:
    return isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= MAX_COUNT


def _text(value: Any, limit: int) -> str | None:
    """A printable string cut to limit, else None: what an envelope field may store or echo."""
    return value[:limit] if isinstance(value, str) and not _CONTROL.search(value) else None


def _health(value: Any) -> dict[str, Any]:
    """Keeps only the numeric health figures; anything else is not health and is dropped."""
    if not isinstance(value, dict):
        return {}
    out: dict[str, Any] = {}
    for key in ("queue_depth", "dead_letter"):
        n = value.get(key)
        if _count(n):
            out[key] = n
    for key in ("dropped", "parse_errors"):
        sub = value.get(key)
        if isinstance(sub, dict):
            out[key] = {k[:64]: n for k, n in sub.items() if _text(k, 64) and _count(n)}
    return out


def parse_batch(doc: Any, now: float) -> Batch:
    """The envelope checked as a whole (EnvelopeError), its records one by one."""
    if not isinstance(doc, dict):
        raise EnvelopeError(400, "the body must be a JSON object (the batch envelope)")
    schema = doc.get("schema")
    if not isinstance(schema, str):
        raise EnvelopeError(400, f"schema: required, {BATCH_SCHEMA!r}")
    if schema != BATCH_SCHEMA:
        raise EnvelopeError(422, f"schema: {schema[:64]!r} is not supported; send {BATCH_SCHEMA!r}")
    batch_id = doc.get("batch_id")
    if not isinstance(batch_id, str) or not 0 < len(batch_id) <= 128 or _SURROGATE.search(batch_id):
        raise EnvelopeError(400, "batch_id: required, a UTF-8 string (uuid4)")
    records = doc.get("records")
    if not isinstance(records, list):
        raise EnvelopeError(400, "records: required, a list")
    if len(records) > MAX_RECORDS:
        raise EnvelopeError(413, f"records: at most {MAX_RECORDS} per batch; split it")
    agent = doc.get("agent")
    if not isinstance(agent, dict):
        agent = {}
    version, os_name = agent.get("version"), agent.get("os")
    batch = Batch(
        batch_id=batch_id,
        agent_version=_text(version, 64),
        agent_os=_text(os_name, 32),
        health=_health(doc.get("health")),
    )
    for index, obj in enumerate(records):
        try:
            batch.records.append(parse_record(obj, now))
        except RecordError as exc:
            rid = obj.get("record_id") if isinstance(obj, dict) else None
            batch.rejected.append(
                {
                    "index": index,
                    "record_id": _text(rid, 64),
                    "reason": str(exc),
                    "field": exc.field,
                }
            )
    return batch
