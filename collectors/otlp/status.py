"""The OTLP receiver's part of `aitally status`: enabled, port, accepted and rejected, last batch.

The receiver (collectors/otlp/receiver.py) saves its bound port when it starts and the time of
each accepted batch in the same transaction as the batch, in the store's kv table; the counts
are the store's counters (`otlp_received` records by signal, `otlp_rejected` requests by
reason, `otlp_dropped` records by reason), so a command line reads it without the agent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aitally.core.config import Config
from aitally.core.store import Store
from aitally.core.timerange import iso

# kv keys: what the receiver saved when it started, and when it last accepted a batch.
KV_STATUS = "otlp_receiver"
KV_LAST_BATCH = "otlp_last_batch"


def last_batch_key(tool: str) -> str:
    """The kv key of the time the receiver last accepted a batch on the tool's own path."""
    return f"{KV_LAST_BATCH}:{tool}"


def read_tool_last_batch(store: Store, tool: str) -> float | None:
    """When a batch last came in on the path install gave `tool`; None if never."""
    return _float(store.kv_get(last_batch_key(tool)))


@dataclass(frozen=True, slots=True)
class OtlpReceiverStatus:
    """The receiver's status; times are Unix seconds (ISO 8601 UTC when shown).

    Attributes:
        enabled: `[otlp_receiver] enabled` in the configuration in force.
        port: the port the receiver last bound (the configured one before it ever started).
        started_at: when the receiver last started listening; None if never.
        last_batch: when it last accepted (and wrote) a batch; None if never.
        accepted: records accepted by signal (logs, metrics, traces).
        rejected: requests refused by reason (unauthorized, too_large, malformed, ...).
        dropped: accepted records not counted, by reason (not_mapped, no_request_id, ...).
    """

    enabled: bool
    port: int
    started_at: float | None = None
    last_batch: float | None = None
    accepted: Mapping[str, int] = field(default_factory=dict)
    rejected: Mapping[str, int] = field(default_factory=dict)
    dropped: Mapping[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The `otlp_receiver` object of `aitally status --json`."""
        return {
            "enabled": self.enabled,
            "port": self.port,
            "started_at": iso(self.started_at),
            "last_batch": iso(self.last_batch),
            "accepted": dict(self.accepted),
            "accepted_total": sum(self.accepted.values()),
            "rejected": dict(self.rejected),
            "rejected_total": sum(self.rejected.values()),
            "dropped": dict(self.dropped),
        }

    def summary_line(self) -> str:
        """The `otlp receiver:` line of the text `aitally status`."""
        if not self.enabled:
            return "off ([otlp_receiver] enabled = false)"
        last = iso(self.last_batch) or "never"
        return (
            f"port {self.port}, accepted {sum(self.accepted.values())} records, "
            f"rejected {sum(self.rejected.values())} requests, last batch {last}"
        )


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _saved(store: Store) -> dict[str, Any]:
    """What the receiver saved when it last started; empty when never or unreadable."""
    try:
        saved = json.loads(store.kv_get(KV_STATUS) or "{}")
    except ValueError:
        return {}
    return saved if isinstance(saved, dict) else {}


def read_saved_port(store: Store) -> int | None:
    """The port the receiver last bound, or None if it never started."""
    port = _saved(store).get("port")
    return port if isinstance(port, int) and not isinstance(port, bool) else None


def read_status(cfg: Config, store: Store) -> OtlpReceiverStatus:
    """The receiver's status as the configuration and the store hold it now."""
    saved = _saved(store)
    port = read_saved_port(store)
    return OtlpReceiverStatus(
        enabled=bool(cfg.get("otlp_receiver", "enabled")),
        port=port if port is not None else int(cfg.get("otlp_receiver", "port")),
        started_at=_float(saved.get("started_at")),
        last_batch=_float(store.kv_get(KV_LAST_BATCH)),
        accepted=store.counters("otlp_received"),
        rejected=store.counters("otlp_rejected"),
        dropped=store.counters("otlp_dropped"),
    )
