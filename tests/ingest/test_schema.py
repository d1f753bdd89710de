"""The pydantic record model: one source for validation and for the OpenAPI body schema."""

from __future__ import annotations

import time
from typing import Any

from aitally.core.wire import MAX_RECORDS, OUTCOME_KINDS, RECORD_KINDS, TOKEN_KINDS
from aitally.ingest.api_batches import body_schema
from aitally.ingest.record_figures import OutcomeCounts
from aitally.ingest.wire import parse_batch
from tests.ingest.builders import batch, record

NOW = time.time()
ESCAPE = "\x1b[31m" + "x" * 80  # a terminal escape as an outcome key


def _record_schema() -> dict[str, Any]:
    items: dict[str, Any] = body_schema()["properties"]["records"]["items"]
    return items


def test_body_schema_documents_every_record_field() -> None:
    schema = body_schema()
    assert "$defs" not in schema and "$ref" not in str(schema)  # self-contained
    assert schema["properties"]["records"]["maxItems"] == MAX_RECORDS
    fields = _record_schema()["properties"]
    assert set(record()) <= set(fields)
    for name, spec in fields.items():
        assert spec.get("description"), name
        assert spec.get("examples"), name
    assert fields["kind"]["enum"] == list(RECORD_KINDS)
    assert set(_record_schema()["required"]) == {
        "record_id",
        "kind",
        "tool",
        "started_at",
        "ended_at",
    }
    tokens = fields["tokens"]["anyOf"][0]["properties"]
    assert list(tokens) == list(TOKEN_KINDS)
    assert all(spec["description"] for spec in tokens.values())


def test_model_failure_rejects_that_record_only() -> None:
    good = [record(), record()]
    bad = [
        record(sessions=True),
        record(models={"m": {"reasoning": 10**13}}),
        record(signals=None, surface="watch"),
    ]
    parsed = parse_batch(batch([good[0], *bad, good[1]]), NOW)
    assert [r.record_id for r in parsed.records] == [g["record_id"] for g in good]
    assert [(r["index"], r["field"], r["reason"]) for r in parsed.rejected] == [
        (1, "sessions", "sessions: must be an integer >= 1"),
        (2, "models.m.reasoning", "models.m.reasoning: must be at most 1000000000000"),
        (
            3,
            "surface",
            "surface: must be one of cli, desktop-app, ide, ide-extension, local-runtime, web"
            " or null",
        ),
    ]


def test_canonical_values_are_stored() -> None:
    rid = "{0B8F3C52-6C1E-4F7A-9A57-2F1D3C4B5A69}"
    parsed = parse_batch(batch([record(record_id=rid, signals=["process", "log", "log"])]), NOW)
    (stored,) = parsed.records
    assert stored.record_id == "0b8f3c52-6c1e-4f7a-9a57-2f1d3c4b5a69"
    assert stored.signals == ["log", "process"]
    assert stored.tokens is not None and stored.tokens.input == 100


def test_outcomes_are_validated_and_documented() -> None:
    assert tuple(OutcomeCounts.model_fields) == OUTCOME_KINDS  # one vocabulary, one order
    documented = _record_schema()["properties"]["outcomes"]["anyOf"][0]
    assert list(documented["properties"]) == list(OUTCOME_KINDS)
    assert documented["additionalProperties"] is False
    good = record(outcomes={"edits_accepted": 3, "lines_added": 10})
    old = record()  # an agent before outcomes sends none
    bad = [
        record(outcomes={"edits_acepted": 3}),
        record(outcomes={"commits": -1}),
        record(outcomes={"commits": True}),
        record(outcomes={"commits": 10**13}),
        record(outcomes=[1]),
        record(outcomes={ESCAPE: 1}),
    ]
    parsed = parse_batch(batch([good, old, *bad]), NOW)
    stored = {r.record_id: r.outcomes for r in parsed.records}
    assert stored[good["record_id"]] == (None, 3, None, None, 10, *[None] * 7)
    assert stored[old["record_id"]] is None
    reasons = [(r["field"], r["reason"]) for r in parsed.rejected]
    allowed = ", ".join(OUTCOME_KINDS)
    assert reasons == [
        ("outcomes", f"outcomes: unknown key; use only {allowed}"),
        ("outcomes.commits", "outcomes.commits: must be an integer >= 0"),
        ("outcomes.commits", "outcomes.commits: must be an integer >= 0"),
        ("outcomes.commits", "outcomes.commits: must be at most 1000000000000"),
        ("outcomes", "outcomes: must be an object of outcome counts"),
        ("outcomes", f"outcomes: unknown key; use only {allowed}"),
    ]
    assert "acepted" not in str(reasons) and "\x1b" not in str(reasons)  # keys never echoed
