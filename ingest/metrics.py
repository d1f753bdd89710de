"""The service's Prometheus metrics through prometheus_client, in a registry of its own.

Names follow the Prometheus conventions: counters end in `_total`, the latency histogram is in
seconds, build information is an `_info` series of 1. Every series whose label values are known
is created at start, so a `rate()` over it has data from the first scrape on.

Under `serve --workers N` (aitally.ingest.workers) every worker writes its values to files in
the directory PROMETHEUS_MULTIPROC_DIR names, and a scrape, whichever worker takes it, sums
them all: counters and histograms over the workers, the in-flight gauge over the live ones.
The `process_*` series are left out then, as one worker's figures would pass for the service's.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterable

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from aitally.core.cli_args import installed_version
from aitally.ingest.schema import Record

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
"""Set by the supervisor of several workers: where each worker's values are kept."""
# Seconds; batch handling on loopback runs from ~1 ms (duplicates) to ~1 s (large, contended).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RESULTS = ("accepted", "duplicate", "rejected")
# Whole batches are refused with these (ingest/body.py, ingest/wire.py, ingest/api_batches.py).
REFUSED_STATUSES = ("400", "413", "415", "429", "503")
# A rejected record names a top-level field of the record, "record" (not an object) or
# "record_id" (sent by another device) (ingest/wire.py, ingest/api_batches.py).
REJECT_FIELDS = ("record", *Record.model_fields)


class Metrics:
    """The counters, gauges and histograms of this process, and its exposition."""

    def __init__(self) -> None:
        # The *_created series (one timestamp per series) double the output for nothing a
        # dashboard uses; this process serves no other registry.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry(auto_describe=True)
        shared = os.environ.get(MULTIPROCESS_DIR)
        if shared:
            MultiProcessCollector(self.registry, path=shared)  # type: ignore[no-untyped-call]
        # With several workers the values live in the shared files, not in this registry.
        r = None if shared else self.registry
        self.requests = Counter(
            "aitally_ingest_requests", "HTTP requests by route and status", ["route", "status"],
            registry=r,
        )  # fmt: skip
        self.request_seconds = Histogram(
            "aitally_ingest_request_duration_seconds", "HTTP request latency by route",
            ["route"], buckets=BUCKETS, registry=r,
        )  # fmt: skip
        self.records = Counter(
            "aitally_ingest_records", "records received, by result", ["result"], registry=r
        )
        self.rejects = Counter(
            "aitally_ingest_rejects", "rejected records by the field that failed validation",
            ["field"], registry=r,
        )  # fmt: skip
        self.batches_refused = Counter(
            "aitally_ingest_batches_refused", "whole batches refused, by HTTP status", ["status"],
            registry=r,
        )  # fmt: skip
        self.inflight = Gauge(
            "aitally_ingest_inflight_batches", "batches being processed now", registry=r,
            multiprocess_mode="livesum",
        )  # fmt: skip
        Info("aitally_ingest_build", "the running aitally-ingest", registry=self.registry).info(
            {"version": installed_version() or "unknown", "python": platform.python_version()}
        )
        if not shared:  # process_cpu_seconds_total, resident memory, open fds
            ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)  # python_info
        for result in RESULTS:
            self.records.labels(result=result)
        for status in REFUSED_STATUSES:
            self.batches_refused.labels(status=status)
        for field in REJECT_FIELDS:
            self.rejects.labels(field=field)

    def add_routes(self, routes: Iterable[str]) -> None:
        """Creates the request series of every route (latency, and the count of 200s)."""
        for route in routes:
            self.requests.labels(route=route, status="200")
            self.request_seconds.labels(route=route)

    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """Every series and its content type: the Prometheus text format, or OpenMetrics when
        the scraper's Accept header asks for it."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type
