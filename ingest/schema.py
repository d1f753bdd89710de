"""The batch body as pydantic models: the one definition that validates and documents it.

`Record` validates one record (`Record.model_validate(obj, context={"now": ts})`) and is
what storage stores; `BatchEnvelope` validates the envelope around the records. The
OpenAPI body of POST /v1/batches is generated from both. Names, vocabularies and limits
come from `aitally.core.wire`, which the agent's uploader shares.

Each field carries a `Reason`: the text a rejected record's `reason` gives for it
(`aitally.ingest.wire` turns pydantic's errors into those texts).
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, NamedTuple

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetPydanticSchema,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError, core_schema

from aitally.core.wire import (
    KEYED_HASH_PATTERN,
    MAX_COUNT,
    MAX_IDENTITY,
    MAX_MODEL_NAME,
    MAX_ORG_UNIT,
    MAX_SECONDS,
    MAX_TOOL_VERSION,
    OUTCOME_KINDS,
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

# No control characters (C0, DEL, C1: terminal escapes); lone surrogates (JSON "\ud800")
# fail as strings before this.
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"
CUSTOM = "aitally_record"  # the error type whose message is already the reason
_KEYED_HASH = re.compile(KEYED_HASH_PATTERN)
_EARLIEST = dt.datetime(2020, 1, 1, tzinfo=dt.UTC).timestamp()
_FUTURE_SLACK = 2 * 86400.0  # laptop clocks drift; further ahead is a broken clock


@dataclass(frozen=True)
class Reason:
    """A field's rejection text: `default`, or the entry for pydantic's error type."""

    default: str
    by_type: Mapping[str, str] = field(default_factory=dict)

    def text(self, error_type: str) -> str:
        """The reason for an error of this pydantic type."""
        return self.by_type.get(error_type, self.default)


def _count_reason(minimum: int, suffix: str = "") -> Reason:
    too_big = f"must be at most {MAX_COUNT}"
    return Reason(f"must be an integer >= {minimum}{suffix}", {"less_than_equal": too_big})


def _text_reason(limit: int) -> Reason:
    return Reason(f"must be 1..{limit} printable characters", {"string_type": "must be a string"})


def _one_of(values: tuple[str, ...], suffix: str = "") -> Reason:
    return Reason("must be one of " + ", ".join(sorted(values)) + suffix)


def _seconds_field(description: str, example: float) -> Any:
    return Field(
        ge=0, le=MAX_SECONDS, allow_inf_nan=False, description=description, examples=[example]
    )


_SECONDS_REASON = Reason(
    f"must be a number between 0 and {MAX_SECONDS}", {"float_type": "must be a number >= 0"}
)


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError(CUSTOM, message)


def _canonical_uuid(value: str) -> str:
    """Any UUID form, stored lower-case canonical."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise _fail("required, a UUID string") from None


def _timestamp(value: Any, info: ValidationInfo) -> float:
    """An ISO 8601 time with a zone, from 2020 to 2 days past the server clock, as epoch s."""
    if not isinstance(value, str):
        raise _fail("required, an ISO 8601 UTC time")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _fail("must be an ISO 8601 UTC time like 2026-11-25T21:00:00Z") from None
    if parsed.tzinfo is None:
        raise _fail("must carry a time zone (Z)")
    ts = parsed.timestamp()
    now = info.context["now"] if info.context else time.time()
    if ts < _EARLIEST or ts > now + _FUTURE_SLACK:
        raise _fail("out of range (before 2020 or in the future)")
    started = info.data.get("started_at")
    if info.field_name == "ended_at" and started is not None and ts < started:
        raise _fail("must not be before started_at")
    return ts


def _keyed_hash(value: str | None) -> str | None:
    if value is not None and not _KEYED_HASH.match(value):
        raise _fail("must be a keyed hash hmac:<key id>:<hex> or null")
    return value


def _or_empty(empty: list[Any] | dict[str, Any]) -> Any:
    """Null (or any false value) stands for the empty list or map, as older agents send."""
    return BeforeValidator(lambda value: value or type(empty)())


Count = Annotated[int, Field(ge=0, le=MAX_COUNT), _count_reason(0)]
TokenCount = Annotated[
    int | None, Field(ge=0, le=MAX_COUNT, examples=[1200]), _count_reason(0, " or null")
]


class TokenCounts(BaseModel):
    """Token figures of a record or of one model in it; null: the tool records none."""

    model_config = ConfigDict(strict=True, title="TokenCounts")

    input: Annotated[TokenCount, Field(description="input (prompt) tokens")] = None
    output: Annotated[TokenCount, Field(description="output (completion) tokens")] = None
    cache_read: Annotated[TokenCount, Field(description="tokens read from the prompt cache")] = None
    cache_write: Annotated[TokenCount, Field(description="tokens written to the prompt cache")] = (
        None
    )
    reasoning: Annotated[TokenCount, Field(description="reasoning (thinking) tokens")] = None


class Tokens(NamedTuple):
    """Validated token figures in `TOKEN_KINDS` order, as storage writes them."""

    input: int | None
    output: int | None
    cache_read: int | None
    cache_write: int | None
    reasoning: int | None


def _as_tokens(counts: TokenCounts) -> Tokens:
    return Tokens(
        counts.input, counts.output, counts.cache_read, counts.cache_write, counts.reasoning
    )


# Validated and documented as the TokenCounts object, held as a Tokens tuple.
TokenFigures = Annotated[
    Tokens,
    GetPydanticSchema(
        lambda _type, handler: core_schema.no_info_after_validator_function(
            _as_tokens, handler(TokenCounts)
        )
    ),
]
OutcomeCount = Annotated[int | None, Field(ge=0, le=MAX_COUNT, examples=[3]), _count_reason(0)]


class OutcomeCounts(BaseModel):
    """What a use produced, content-free (docs/measuring.md); a key absent: not recorded.

    Unknown keys are refused (rather than ignored like unknown record fields): a count under
    a misspelt name would otherwise vanish without anyone noticing.
    """

    model_config = ConfigDict(strict=True, extra="forbid", title="OutcomeCounts")

    edits_proposed: Annotated[OutcomeCount, Field(description="code edits the tool proposed")] = (
        None
    )
    edits_accepted: Annotated[
        OutcomeCount, Field(description="proposed edits the person accepted (modified ones too)")
    ] = None
    edits_rejected: Annotated[
        OutcomeCount, Field(description="proposed edits the person rejected")
    ] = None
    edits_modified: Annotated[
        OutcomeCount, Field(description="accepted edits the person changed before accepting")
    ] = None
    lines_added: Annotated[OutcomeCount, Field(description="lines the tool's edits added")] = None
    lines_removed: Annotated[OutcomeCount, Field(description="lines the tool's edits removed")] = (
        None
    )
    commands_run: Annotated[OutcomeCount, Field(description="shell commands the tool ran")] = None
    commands_failed: Annotated[
        OutcomeCount, Field(description="commands that failed (non-zero exit, refused, blocked)")
    ] = None
    commits: Annotated[OutcomeCount, Field(description="commits made in the session")] = None
    commits_with_ai: Annotated[
        OutcomeCount, Field(description="commits carrying an AI co-author trailer or note")
    ] = None
    lines_suggested: Annotated[
        OutcomeCount, Field(description="lines suggested (tab and composer, Cursor)")
    ] = None
    lines_accepted: Annotated[
        OutcomeCount, Field(description="suggested lines the person accepted (Cursor)")
    ] = None


Outcomes = tuple[int | None, ...]
"""Validated outcome counts in `OUTCOME_KINDS` order (None: not recorded), as stored."""


def _as_outcomes(counts: OutcomeCounts) -> Outcomes:
    return tuple(getattr(counts, kind) for kind in OUTCOME_KINDS)


# Validated and documented as the OutcomeCounts object, held as a tuple.
OutcomeFigures = Annotated[
    Outcomes,
    GetPydanticSchema(
        lambda _type, handler: core_schema.no_info_after_validator_function(
            _as_outcomes, handler(OutcomeCounts)
        )
    ),
]
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
        _one_of(RECORD_KINDS),
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
        _one_of(SURFACES, " or null"),
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
        _text_reason(MAX_TOOL_VERSION),
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
        _count_reason(1),
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
        _text_reason(MAX_IDENTITY),
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
        _text_reason(MAX_IDENTITY),
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
        _text_reason(MAX_IDENTITY),
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
        _text_reason(MAX_ORG_UNIT),
    ] = None
    privacy_level: Annotated[
        PrivacyLevel | None,
        Field(
            description="the agent's level when it built the record; the server stores the "
            "record at this level or the enrollment's, whichever is stricter",
            examples=["pseudonymous"],
        ),
        _one_of(PRIVACY_LEVELS, " or null"),
    ] = None


def field_reason(model: type[BaseModel], name: str) -> Reason:
    """The Reason declared on one field of model."""
    found = [m for m in model.model_fields[name].metadata if isinstance(m, Reason)]
    return found[0]
