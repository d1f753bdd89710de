"""Reports never hold up ingest: while reports run against a fleet's database (on their own
connections, in the threadpool, never inside a write transaction), and while the report cache's
refresh passes run, a bounded stream of uploads is answered 200 every time, promptly, on SQLite
and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from pathlib import Path

import pytest
import requests

from aitally.ingest.storage import open_storage
from tests.ingest import fleet_db
from tests.ingest.builders import batch, record
from tests.ingest.conftest import ADMIN_TOKEN, BACKENDS, Server, backend_db

PEOPLE = 1000  # reports over it take seconds on this machine, the window the uploads use
UPLOADS = 150
DEVICES = 6
WORST_UPLOAD = 3.0  # seconds; a batch queued behind a report would wait for all of it


class Reports(threading.Thread):
    """Asks for the heaviest reports in a loop until stopped; when each ran, and answers."""

    def __init__(self, server: Server) -> None:
        super().__init__(daemon=True)
        self.url = server.url
        self.spans: list[tuple[float, float]] = []
        self.statuses: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
        paths = ["/v1/reports/adoption?granularity=day", "/dashboard"]
        while not self.stop.is_set():
            path = paths[len(self.spans) % len(paths)]
            started = time.time()
            self.statuses.append(http.get(self.url + path, timeout=300).status_code)
            self.spans.append((started, time.time()))


@pytest.fixture(params=BACKENDS)
def fleet(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database holding the fleet of PEOPLE, on each backend."""
    db = backend_db(request, tmp_path)
    storage = open_storage(db)
    try:
        fleet_db.fill(storage, PEOPLE)
    finally:
        storage.close()
    return db


def _passes(server: Server) -> list[tuple[float, float]]:
    """When each report refresh pass ran (the service's log)."""
    spans = []
    for line in server.log.read_text().splitlines():
        doc = json.loads(line) if line.startswith("{") else {}
        if doc.get("event") == "report_refresh":
            end = dt.datetime.fromisoformat(doc["ts"]).timestamp()
            spans.append((end - float(doc["seconds"]), end))
    return spans


@pytest.mark.parametrize("refresh", ["0", "1"], ids=["live", "cached"])
def test_uploads_go_on_while_reports_run(fleet: str, tmp_path: Path, refresh: str) -> None:
    db = fleet
    server = Server(db, tmp_path, "--device-rate", "0", "--report-refresh", refresh)
    reports = Reports(server)
    try:
        tokens = [server.enroll(f"laptop-{i}", login=f"dev{i}")[1] for i in range(DEVICES)]
        reports.start()
        time.sleep(1.0)  # the first report is under way
        timings: list[tuple[float, float, int]] = []
        for i in range(UPLOADS):
            body = batch([record(user=None) for _ in range(1 + i % 5)])
            sent = time.time()
            status = server.post(tokens[i % DEVICES], body).status_code
            timings.append((sent, time.time() - sent, status))
        reports.stop.set()
        reports.join(timeout=300)
    finally:
        reports.stop.set()
        server.stop()
    statuses = [s for _, _, s in timings]
    assert statuses == [200] * UPLOADS, f"uploads answered {sorted(set(statuses))}"
    assert reports.statuses and set(reports.statuses) == {200}
    # With the cache, the refresher's passes (the first fills it) read beside the uploads too.
    busy = reports.spans + _passes(server)
    during = [t for t in timings if any(a <= t[0] <= b for a, b in busy)]
    assert len(during) >= UPLOADS // 2, "the uploads did not overlap the reports"
    worst = max(latency for _, latency, _ in during)
    assert worst < WORST_UPLOAD, f"an upload beside a report took {worst:.2f} s"
