"""The batch body: the envelope checked as a whole, its records validated one at a time.

The models are pydantic (`BatchEnvelope` here, `Record` in `aitally.ingest.schema`); this
module turns their errors into the protocol's answers: an `EnvelopeError` (400, 413, 422)
for the whole batch, a per-record `reason` naming the failing field for each bad record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetPydanticSchema,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import ErrorDetails

from aitally.core.wire import BATCH_SCHEMA, MAX_COUNT, MAX_RECORDS, OUTCOME_KINDS, BatchSchema
from aitally.ingest.field_rules import CUSTOM, field_reason
from aitally.ingest.record_figures import OutcomeCounts, TokenCounts
from aitally.ingest.schema import Record

# Lone surrogates (JSON "\ud800") cannot be encoded to UTF-8: storing or echoing one fails.
_CONTROL = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


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


@dataclass(slots=True)
class Batch:
    """A parsed batch: what the envelope carries that is stored, valid and rejected records."""

    batch_id: str
    agent_version: str | None
    agent_os: str | None
    health: dict[str, Any]
    records: list[Record] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    """the position in the body of each of `records`"""
    rejected: list[dict[str, Any]] = field(default_factory=list)


def _text(value: Any, limit: int) -> str | None:
    """A printable string cut to limit, else None: what an envelope field may store or echo."""
    return value[:limit] if isinstance(value, str) and not _CONTROL.search(value) else None


def _count(value: Any) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT
    return value if ok else None


def _counts(value: Any) -> dict[str, int] | None:
    """An object of counts, keeping only printable keys (cut to 64) with valid counts."""
    if not isinstance(value, dict):
        return None
    return {k[:64]: n for k, n in value.items() if _text(k, 64) and _count(n) is not None}


def _object(value: Any) -> Any:
    return value if isinstance(value, dict) else {}


def _cut(limit: int) -> BeforeValidator:
    return BeforeValidator(lambda value: _text(value, limit))


class AgentInfo(BaseModel):
    """The sending agent; informational, so unusable values are dropped, never refused."""

    version: Annotated[
        str | None, _cut(64), Field(description="agent version (cut to 64)", examples=["0.1.0"])
    ] = None
    os: Annotated[
        str | None, _cut(32), Field(description="operating system (cut to 32)", examples=["linux"])
    ] = None


HealthCount = Annotated[Annotated[int, Field(ge=0, le=MAX_COUNT)] | None, BeforeValidator(_count)]
HealthCounts = Annotated[dict[str, int] | None, BeforeValidator(_counts)]


class Health(BaseModel):
    """The agent's own health figures; anything else, or anything not a count, is dropped."""

    queue_depth: Annotated[HealthCount, Field(description="records waiting to be sent")] = None
    dead_letter: Annotated[
        HealthCount, Field(description="records the server refused for good")
    ] = None
    dropped: Annotated[
        HealthCounts,
        Field(description="records dropped locally, by cause", examples=[{"age": 0, "size": 0}]),
    ] = None
    parse_errors: Annotated[
        HealthCounts,
        Field(description="unparsable tool data, by collector", examples=[{"codex": 1}]),
    ] = None


# Each record is validated on its own (one bad record must not refuse the batch), so the
# envelope takes them as they are; the document still shows every item as a Record.
RawRecord = Annotated[
    Any,
    GetPydanticSchema(
        get_pydantic_json_schema=lambda _s, handler: handler(Record.__pydantic_core_schema__)
    ),
]


class BatchEnvelope(BaseModel):
    """The body of POST /v1/batches (docs/wire-protocol.md)."""

    model_config = ConfigDict(strict=True, title="Batch")

    schema_: BatchSchema = Field(
        alias="schema", description="protocol version; another one is answered 422"
    )
    batch_id: str = Field(
        min_length=1,
        max_length=128,
        description="uuid4; the same records resent give the same id",
        examples=["5d1c7e0a-93b2-4a55-8c1e-0f6a2b7d9e31"],
    )
    sent_at: Annotated[
        Any,
        WithJsonSchema({"type": "string", "format": "date-time"}),
        Field(description="when the agent sent the batch; informational"),
    ] = None
    agent: Annotated[AgentInfo, BeforeValidator(_object)] = Field(
        default_factory=lambda: AgentInfo()
    )
    health: Annotated[Health, BeforeValidator(_object)] = Field(default_factory=lambda: Health())
    records: list[RawRecord] = Field(
        max_length=MAX_RECORDS, description="each validated on its own; bad ones are rejected"
    )


def _envelope_error(exc: ValidationError) -> EnvelopeError:
    err = exc.errors(include_url=False)[0]
    name = err["loc"][0] if err["loc"] else None
    if name == "schema":
        given = err.get("input")
        if err["type"] == "literal_error" and isinstance(given, str):
            return EnvelopeError(
                422, f"schema: {given[:64]!r} is not supported; send {BATCH_SCHEMA!r}"
            )
        return EnvelopeError(400, f"schema: required, {BATCH_SCHEMA!r}")
    if name == "batch_id":
        return EnvelopeError(400, "batch_id: required, a UTF-8 string (uuid4)")
    if name == "records" and err["type"] == "too_long":
        return EnvelopeError(413, f"records: at most {MAX_RECORDS} per batch; split it")
    return EnvelopeError(400, "records: required, a list")


def _record_error(err: ErrorDetails) -> RecordError:
    """pydantic's first error as the field path and its declared Reason."""
    loc = err["loc"]
    if not loc:
        return RecordError("record", "must be an object")
    top = str(loc[0])
    if loc[-1] == "[key]":  # a model name
        return RecordError(top, field_reason(Record, top).text("[key]"))
    depth = {"tokens": 2, "models": 3, "outcomes": 2}.get(top)  # where the counts are
    path = ".".join(str(p) for p in loc)
    if depth is None or len(loc) == 1:  # a list item (signals) is its list's failure
        path, reason = top, field_reason(Record, top)
    elif top == "outcomes" and str(loc[-1]) not in OutcomeCounts.model_fields:
        # The key is never echoed: the reason is logged, and a wrong key might hold content.
        return RecordError(top, "unknown key; use only " + ", ".join(OUTCOME_KINDS))
    elif top == "outcomes":
        reason = field_reason(OutcomeCounts, str(loc[-1]))
    elif len(loc) == depth:
        reason = field_reason(TokenCounts, str(loc[-1]))
    else:  # models.<name>: its token object
        reason = field_reason(Record, "tokens")
    error_type, given = err["type"], err.get("input")
    if error_type == "float_type" and isinstance(given, int) and not isinstance(given, bool):
        error_type = "finite_number"  # an integer too large for a float is out of range
    text = err["msg"] if error_type == CUSTOM else reason.text(error_type)
    return RecordError(path, text)


def parse_record(obj: Any, now: float) -> Record:
    """One validated record, or RecordError naming the first bad field."""
    try:
        return Record.model_validate(obj, context={"now": now})
    except ValidationError as exc:
        raise _record_error(exc.errors(include_url=False)[0]) from None


def parse_batch(doc: Any, now: float) -> Batch:
    """The envelope checked as a whole (EnvelopeError), its records one by one."""
    if not isinstance(doc, dict):
        raise EnvelopeError(400, "the body must be a JSON object (the batch envelope)")
    try:
        envelope = BatchEnvelope.model_validate(doc)
    except ValidationError as exc:
        raise _envelope_error(exc) from None
    batch = Batch(
        batch_id=envelope.batch_id,
        agent_version=envelope.agent.version,
        agent_os=envelope.agent.os,
        health=envelope.health.model_dump(exclude_none=True),
    )
    context = {"now": now}
    for index, obj in enumerate(envelope.records):
        try:
            batch.records.append(Record.model_validate(obj, context=context))
            batch.indexes.append(index)
        except ValidationError as exc:
            error = _record_error(exc.errors(include_url=False)[0])
            rid = obj.get("record_id") if isinstance(obj, dict) else None
            batch.rejected.append(
                {
                    "index": index,
                    "record_id": _text(rid, 64),
                    "reason": str(error),
                    "field": error.field,
                }
            )
    return batch
