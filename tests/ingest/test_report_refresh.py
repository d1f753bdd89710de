"""The report refresher (aitally.ingest.report_refresh) in a real service: passes run in one
worker of several; `--report-refresh 0` caches nothing and answers live; answers and the
dashboard carry as_of; an upload shows in the reports after a pass; a batch whose transaction
was open across a pass is found by the next one (PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from aitally.ingest.report_cache import CachedReports
from aitally.ingest.report_refresh import refresh_pass
from aitally.ingest.storage import Storage, open_storage
from tests.ingest.builders import record
from tests.ingest.cache_fleet import HOURS, fill, uploading
from tests.ingest.conftest import BACKENDS, PgCluster, Server, backend_db

YESTERDAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


def _passes(server: Server) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line[:1] == "{"]
    return [doc for doc in lines if doc.get("event") == "report_refresh"]


def _wait_for(condition: object, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _active(server: Server, tool: str) -> int | None:
    doc = server.admin("GET", f"/v1/reports/adoption?granularity=day&since={YESTERDAY}").json()
    return next((r["active_users"] for r in doc["rows"] if r["tool"] == tool), None)


def test_only_one_worker_refreshes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ingest.db'}"
    server = Server(db, tmp_path, "--workers", "2", "--report-refresh", "0.2")
    try:
        _wait_for(lambda: len(_passes(server)) >= 4)
    finally:
        server.stop()
    passes = _passes(server)
    assert len({p["pid"] for p in passes}) == 1, "more than one worker refreshed"
    assert passes[0]["computed"] and not passes[-1]["computed"]  # filled, then nothing new


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend."""
    return backend_db(request, tmp_path)


def test_an_upload_shows_after_a_pass_and_as_of_moves(db: str, tmp_path: Path) -> None:
    server = Server(db, tmp_path, "--report-refresh", "1", "--min-group-size", "1")
    try:
        _wait_for(lambda: len(_passes(server)) >= 1)
        first = server.admin("GET", "/v1/reports/usage").json()["as_of"]
        server.post_as("ada", [record(day=YESTERDAY, tool="codex")])
        _wait_for(lambda: _active(server, "codex") == 1)
        later = server.admin("GET", "/v1/reports/usage").json()["as_of"]
        assert later > first
        page = server.admin("GET", "/dashboard").text
        assert 'data-as-of="' in page and "Figures as of" in page
    finally:
        server.stop()


def test_no_cache_when_refresh_is_zero(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ingest.db'}"
    server = Server(db, tmp_path, "--report-refresh", "0", "--min-group-size", "1")
    try:
        server.post_as("ada", [record(day=YESTERDAY, tool="codex")])
        assert _active(server, "codex") == 1
        server.post_as("bob", [record(day=YESTERDAY, tool="codex")])
        assert _active(server, "codex") == 2  # live: at once
        assert server.admin("GET", "/v1/reports/levels").json()["as_of"]
        time.sleep(0.5)
    finally:
        server.stop()
    assert not _passes(server)
    storage = open_storage(db)
    try:
        assert not storage.cached_entries()
    finally:
        storage.close()


@pytest.fixture
def pg_storage(pg_cluster: PgCluster) -> Iterator[Storage]:
    storage = open_storage(pg_cluster.new_database())
    fill(storage)
    yield storage
    storage.close()


@pytest.mark.postgres
def test_a_batch_open_across_a_pass_is_found_by_the_next(pg_storage: Storage) -> None:
    cache = CachedReports(pg_storage, True, HOURS)
    refresh_pass(cache, 1)
    before = cache.period_report("usage", "day", YESTERDAY, YESTERDAY, 1)
    with uploading(pg_storage, "late", [record(day=YESTERDAY, tool="newtool")]):
        during = refresh_pass(cache, 1)  # the batch is not committed: nothing to see yet
    assert during.computed == 0
    assert cache.period_report("usage", "day", YESTERDAY, YESTERDAY, 1)["rows"] == before["rows"]
    refresh_pass(cache, 1)
    after = cache.period_report("usage", "day", YESTERDAY, YESTERDAY, 1)
    assert "newtool" in {r["tool"] for r in after["rows"]}
