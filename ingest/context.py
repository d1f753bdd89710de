"""The service's settings and the shared state every request handler reaches."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from aitally.ingest.identity import KeyRing
from aitally.ingest.metrics import Metrics
from aitally.ingest.oidc import OidcSettings, Verifier
from aitally.ingest.ratelimit import DeviceBuckets, InFlight
from aitally.ingest.report_cache import CachedReports
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
    # Enrollment and admin authentication per source address: a burst, then one per rate.
    enroll_rate: float = 0.2
    enroll_burst: float = 30.0
    admin_fail_rate: float = 0.1
    admin_fail_burst: float = 10.0
    # A person (one login) may have this many active devices; more is a sybil or a leak.
    max_enrollments: int = 5
    # No enrollment is stored less strictly than this level, whatever the agent asks.
    privacy_floor: str = "identified"
    retention_months: int = 13
    # Whether this process runs the periodic tasks (retention purge, report refresh): one
    # worker of several does.
    retention_worker: bool = True
    # Seconds between the report cache's refresh passes (aitally.ingest.report_refresh);
    # reports lag the uploads by at most this plus one pass. 0: no cache, every report live.
    report_refresh: float = 120.0
    docs: bool = False
    # The absolute usage-level recipe IT sets: hours a week (average of the last 4 full
    # weeks) at or above which a person is heavy, moderate, light (aitally.ingest.levels).
    absolute_hours: tuple[float, float, float] = (10.0, 4.0, 1.0)
    # Proof of identity at enrollment (ingest/oidc.py); None: enroll-secret mode only.
    oidc: OidcSettings | None = None


@dataclass
class Context:
    """Settings plus the storage, metrics and back-pressure state all requests share."""

    settings: Settings
    storage: Storage
    keys: KeyRing
    metrics: Metrics = field(default_factory=Metrics)
    buckets: DeviceBuckets = field(init=False)
    inflight: InFlight = field(init=False)
    enroll_buckets: DeviceBuckets = field(init=False)
    admin_fail_buckets: DeviceBuckets = field(init=False)
    verifier: Verifier | None = field(init=False)
    reports: CachedReports = field(init=False)

    def __post_init__(self) -> None:
        self.buckets = DeviceBuckets(self.settings.device_rate, self.settings.device_burst)
        self.inflight = InFlight(self.settings.max_inflight, self.metrics.inflight.set)
        s = self.settings
        self.enroll_buckets = DeviceBuckets(s.enroll_rate, s.enroll_burst)
        self.admin_fail_buckets = DeviceBuckets(s.admin_fail_rate, s.admin_fail_burst)
        self.verifier = Verifier(s.oidc) if s.oidc else None
        self.reports = CachedReports(self.storage, s.report_refresh > 0, s.absolute_hours)


MIN_SECRET_CHARS = 16


def check_secrets(settings: Settings) -> list[str]:
    """What is wrong with the configured secrets (too short, admin token = enroll secret)."""
    problems = []
    for name, value in (
        (ENV_ENROLL_SECRET, settings.enroll_secret),
        (ENV_ADMIN_TOKEN, settings.admin_token),
    ):
        if value is not None and len(value) < MIN_SECRET_CHARS:
            problems.append(f"{name} is shorter than {MIN_SECRET_CHARS} characters")
    if settings.admin_token and settings.admin_token == settings.enroll_secret:
        problems.append(f"{ENV_ADMIN_TOKEN} must differ from {ENV_ENROLL_SECRET}")
    return problems
