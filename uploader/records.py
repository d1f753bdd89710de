"""Upload records and batch bodies, built at send time from the store and the privacy policy."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
import uuid
from typing import Any

from aitally.core.outcomes import in_order
from aitally.core.store.records import closed_segment, segment_models
from aitally.core.store.segments import outcomes_of
from aitally.core.wire import BATCH_SCHEMA, TOKEN_KINDS
from aitally.uploader.policy import DAY, Policy
from aitally.uploader.version import agent_version

_BATCH_NAMESPACE = uuid.UUID("3b0c8f2e-53a4-4f0f-9b7e-2f6c7f1e9d10")
Record = dict[str, Any]


def iso(t: float) -> str:
    """`t` (Unix seconds) as an ISO 8601 UTC time to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def tokens_or_null(values: dict[str, int | None]) -> dict[str, int | None] | None:
    """None when the tool records no token figure at all (distinct from zero)."""
    if all(values.get(k) is None for k in TOKEN_KINDS):
        return None
    return {k: values.get(k) for k in TOKEN_KINDS}


def _with_outcomes(rec: Record, counts: dict[str, int]) -> Record:
    """Adds `outcomes` when any kind was recorded; absent otherwise (docs/wire-protocol.md)."""
    ordered = in_order(counts)
    if ordered:
        rec["outcomes"] = ordered
    return rec


def _base(
    policy: Policy,
    rid: str,
    kind: str,
    tool: str,
    started: float,
    ended: float,
) -> Record:
    return {
        "record_id": rid,
        "kind": kind,
        "tool": tool,
        "surface": None,
        "tool_version": None,
        "started_at": iso(policy.round_start(started)),
        "ended_at": iso(max(policy.round_start(started), policy.round_end(ended))),
        "active_seconds": 0,
        "present_seconds": 0,
        "turns": 0,
        "sessions": 1,
        "tokens": None,
        "models": {},
        "signals": [],
        "project": None,
        "user": policy.user(),
        "device": policy.device(),
        "org_unit": policy.org_unit,
        # The server stores a record no less strictly than this (docs/wire-protocol.md).
        "privacy_level": policy.level,
    }


def _segment(conn: sqlite3.Connection, policy: Policy, rid: str, segment_id: int) -> Record | None:
    """The record of one closed segment; None when it is gone or still open."""
    row = closed_segment(conn, segment_id)
    if row is None:
        return None
    rec = _base(policy, rid, "segment", row["tool"], row["started_at"], row["ended_at"])
    models = segment_models(conn, segment_id)
    rec.update(
        surface=row["surface"],
        tool_version=row["tool_version"],
        active_seconds=round(row["active_seconds"], 3),
        present_seconds=round(row["present_seconds"], 3),
        turns=row["turns"],
        tokens=tokens_or_null({k: row[f"tok_{k}"] for k in TOKEN_KINDS}),
        models={m["model"]: {k: m[k] for k in TOKEN_KINDS} for m in models},
        signals=sorted(filter(None, row["signals"].split(","))),
        project=policy.project(row["project"]),
    )
    return _with_outcomes(rec, outcomes_of(conn, [segment_id]).get(segment_id, {}))


def _from_payload(policy: Policy, rid: str, kind: str, payload: dict[str, Any]) -> Record:
    """The record of a pause or a daily total, from the payload stored with it."""
    if kind == "pause":
        return _base(policy, rid, "pause", "aitally", payload["started_at"], payload["ended_at"])
    # daily_total: already summed at roll-up; the day is its whole span.
    rec = _base(policy, rid, kind, payload["tool"], payload["day"], payload["day"])
    rec["ended_at"] = iso(payload["day"] + DAY)
    for key in ("active_seconds", "present_seconds", "turns", "sessions", "tokens", "models"):
        rec[key] = payload[key]
    rec.update(signals=payload["signals"], surface=payload.get("surface"), user=None, device=None)
    return _with_outcomes(rec, payload.get("outcomes") or {})


def build(conn: sqlite3.Connection, policy: Policy, row: sqlite3.Row) -> Record | None:
    """The record for one outbox row; None if its segment no longer exists."""
    if row["kind"] == "segment":
        if row["segment_id"] is None:
            return None
        return _segment(conn, policy, row["record_id"], int(row["segment_id"]))
    return _from_payload(policy, row["record_id"], row["kind"], json.loads(row["payload"]))


def encode(value: Any) -> bytes:
    """The one JSON encoding of what leaves the machine (preview prints exactly these bytes)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def batch_id(records: list[Record]) -> str:
    """Deterministic: re-sending the same records after a crash repeats the same batch id."""
    ids = "\x1f".join(sorted(r["record_id"] for r in records))
    return str(uuid.uuid5(_BATCH_NAMESPACE, ids))


def envelope(records: list[Record], health: dict[str, Any], sent_at: float) -> dict[str, Any]:
    """The batch as the ingest service takes it: schema, batch id, agent, health, records."""
    return {
        "schema": BATCH_SCHEMA,
        "batch_id": batch_id(records),
        "sent_at": iso(sent_at),
        "agent": {"version": agent_version(), "os": sys.platform},
        "health": health,
        "records": records,
    }


def body(records: list[Record], health: dict[str, Any], sent_at: float) -> bytes:
    """The encoded batch envelope, before compression."""
    return encode(envelope(records, health, sent_at))
