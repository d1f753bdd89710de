"""/metrics through prometheus_client: exact values, conventional names, every known series
present from the first scrape, build and process metrics (ingest/metrics.py)."""

from __future__ import annotations

import platform
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from aitally.core.cli_args import installed_version
from aitally.ingest.metrics import Metrics
from tests.ingest.conftest import Server

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, read by prometheus_client's parser."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_counter_past_a_million_prints_exactly() -> None:
    m = Metrics()
    m.records.labels(result="accepted").inc(1_234_568)
    m.records.labels(result="duplicate").inc(123_456_789_013)
    text = m.render()[0].decode()
    lines = [x for x in text.splitlines() if x.startswith("aitally_ingest_records_total")]
    values = {x.split(" ")[0]: x.split(" ")[1] for x in lines}
    # `%g` printed these as 1.23457e+06 and 1.23457e+11: every digit is kept now.
    assert float(values['aitally_ingest_records_total{result="accepted"}']) == 1_234_568
    assert float(values['aitally_ingest_records_total{result="duplicate"}']) == 123_456_789_013
    assert "1.23457e+06" not in text


def test_series_exist_before_first_use(tmp_path: Path) -> None:
    server = Server(f"sqlite:///{tmp_path / 'ingest.db'}", tmp_path)
    try:
        r = server.http.get(server.url + "/metrics")  # the first request of all
        opened = server.http.get(
            server.url + "/metrics", headers={"Accept": "application/openmetrics-text"}
        )
    finally:
        server.stop()
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert opened.headers["content-type"].startswith("application/openmetrics-text")
    assert opened.text.rstrip().endswith("# EOF")
    got = samples(r.text)
    for result in ("accepted", "duplicate", "rejected"):
        assert got[("aitally_ingest_records_total", (("result", result),))] == 0
    for status in ("400", "413", "429", "503"):
        assert got[("aitally_ingest_batches_refused_total", (("status", status),))] == 0
    assert got[("aitally_ingest_rejects_total", (("field", "turns"),))] == 0
    batches = (("route", "/v1/batches"),)
    assert got[("aitally_ingest_request_duration_seconds_count", batches)] == 0
    assert got[("aitally_ingest_requests_total", (*batches, ("status", "200")))] == 0
    assert got[("aitally_ingest_inflight_batches", ())] == 0
    build = [
        (dict(labels), v) for (n, labels), v in got.items() if n == "aitally_ingest_build_info"
    ]
    assert build == [({"python": platform.python_version(), "version": installed_version()}, 1.0)]
    assert got[("process_resident_memory_bytes", ())] > 0
    assert ("process_cpu_seconds_total", ()) in got
    # Conventions: counters end in _total, durations are in seconds, no *_created noise.
    names = {name for name, _ in got}
    assert not any(n.endswith("_created") for n in names)
    assert "aitally_ingest_request_seconds_count" not in names
