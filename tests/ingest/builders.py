"""Builds wire-protocol records and batches for the ingest tests and the benchmark."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any


def iso(day: dt.date, hour: int = 10) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00Z"


def record(
    *,
    day: dt.date | None = None,
    user: str | None = "hmac:k1:" + "ab" * 16,
    tool: str = "claude-code",
    org_unit: str | None = "eng",
    active: float = 600.0,
    n_tokens: int = 100,
    model: str = "claude-sonnet-4",
    **overrides: Any,
) -> dict[str, Any]:
    day = day or dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    rec: dict[str, Any] = {
        "record_id": str(uuid.uuid4()),
        "kind": "segment",
        "tool": tool,
        "surface": "cli",
        "tool_version": "2.0.1",
        "started_at": iso(day, 10),
        "ended_at": iso(day, 11),
        "active_seconds": active,
        "present_seconds": active + 60,
        "turns": 3,
        "sessions": 1,
        "tokens": {
            "input": n_tokens,
            "output": n_tokens // 2,
            "cache_read": 0,
            "cache_write": 0,
            "reasoning": None,
        },
        "models": {model: {"input": n_tokens, "output": n_tokens // 2}},
        "signals": ["process", "transcript"],
        "project": "hmac:k1:" + "cd" * 16,
        "user": user,
        "device": "hmac:k1:" + "ef" * 16,
        "org_unit": org_unit,
    }
    rec.update(overrides)
    return rec


def batch(records: list[Any], **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "schema": "aitally.batch.v1",
        "batch_id": str(uuid.uuid4()),
        "sent_at": "2026-11-25T21:00:00Z",
        "agent": {"version": "0.1.0", "os": "linux"},
        "health": {
            "queue_depth": 12,
            "dropped": {"age": 2, "size": 0},
            "parse_errors": {"codex": 1},
            "dead_letter": 0,
        },
        "records": records,
    }
    doc.update(overrides)
    return doc
