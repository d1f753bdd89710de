"""Outcome counts on the wire: in every record at every privacy level (summed per day at
aggregate), as OTLP attributes, and accepted by the ingest schema with or without them."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from aitally.core.observation import Activity, OutcomeCounts
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store
from aitally.core.wire import OUTCOME_KINDS
from aitally.ingest.wire import parse_batch, parse_record
from aitally.uploader import otlp
from aitally.uploader.preview import next_body
from tests.uploader.helpers import open_store, write_config

EDITS = {"lines_removed": 2, "edits_proposed": 3, "edits_accepted": 2, "lines_added": 9}
SHELL = {"commands_run": 4, "commands_failed": 1}


def make_sessions(store: Store, start: float) -> None:
    """Three closed sessions: one with edits, one with shell calls, one with no outcome."""
    sz = Sessionizer(store, idle_timeout=60)
    obs: list[Any] = []
    for i, counts in enumerate((EDITS, SHELL, None)):
        key = f"s-{start:.0f}-{i}"
        obs.append(Activity("claude-code", key, start + i, kind="prompt"))
        if counts is not None:
            obs.append(OutcomeCounts("claude-code", key, start + i + 1, counts, f"k{start}{i}"))
    sz.apply(obs)
    sz.close_idle(start + 3600)


def records(level: str, start: float) -> list[dict[str, Any]]:
    cfg = write_config(f'[privacy]\nlevel = "{level}"')
    store = open_store()
    make_sessions(store, start)
    recs: list[dict[str, Any]] = json.loads(next_body(cfg, store)[0])["records"]
    store.close()
    return recs


@pytest.mark.parametrize("level", ["identified", "pseudonymous", "anonymous"])
def test_every_level_sends_each_segments_outcomes_in_order(level: str) -> None:
    recs = records(level, time.time() - 7200)
    got = sorted((r.get("outcomes") for r in recs), key=lambda o: json.dumps(o))
    assert got == sorted([EDITS, SHELL, None], key=lambda o: json.dumps(o))
    for r in recs:
        if "outcomes" in r:  # the wire's order of kinds, whatever order they were counted in
            assert list(r["outcomes"]) == [k for k in OUTCOME_KINDS if k in r["outcomes"]]


def test_aggregate_sums_the_outcomes_of_a_day() -> None:
    day = 86400
    yesterday = (time.time() // day - 1) * day + 3600
    (total,) = [r for r in records("aggregate", yesterday) if r["kind"] == "daily_total"]
    assert total["sessions"] == 3
    assert total["outcomes"] == {**EDITS, **SHELL} and list(total["outcomes"]) == [
        "edits_proposed",
        "edits_accepted",
        "lines_added",
        "lines_removed",
        "commands_run",
        "commands_failed",
    ]


def test_otlp_carries_each_recorded_kind_as_an_integer_attribute() -> None:
    (rec,) = [r for r in records("pseudonymous", time.time() - 7200) if r.get("outcomes") == EDITS]
    msg = json_format.Parse(otlp.export_request([rec], {}, 1.0), ExportLogsServiceRequest())
    attrs = {a.key: a.value for a in msg.resource_logs[0].scope_logs[0].log_records[0].attributes}
    sent = {k: v.int_value for k, v in attrs.items() if k.startswith("aitally.outcomes.")}
    # Kinds the tool did not record are absent, never 0.
    assert sent == {f"aitally.outcomes.{k}": v for k, v in EDITS.items()}


def test_the_ingest_schema_accepts_records_with_and_without_outcomes() -> None:
    recs = records("pseudonymous", time.time() - 7200)
    assert sum("outcomes" in r for r in recs) == 2 and len(recs) == 3
    now = time.time()
    for r in recs:
        parsed = parse_record(r, now)
        assert parsed.record_id == r["record_id"]
    envelope = json.loads(json.dumps({"schema": "aitally.batch.v1", "records": recs}))
    batch = parse_batch(
        {**envelope, "batch_id": "00000000-0000-4000-8000-000000000001", "sent_at": None}, now
    )
    assert len(batch.records) == 3 and not batch.rejected
