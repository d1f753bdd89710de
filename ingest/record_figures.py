"""The figures a record carries, token counts and outcome counts: validated and documented
as objects (`TokenCounts`, `OutcomeCounts`), held as tuples in the order storage writes them."""

from __future__ import annotations

from typing import Annotated, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, GetPydanticSchema
from pydantic_core import core_schema

from aitally.core.wire import MAX_COUNT, OUTCOME_KINDS
from aitally.ingest.field_rules import count_reason

Count = Annotated[int, Field(ge=0, le=MAX_COUNT), count_reason(0)]
TokenCount = Annotated[
    int | None, Field(ge=0, le=MAX_COUNT, examples=[1200]), count_reason(0, " or null")
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
OutcomeCount = Annotated[int | None, Field(ge=0, le=MAX_COUNT, examples=[3]), count_reason(0)]


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
