"""Records that are not one segment: ended pauses, and daily per-tool totals at level aggregate."""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from typing import Any

from aitally.core.outcomes import add_outcomes, in_order
from aitally.core.store import outbox, pauses, uploads
from aitally.core.store.records import queued_segments_started_before, segment_models
from aitally.core.store.segments import outcomes_of
from aitally.core.wire import TOKEN_KINDS
from aitally.uploader.policy import DAY
from aitally.uploader.records import tokens_or_null


def enqueue_pauses(conn: sqlite3.Connection, now: float) -> int:
    """Each ended pause becomes one content-free record, once (a kv mark survives its ack)."""
    n = 0
    for r in pauses.ended(conn, now):
        if uploads.pause_reported(conn, r["id"]):
            continue
        payload = json.dumps({"started_at": r["started_at"], "ended_at": r["ended"]})
        outbox.enqueue_payload(conn, "pause", f"{r['id']}:{r['started_at']}", payload, now)
        uploads.mark_pause_reported(conn, r["id"])
        n += 1
    return n


def _add(total: dict[str, int | None], values: dict[str, Any]) -> None:
    """Adds each token figure present in `values` to `total` (absent figures stay absent)."""
    for k in TOKEN_KINDS:
        if values.get(k) is not None:
            total[k] = (total.get(k) or 0) + int(values[k])


def roll_up_days(conn: sqlite3.Connection, now: float) -> int:
    """Folds segment records of completed UTC days into one daily_total record per tool.

    The total's id covers exactly the segments it sums, so a late segment of an already
    reported day becomes a second, additive total instead of a 'duplicate' the server drops.
    """
    today = math.floor(now / DAY) * DAY
    rows = queued_segments_started_before(conn, today, now=now)
    groups: dict[tuple[str, float], list[sqlite3.Row]] = {}
    for r in rows:
        groups.setdefault((r["tool"], math.floor(r["started_at"] / DAY) * DAY), []).append(r)
    counted = outcomes_of(conn, [int(r["id"]) for r in rows])
    for (tool, day), members in groups.items():
        tokens: dict[str, int | None] = {}
        models: dict[str, dict[str, int | None]] = {}
        signals: set[str] = set()
        outcomes: dict[str, int] = {}
        for m in members:
            add_outcomes(outcomes, counted.get(int(m["id"]), {}))
            _add(tokens, {k: m[f"tok_{k}"] for k in TOKEN_KINDS})
            for mm in segment_models(conn, m["id"]):
                _add(models.setdefault(mm["model"], {}), dict(mm))
            signals.update(filter(None, m["signals"].split(",")))
        surfaces = {m["surface"] for m in members}
        payload = {
            "tool": tool,
            "day": day,
            "surface": surfaces.pop() if len(surfaces) == 1 else None,
            "active_seconds": round(sum(m["active_seconds"] for m in members), 3),
            "present_seconds": round(sum(m["present_seconds"] for m in members), 3),
            "turns": sum(m["turns"] for m in members),
            "sessions": len(members),
            "tokens": tokens_or_null(tokens),
            "models": {k: {t: v.get(t) for t in TOKEN_KINDS} for k, v in sorted(models.items())},
            "signals": sorted(signals),
            "outcomes": in_order(outcomes),
        }
        ids = [m["record_id"] for m in members]
        identity = f"{tool}:{day:.0f}:" + hashlib.sha256("\x1f".join(ids).encode()).hexdigest()
        outbox.enqueue_payload(conn, "daily_total", identity, json.dumps(payload), now)
        outbox.ack(conn, ids)  # folded into the total, which now carries them
    return len(groups)
