"""Where one small batch's CPU goes in the ingest service: each step of `POST /v1/batches`
timed in-process (CPU time of this process, one thread) over the fleet's own bodies. What the
whole service spends per batch minus these is the HTTP server, the framework and the hops
to the thread pool (bench/bench_fleet.py prints both).
"""

from __future__ import annotations

import io
import json
import logging
import time
from typing import Any

from aitally.ingest.auth import token_hash
from aitally.ingest.body import gunzip_capped
from aitally.ingest.identity import (
    Attribution,
    Enrollment,
    KeyRing,
    attribute,
    level_of_record,
    owner_tags,
)
from aitally.ingest.jsonlog import JsonFormatter
from aitally.ingest.metrics import Metrics
from aitally.ingest.storage import Storage
from aitally.ingest.wire import Batch, parse_batch

# In the order the service runs them (the token is checked first, in the batch's transaction).
STEPS = ("token lookup", "gunzip", "json", "validate", "identity", "store", "logging", "metrics")


def _identity(keys: KeyRing, who: Enrollment, batch: Batch, now: float) -> list[Attribution]:
    """As ingest/api_batches.py: one attribution per level a record is shaped for."""
    by_shape: dict[str, Attribution] = {}
    out = []
    for r in batch.records:
        shape = level_of_record(r.kind, r.user, r.privacy_level)
        if shape not in by_shape:
            by_shape[shape] = attribute(keys, who, shape, batch.batch_id, now)
        out.append(by_shape[shape])
    return out


def per_batch_us(
    storage: Storage, keys: KeyRing, token: str, bodies: list[bytes]
) -> dict[str, float]:
    """Microseconds of CPU per batch for each step, averaged over bodies (each stored once)."""
    log = logging.getLogger("bench.ingest_stages")
    log.propagate = False
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(JsonFormatter())
    log.handlers = [handler]
    log.setLevel(logging.INFO)
    metrics = Metrics()
    clock = time.process_time
    spent = dict.fromkeys(STEPS, 0.0)
    for raw in bodies:
        t0 = clock()
        # As the service: the token is the first read of the batch's own transaction.
        with storage.upload(token_hash(token)) as upload:
            who = upload.device
            assert who is not None
            t1 = clock()
            body = gunzip_capped(raw)
            t2 = clock()
            doc = json.loads(body)
            t3 = clock()
            now = time.time()
            batch = parse_batch(doc, now)
            t4 = clock()
            attributions = _identity(keys, who, batch, now)
            mine = owner_tags(keys, who.device_id)
            t5 = clock()
            stored = upload.store(batch, attributions, mine, now)
        t6 = clock()  # the commit included
        extra: dict[str, Any] = {"event": "request", "device": who.device_id, "ms": 1.0}
        log.info("POST /v1/batches 200", extra={**extra, "accepted": stored.accepted})
        t7 = clock()
        metrics.requests.labels(route="/v1/batches", status="200").inc()
        metrics.request_seconds.labels(route="/v1/batches").observe(0.003)
        for result in ("accepted", "duplicate", "rejected"):
            metrics.records.labels(result=result).inc(1)
        t8 = clock()
        marks = (t0, t1, t2, t3, t4, t5, t6, t7, t8)
        for step, begin, end in zip(STEPS, marks[:-1], marks[1:], strict=True):
            spent[step] += end - begin
    return {step: round(spent[step] * 1e6 / len(bodies), 1) for step in STEPS}
