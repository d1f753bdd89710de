"""The record of the batch body as a pydantic model: the one definition that validates and
documents it.

`Record` validates one record (`Record.model_validate(obj, context={"now": ts})`) and is
what storage stores; `aitally.ingest.wire` validates the envelope around the records. The
OpenAPI body of POST /v1/batches is generated from both. Names, vocabularies and limits
come from `aitally.core.wire`, which the agent's uploader shares; each field carries a
`Reason` (`aitally.ingest.field_rules`), its figures are `aitally.ingest.record_figures`.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
)

from aitally.core.wire import (
    KEYED_HASH_PATTERN,
    MAX_COUNT,
    MAX_IDENTITY,
    MAX_MODEL_NAME,
    MAX_ORG_UNIT,
    MAX_SECONDS,
    MAX_TOOL_VERSION,
    PRIVACY_LEVELS,
    RECORD_KINDS,
    RECORD_SCHEMA,
    SIGNALS,
    SURFACES,
    TOOL_PATTERN,
    PrivacyLevel,
    RecordKind,
    Signal,
    Surface,
)
from aitally.ingest.field_rules import (
    PRINTABLE,
    Reason,
    count_reason,
    one_of,
    rejected,
    text_reason,
)
from aitally.ingest.record_figures import Count, OutcomeFigures, TokenFigures

_KEYED_HASH = re.compile(KEYED_HASH_PATTERN)
_EARLIEST = dt.datetime(2020, 1, 1, tzinfo=dt.UTC).timestamp()
_FUTURE_SLACK = 2 * 86400.0  # laptop clocks drift; further ahead is a broken clock


def _seconds_field(description: str, example: float) -> Any:
    return Field(
        ge=0, le=MAX_SECONDS, allow_inf_nan=False, description=description, examples=[example]
    )


_SECONDS_REASON = Reason(
    f"must be a number between 0 and {MAX_SECONDS}", {"float_type": "must be a number >= 0"}
)


def _canonical_uuid(value: str) -> str:
    """Any UUID form, stored lower-case canonical."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise rejected("required, a UUID string") from None


def _timestamp(value: Any, info: ValidationInfo) -> float:
    """An ISO 8601 time with a zone, from 2020 to 2 days past the server clock, as epoch s."""
    if not isinstance(value, str):
        raise rejected("required, an ISO 8601 UTC time")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise rejected("must be an ISO 8601 UTC time like 2026-11-25T21:00:00Z") from None
    if parsed.tzinfo is None:
        raise rejected("must carry a time zone (Z)")
    ts = parsed.timestamp()
    now = info.context["now"] if info.context else time.time()
    if ts < _EARLIEST or ts > now + _FUTURE_SLACK:
        raise rejected("out of range (before 2020 or in the future)")
    started = info.data.get("started_at")
    if info.field_name == "ended_at" and started is not None and ts < started:
        raise rejected("must not be before started_at")
    return ts


def _keyed_hash(value: str | None) -> str | None:
    if value is not None and not _KEYED_HASH.match(value):
        raise rejected("must be a keyed hash hmac:<key id>:<hex> or null")
    return value


def _or_empty(empty: list[Any] | dict[str, Any]) -> Any:
    """Null (or any false value) stands for the empty list or map, as older agents send."""
    return BeforeValidator(lambda value: value or type(empty)())


ModelName = Annotated[str, Field(min_length=1, max_length=MAX_MODEL_NAME, pattern=PRINTABLE)]
_HASH_EXAMPLE = "hmac:k1:" + "3f" * 16


class Record(BaseModel):
    """One record (`aitally.session.v1`): a closed segment, a pause or a daily total."""

    model_config = ConfigDict(
        strict=True, frozen=True, title="Record", json_schema_extra={"x-schema": RECORD_SCHEMA}
    )

    record_id: Annotated[
        str,
        Field(
            description="UUID, the same for the same segment every time it is sent; "
            "any UUID form, stored lower-case canonical",
            json_schema_extra={"format": "uuid"},
            examples=["0b8f3c52-6c1e-4f7a-9a57-2f1d3c4b5a69"],
        ),
        AfterValidator(_canonical_uuid),
        Reason("required, a UUID string"),
    ]
    kind: Annotated[
        RecordKind,
        Field(description="`daily_total` only at privacy level `aggregate`", examples=["segment"]),
        one_of(RECORD_KINDS),
    ]
    tool: Annotated[
        str,
        Field(
            pattern=TOOL_PATTERN,
            description="tool id slug; `aitally` for pause records",
            examples=["claude-code"],
        ),
        Reason("required, a tool id slug like claude-code"),
    ]
    surface: Annotated[
        Surface | None,
        Field(description="where the tool runs", examples=["cli"]),
        one_of(SURFACES, " or null"),
    ] = None
    tool_version: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=MAX_TOOL_VERSION,
            pattern=PRINTABLE,
            description="the tool's version as it reports it",
            examples=["2.0.1"],
        ),
        text_reason(MAX_TOOL_VERSION),
    ] = None
    started_at: Annotated[
        float,
        BeforeValidator(_timestamp),
        WithJsonSchema({"type": "string", "format": "date-time"}),
        Field(
            description="ISO 8601 with a zone, from 2020 to 2 days past the server clock; "
            "day-rounded at privacy levels `anonymous` and `aggregate`",
            examples=["2026-11-25T10:00:00Z"],
        ),
        Reason("required, an ISO 8601 UTC time"),
    ]
    ended_at: Annotated[
        float,
        BeforeValidator(_timestamp),
        WithJsonSchema({"type": "string", "format": "date-time"}),
        Field(description="as started_at, and not before it", examples=["2026-11-25T11:00:00Z"]),
        Reason("required, an ISO 8601 UTC time"),
    ]
    active_seconds: Annotated[
        float, _seconds_field("seconds of active use", 1800.5), _SECONDS_REASON
    ] = 0.0
    present_seconds: Annotated[
        float, _seconds_field("seconds the tool was open", 3600.0), _SECONDS_REASON
    ] = 0.0
    turns: Annotated[Count, Field(description="prompts answered", examples=[3])] = 0
    sessions: Annotated[
        int,
        Field(
            ge=1,
            le=MAX_COUNT,
            description="1 for a segment; the count for a daily_total",
            examples=[1],
        ),
        count_reason(1),
    ] = 1
    tokens: Annotated[
        TokenFigures | None,
        Field(
            description="token figures; null: the tool records none",
            examples=[{"input": 1200, "output": 300, "cache_read": 0, "cache_write": 0}],
        ),
        Reason("must be an object of token counts"),
    ] = None
    models: Annotated[
        dict[ModelName, TokenFigures],
        _or_empty({}),
        Field(
            description="token figures per model name",
            examples=[{"claude-sonnet-4": {"input": 1200, "output": 300}}],
        ),
        Reason(
            "must be an object of model name to token counts",
            {"[key]": f"model names must be 1..{MAX_MODEL_NAME} printable characters"},
        ),
    ] = Field(default_factory=dict)
    signals: Annotated[
        list[Signal],
        _or_empty([]),
        AfterValidator(lambda signals: sorted(set(signals))),
        Field(description="evidence the record was built from", examples=[["process"]]),
        Reason("must be a list of " + ", ".join(sorted(SIGNALS))),
    ] = Field(default_factory=list)
    outcomes: Annotated[
        OutcomeFigures | None,
        Field(
            description="content-free counts of what the use produced (docs/measuring.md); "
            "a key absent where the tool records nothing of the kind; absent from older agents",
            examples=[{"edits_proposed": 4, "edits_accepted": 3, "edits_rejected": 1}],
        ),
        Reason("must be an object of outcome counts"),
    ] = None
    project: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=MAX_IDENTITY,
            pattern=PRINTABLE,
            description="keyed hash `hmac:<key id>:<hex>`, never a raw path or name",
            json_schema_extra={"pattern": KEYED_HASH_PATTERN},
            examples=[_HASH_EXAMPLE],
        ),
        AfterValidator(_keyed_hash),
        text_reason(MAX_IDENTITY),
    ] = None
    user: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=MAX_IDENTITY,
            pattern=PRINTABLE,
            description="login at privacy level `identified`, else null (older agents sent a "
            "keyed hash at `pseudonymous`); not believed: the enrollment decides",
            examples=[_HASH_EXAMPLE],
        ),
        text_reason(MAX_IDENTITY),
    ] = None
    device: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=MAX_IDENTITY,
            pattern=PRINTABLE,
            description="host name at `identified`, else null; not believed",
            examples=[_HASH_EXAMPLE],
        ),
        text_reason(MAX_IDENTITY),
    ] = None
    org_unit: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=MAX_ORG_UNIT,
            pattern=PRINTABLE,
            description="org unit from managed policy; not believed: the enrollment's is stored",
            examples=["eng"],
        ),
        text_reason(MAX_ORG_UNIT),
    ] = None
    privacy_level: Annotated[
        PrivacyLevel | None,
        Field(
            description="the agent's level when it built the record; the server stores the "
            "record at this level or the enrollment's, whichever is stricter",
            examples=["pseudonymous"],
        ),
        one_of(PRIVACY_LEVELS, " or null"),
    ] = None
