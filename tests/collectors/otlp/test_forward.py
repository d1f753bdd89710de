"""The receiver forwards what a tool sends, unchanged, to the collector the person had (a real
loopback collector here), without ever making the tool wait; and reads tool and token from
the path install gives each tool."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from aitally.collectors.otlp import receiver as rx
from aitally.collectors.otlp.forward import Forwarder
from aitally.collectors.otlp.status import read_tool_last_batch
from aitally.core import otlp_routes
from aitally.core.otlp_routes import Route, Upstream
from aitally.core.store import Store
from tests.collectors.otlp.helpers import port_of, post, protobuf_logs, recorded_logs, token_of
from tests.waiting import wait_for


class _Collector(ThreadingHTTPServer):
    """A person's own OTLP collector on loopback: records each request; can be made slow."""

    def __init__(self, delay: float = 0.0):
        super().__init__(("127.0.0.1", 0), _Record)
        self.delay = delay
        self.got: list[tuple[str, dict[str, str], bytes]] = []
        self.arrived = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Record(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        server: Any = self.server
        body = self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(server.delay)
        server.got.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        server.arrived.set()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[_Collector]:
    server = _Collector()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _counters(folder: Path) -> dict[str, int]:
    store = Store(folder / "aitally.db")
    try:
        return store.counters("otlp_forward")
    finally:
        store.close()


def test_accepted_bodies_reach_the_persons_collector_unchanged(
    receiver: rx.OtlpCollector, collector: _Collector, isolated_env: Path
) -> None:
    upstream = Upstream({"logs": collector.url + "/theirs/v1/logs"}, {"api-key": "their-secret"})
    otlp_routes.write_upstreams(isolated_env, {"claude-code": upstream})
    body = protobuf_logs("req_fwd_1")
    status, _, _ = post(
        port_of(receiver),
        "/claude-code/v1/logs",
        body,
        token=token_of(receiver),
        content_type="application/x-protobuf",
    )
    assert status == 200
    assert collector.arrived.wait(10)
    path, headers, got = collector.got[0]
    assert path == "/theirs/v1/logs" and got == body  # the tool's bytes, canaries and all
    assert headers["content-type"] == "application/x-protobuf"
    assert headers["api-key"] == "their-secret"
    assert token_of(receiver) not in str(headers)  # our token never leaves the machine
    wait_for(lambda: _counters(isolated_env).get("sent") == 1, timeout=5, step=0.05)
    assert _counters(isolated_env) == {"sent": 1}
    # Another tool's path, or the bare path, has no upstream: nothing more is sent.
    port, secret = port_of(receiver), token_of(receiver)
    assert post(port, "/v1/logs", recorded_logs(), token=secret)[0] == 200
    assert post(port, "/codex/v1/logs", recorded_logs(), token=secret)[0] == 200
    time.sleep(0.3)
    assert len(collector.got) == 1


def test_a_slow_collector_never_delays_the_tool_and_overflow_is_counted() -> None:
    slow = _Collector(delay=1.5)
    threading.Thread(target=slow.serve_forever, daemon=True).start()
    counted: list[str] = []
    forwarder = Forwarder(counted.append, size=2)
    try:
        upstream = Upstream({"logs": slow.url + "/v1/logs"})
        started = time.monotonic()
        for _ in range(6):
            forwarder.submit(upstream, "logs", b"{}", {"Content-Type": "application/json"})
        assert time.monotonic() - started < 0.5  # submit never waits on the collector
        assert counted.count("queue_full") >= 3
    finally:
        forwarder.close(timeout=0.1)
        slow.shutdown()
        slow.server_close()


def test_an_unreachable_collector_is_counted_failed() -> None:
    counted: list[str] = []
    forwarder = Forwarder(counted.append)
    forwarder.submit(Upstream({"traces": "http://127.0.0.1:9/v1/traces"}), "traces", b"x", {})
    forwarder.close(timeout=10)
    assert counted == ["failed"]


def test_tool_and_token_in_the_path(receiver: rx.OtlpCollector, isolated_env: Path) -> None:
    port, secret = port_of(receiver), token_of(receiver)
    # Gemini CLI sends no custom header: the token rides in the path install gave it.
    assert post(port, f"/gemini-cli/k/{secret}/v1/logs", recorded_logs(), token=None)[0] == 200
    assert post(port, "/gemini-cli/k/wrong/v1/logs", recorded_logs(), token=None)[0] == 401
    assert post(port, "/not-a-tool/v1/logs", recorded_logs(), token=secret)[0] == 404
    assert post(port, "/claude-code/v1/profiles", recorded_logs(), token=secret)[0] == 404
    store = Store(isolated_env / "aitally.db")
    try:
        assert read_tool_last_batch(store, "gemini-cli") is not None
        assert read_tool_last_batch(store, "claude-code") is None
    finally:
        store.close()


def test_parse_path() -> None:
    assert otlp_routes.parse_path("/v1/logs") == Route("logs")
    assert otlp_routes.parse_path("/codex/v1/traces?x=1") == Route("traces", "codex")
    assert otlp_routes.parse_path("/gemini-cli/k/abc/v1/metrics") == Route(
        "metrics", "gemini-cli", "abc"
    )
    for bad in ("/v1/", "/codex/k//v1/logs", "/codex/x/abc/v1/logs", "/v2/logs", "/"):
        assert otlp_routes.parse_path(bad) is None, bad
