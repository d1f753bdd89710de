"""Record and envelope validation: each bad field named, good records kept."""

from __future__ import annotations

import time
from typing import Any

import pytest

from aitally.ingest.wire import EnvelopeError, RecordError, parse_batch, parse_record
from tests.ingest.builders import batch, record

NOW = time.time()


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("record_id", "not-a-uuid", "record_id: required, a UUID string"),
        ("kind", "other", "kind: must be one of"),
        ("tool", "Claude Code", "tool: required, a tool id slug"),
        ("surface", "tv", "surface: must be one of"),
        ("started_at", "yesterday", "started_at: must be an ISO 8601"),
        ("started_at", "2026-11-20T10:00:00", "started_at: must carry a time zone"),
        ("ended_at", "2019-01-01T00:00:00Z", "ended_at: out of range"),
        ("active_seconds", -1, "active_seconds: must be a number between"),
        ("active_seconds", True, "active_seconds: must be a number >= 0"),
        ("turns", 1.5, "turns: must be an integer >= 0"),
        ("sessions", 0, "sessions: must be an integer >= 1"),
        ("tokens", {"input": -5}, "tokens.input: must be an integer >= 0 or null"),
        ("tokens", [1, 2], "tokens: must be an object"),
        ("models", {"m": {"output": "many"}}, "models.m.output: must be an integer"),
        ("signals", ["keyboard"], "signals: must be a list of"),
        ("project", "/home/alice/secret-project", "project: must be a keyed hash"),
        ("org_unit", "eng\nops", "org_unit: must be 1..128 printable"),
        # Past 64 bits these broke the database insert (a 500 the agent retries forever);
        # below it, two records summed past 2**63 broke every report.
        ("turns", 10**30, "turns: must be at most"),
        ("sessions", 2**63, "sessions: must be at most"),
        ("tokens", {"input": 2**62}, "tokens.input: must be at most"),
        ("models", {"m": {"output": 10**25}}, "models.m.output: must be at most"),
        ("active_seconds", 10**400, "active_seconds: must be a number between"),
        ("active_seconds", float("nan"), "active_seconds: must be a number between"),
        # A lone surrogate cannot be encoded to UTF-8 for the database or the answer.
        ("user", "\ud800", "user: must be 1..256 printable"),
        ("models", {"\udfff": {}}, "models: model names must be"),
    ],
)
def test_bad_field_is_named(field: str, value: Any, reason: str) -> None:
    with pytest.raises(RecordError) as err:
        bad: dict[str, Any] = {field: value}
        parse_record(record(**bad), NOW)
    assert str(err.value).startswith(reason)


def test_missing_required_and_wrong_order() -> None:
    rec = record()
    del rec["tool"]
    with pytest.raises(RecordError, match=r"^tool: required"):
        parse_record(rec, NOW)
    with pytest.raises(RecordError, match=r"^ended_at: must not be before started_at"):
        parse_record(
            record(started_at="2026-11-20T12:00:00Z", ended_at="2026-11-20T11:00:00Z"), NOW
        )


def test_unknown_fields_ignored_nulls_kept() -> None:
    r = parse_record(record(future_field={"x": 1}, tokens=None, user=None), NOW)
    assert r.tokens is None and r.user is None
    assert r.models["claude-sonnet-4"] == (100, 50, None, None, None)


def test_envelope_errors() -> None:
    with pytest.raises(EnvelopeError) as e:
        parse_batch([1, 2], NOW)
    assert e.value.status == 400
    with pytest.raises(EnvelopeError) as e:
        parse_batch(batch([], schema="aitally.batch.v9"), NOW)
    assert e.value.status == 422
    with pytest.raises(EnvelopeError) as e:
        parse_batch(batch([record() for _ in range(501)]), NOW)
    assert e.value.status == 413


def test_envelope_text_and_health_that_cannot_be_stored() -> None:
    with pytest.raises(EnvelopeError) as e:
        parse_batch(batch([], batch_id="\ud800"), NOW)
    assert e.value.status == 400
    doc = batch(
        [record(record_id="\ud800", turns=-1)],
        agent={"version": "\ud800", "os": "linux"},
        health={"queue_depth": 2**64, "dropped": {"\ud800": 1, "size": 10**20, "age": 3}},
    )
    parsed = parse_batch(doc, NOW)
    assert (parsed.agent_version, parsed.agent_os) == (None, "linux")
    assert parsed.health == {"dropped": {"age": 3}}
    assert parsed.rejected[0]["record_id"] is None


def test_bad_record_rejected_alone() -> None:
    good, bad = record(), record(turns=-1)
    parsed = parse_batch(batch([good, bad, "text"]), NOW)
    assert [r.record_id for r in parsed.records] == [good["record_id"]]
    assert [(r["index"], r["field"]) for r in parsed.rejected] == [(1, "turns"), (2, "record")]
    assert parsed.health == {
        "queue_depth": 12,
        "dropped": {"age": 2, "size": 0},
        "parse_errors": {"codex": 1},
        "dead_letter": 0,
    }
