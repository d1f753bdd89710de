"""The service's settings and the shared state every request handler reaches."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from aitally.ingest.metrics import Metrics
from aitally.ingest.ratelimit import DeviceBuckets, InFlight
from aitally.ingest.storage import Storage

ENV_ENROLL_SECRET = "AITALLY_INGEST_ENROLL_SECRET"
ENV_ADMIN_TOKEN = "AITALLY_INGEST_ADMIN_TOKEN"


@dataclass
class Settings:
    """How this service instance runs: database, secrets, group size, back-pressure."""

    db: str
    # Secrets come from the environment, not the command line, where `ps` would show them.
    enroll_secret: str | None = field(default_factory=lambda: os.environ.get(ENV_ENROLL_SECRET))
    admin_token: str | None = field(default_factory=lambda: os.environ.get(ENV_ADMIN_TOKEN))
    # Groups under 5 people are suppressed, as Viva Insights and Copilot metrics do.
    min_group_size: int = 5
    # An agent uploads every 5 min and splits large backlogs into 500-record batches;
    # 2 batches/s with a burst of 60 drains a 30 000-record backlog without a 429.
    device_rate: float = 2.0
    device_burst: float = 60.0
    # Past this many batches in flight the answer is 503 + Retry-After rather than an
    # ever-growing queue of waiting requests (uvicorn's limit_concurrency does the same).
    max_inflight: int = 256


@dataclass
class Context:
    """Settings plus the storage, metrics and back-pressure state all requests share."""

    settings: Settings
    storage: Storage
    metrics: Metrics = field(default_factory=Metrics)
    buckets: DeviceBuckets = field(init=False)
    inflight: InFlight = field(init=False)

    def __post_init__(self) -> None:
        self.buckets = DeviceBuckets(self.settings.device_rate, self.settings.device_burst)
        self.inflight = InFlight(self.settings.max_inflight)
