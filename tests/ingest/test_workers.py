"""`serve --workers N` and the listening sockets: connections answered without Nagle's delay,
workers on one port whose metrics add up, and a service that stops whole."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from aitally.ingest.workers import listen, listening_socket
from tests.ingest.builders import batch, record
from tests.ingest.conftest import BACKENDS, Server, backend_db
from tests.privacy.conftest import query


def test_accepted_connections_send_without_delay() -> None:
    server = listening_socket("127.0.0.1", 0)
    with server, socket.create_connection(server.getsockname()) as client:
        accepted, _ = server.accept()
        with accepted:
            # asyncio sets TCP_NODELAY only on sockets that say IPPROTO_TCP.
            assert accepted.proto == socket.IPPROTO_TCP
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        del client


def test_several_sockets_share_one_port() -> None:
    sockets = listen("127.0.0.1", 0, 3)
    try:
        assert len({s.getsockname() for s in sockets}) == 1
        assert len(sockets) == (3 if hasattr(socket, "SO_REUSEPORT") else 1)
    finally:
        for s in sockets:
            s.close()


def test_fifty_requests_on_one_kept_alive_connection_wait_for_nothing(
    shared_server: Server,
) -> None:
    _, token = shared_server.enroll(login="kept")
    host, port = shared_server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    bodies = [gzip.compress(json.dumps(batch([record()])).encode()) for _ in range(50)]
    conn.connect()
    local = conn.sock.getsockname()
    started = time.perf_counter()
    for body in bodies:
        conn.request("POST", "/v1/batches", body=body, headers=headers)
        answer = conn.getresponse()
        assert answer.status == 200 and json.loads(answer.read())["accepted"] == 1
    elapsed = time.perf_counter() - started
    assert conn.sock.getsockname() == local  # one connection throughout
    conn.close()
    # With the answer's last segment held for the delayed ACK, each took about 40 ms (2 s).
    assert elapsed < 50 * 0.040 / 2, elapsed


@pytest.fixture(params=BACKENDS)
def two_workers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    server = Server(backend_db(request, tmp_path), tmp_path, "--workers", "2")
    yield server
    server.stop()


def _workers(server: Server, n: int = 2) -> list[psutil.Process]:
    """The worker processes, once n have started (the port is announced before)."""
    deadline = time.monotonic() + 30
    while True:
        # The spawn context's resource tracker is a child too; workers run the service.
        children = psutil.Process(server.proc.pid).children()
        workers = [p for p in children if "spawn_main" in " ".join(p.cmdline())]
        if len(workers) >= n or time.monotonic() > deadline:
            return workers
        time.sleep(0.05)


def _batches_counted(server: Server) -> float:
    text = requests.get(server.url + "/metrics", timeout=10).text
    found = re.search(
        r'aitally_ingest_requests_total\{route="/v1/batches",status="200"\} (\S+)', text
    )
    return float(found.group(1)) if found else 0.0


def test_two_workers_store_every_batch_and_count_them_together(two_workers: Server) -> None:
    s = two_workers
    assert len(_workers(s)) == 2
    _, token = s.enroll(login="fleet")
    ids = []
    for _ in range(40):  # fresh connections, spread over both workers by the kernel
        rec = record()
        ids.append(rec["record_id"])
        answer = requests.post(
            s.url + "/v1/batches",
            data=json.dumps(batch([rec])),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            timeout=30,
        )
        assert answer.status_code == 200 and answer.json()["accepted"] == 1
    assert {r[0] for r in query(s.db, "SELECT record_id FROM records")} == set(ids)
    # Each scrape reaches one worker or the other; each sums both (a worker alone has ~20).
    assert [_batches_counted(s) for _ in range(6)] == [40.0] * 6


def test_sigterm_stops_every_worker(two_workers: Server) -> None:
    workers = _workers(two_workers)
    two_workers.proc.send_signal(signal.SIGTERM)
    assert two_workers.proc.wait(timeout=30) == 0
    _gone, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive


def test_a_worker_that_dies_stops_the_service(two_workers: Server) -> None:
    first, second = _workers(two_workers)
    first.kill()
    # The supervisor stops the other and exits 1, for the service manager to restart it whole.
    assert two_workers.proc.wait(timeout=30) == 1
    assert not second.is_running() or second.wait(timeout=10) is not None
    assert "worker_exit" in two_workers.log.read_text()
