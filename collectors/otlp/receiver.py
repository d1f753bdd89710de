"""The OTLP/HTTP receiver as one of the agent's collectors: a loopback server on its own threads.

Each request is checked (path, token, size, type), decoded (collectors/otlp/decode.py),
reduced to observations (collectors/otlp/allowlist.py) and committed through the receiver's
own store connection and sessionizer before the answer, so a 200 means written; a busy store
answers 429/503 with Retry-After and the exporter sends the batch again. Nothing a request
carries is logged: only its kind of failure is counted (`otlp_rejected`, `otlp_dropped`).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aitally.collectors.files import roots
from aitally.collectors.otlp import allowlist, decode, token
from aitally.collectors.otlp.codex_title_calls import KV_TURNS, TitleCallAttribution
from aitally.collectors.otlp.forward import COUNTER as FORWARD_COUNTER
from aitally.collectors.otlp.forward import Forwarder
from aitally.collectors.otlp.status import KV_LAST_BATCH, KV_STATUS, last_batch_key
from aitally.core import otlp_routes
from aitally.core.config import Config
from aitally.core.observation import Observation
from aitally.core.sessionizer import Sessionizer
from aitally.core.sink import Counter
from aitally.core.store import Store

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
# OTel JS batches 512 records of about 1 KiB; four times that with room to spare.
MAX_BODY = 4 * 1024 * 1024
# A request waits this long for another request's commit before answering 429 ...
LOCK_WAIT = 2.0
# ... and this long for SQLite's write lock before answering 503 (exporters time out at 10 s).
STORE_WAIT = 3.0
RETRY_AFTER = 2
# The Server header of every answer; `aitally doctor` (agent/doctor.py) looks for it.
SERVER_NAME = "aitally-otlp"


class _TooLarge(Exception):
    pass


class Receiver:
    """Owns the server, its store connection and sessionizer; `apply` commits one request."""

    def __init__(
        self,
        store_path: Path,
        data_dir: Path,
        port: int,
        sessionizer: Sessionizer,
        codex_homes: Sequence[Path] = (),
    ):
        self.store = Store(store_path, busy_timeout=STORE_WAIT)
        self.sink = Sessionizer(
            self.store,
            idle_timeout=sessionizer.idle,
            cpu_active_threshold=sessionizer.cpu_threshold,
            max_presence_step=sessionizer.max_step,
        )
        self.token = token.load_or_create(data_dir)
        self.codex_titles = TitleCallAttribution(codex_homes, self.store.kv_get(KV_TURNS))
        self.data_dir = data_dir
        self._upstreams: tuple[float | None, dict[str, otlp_routes.Upstream]] = (None, {})
        self.forwarder = Forwarder(self._count_forward)  # an idle thread until one forwards
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer((HOST, port), _Handler)
        self.server.daemon_threads = True
        self.server.receiver = self  # type: ignore[attr-defined]
        self.port: int = self.server.server_address[1]

    def commit(
        self,
        observations: Iterable[Observation],
        counters: Iterable[Counter],
        *,
        batch: bool = False,
        tool: str | None = None,
        codex: allowlist.CodexFacts | None = None,
    ) -> int:
        """Commits one request's observations and counters, with the `codex` TUI calls that
        are title calls in their threads (collectors/otlp/codex_title_calls.py), and for an
        accepted `batch` its time, also per `tool` when the path named one
        (collectors/otlp/status.py reads them): 200, or 429/503 when busy."""
        if not self.lock.acquire(timeout=LOCK_WAIT):
            return 429
        observations, counters = list(observations), list(counters)
        state: dict[str, str] = {}
        if batch:
            now = repr(time.time())
            state = {KV_LAST_BATCH: now} | ({last_batch_key(tool): now} if tool else {})
        titles = None
        try:
            if codex is not None and (codex.turns or codex.calls):
                titles = self.codex_titles.attribute(codex)
                observations += titles.observations
                counters += [("otlp_dropped", why, n) for why, n in titles.dropped.items()]
                state |= titles.state()
            self.sink.apply(observations, counters=counters, state=state)
        except sqlite3.OperationalError:
            return 503  # locked or busy beyond STORE_WAIT: the exporter retries
        finally:
            self.lock.release()
        if titles is not None:
            self.codex_titles.keep(titles)
        return 200

    def count(self, reason: str) -> None:
        """Counts a rejected request; a busy store must not turn a 4xx into a crash."""
        self.commit((), [("otlp_rejected", reason, 1)])

    def _count_forward(self, outcome: str) -> None:
        self.commit((), [(FORWARD_COUNTER, outcome, 1)])

    def upstreams(self) -> dict[str, otlp_routes.Upstream]:
        """The saved endpoints, read again when install changes them while the agent runs."""
        try:
            mtime: float | None = (self.data_dir / otlp_routes.UPSTREAMS_FILE).stat().st_mtime
        except OSError:
            mtime = None
        if mtime != self._upstreams[0]:
            self._upstreams = (mtime, otlp_routes.read_upstreams(self.data_dir))
        return self._upstreams[1]

    def forward(self, route: otlp_routes.Route, body: bytes, headers: Any) -> None:
        """Hands an accepted body to the person's own collector for its tool, if they had one."""
        upstream = self.upstreams().get(route.tool) if route.tool else None
        if upstream is not None:
            self.forwarder.submit(upstream, route.signal, body, headers)

    def serve(self) -> None:
        self.server.serve_forever(poll_interval=0.5)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.forwarder.close()
        with self.lock:
            self.store.close()


class _Handler(BaseHTTPRequestHandler):
    server_version = SERVER_NAME
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Access lines would name paths and agents; nothing is logged per request."""

    @property
    def receiver(self) -> Receiver:
        return self.server.receiver  # type: ignore[attr-defined,no-any-return]

    def do_GET(self) -> None:
        self._answer(405, "POST only")

    def do_POST(self) -> None:
        try:
            self._post()
        except Exception as exc:  # never a crash: a request's failure is its own
            log.debug("otlp request failed: %s", type(exc).__name__)
            self.close_connection = True
            self._answer(500, "internal error")

    def _post(self) -> None:
        r = self.receiver
        route = otlp_routes.parse_path(self.path)
        if route is None:
            self.close_connection = True
            self._answer(404, "unknown path")
            return
        signal = route.signal
        if not token.valid(route.token or token.presented(self.headers), r.token):
            r.count("unauthorized")
            self.close_connection = True  # the body is never read
            self._answer(401, "token missing or wrong")
            return
        try:
            raw = body = self._body()
            if (self.headers.get("Content-Encoding") or "").lower() == "gzip":
                body = decode.gunzip(body, MAX_BODY)
            request = decode.decode(signal, body, self.headers.get("Content-Type") or "")
            if signal == "logs":
                reduced = allowlist.reduce_logs(request)
            else:
                reduced = allowlist.count_records(request, signal)
        except (_TooLarge, decode.TooLarge):
            r.count("too_large")
            self.close_connection = True
            self._answer(413, "body too large")
            return
        except decode.Unsupported:
            r.count("unsupported_media")
            self._answer(415, "content type not supported")
            return
        except (decode.Malformed, ValueError):
            r.count("malformed")
            self._answer(400, "malformed export request")
            return
        counters: list[Counter] = [("otlp_received", signal, reduced.records)]
        counters += [("otlp_dropped", why, n) for why, n in reduced.dropped.items()]
        status = r.commit(
            reduced.observations, counters, batch=True, tool=route.tool, codex=reduced.codex
        )
        if status == 200:
            r.forward(route, raw, self.headers)  # once, when written: a retried batch is not
            self._answer(200, None)
        else:
            self._answer(status, "store busy", retry_after=RETRY_AFTER)

    def _body(self) -> bytes:
        """The request body, Content-Length or chunked (OTel JS sends chunked), bounded."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            parts: list[bytes] = []
            total = 0
            while True:
                line = self.rfile.readline(66)
                size = int(line.split(b";")[0].strip() or b"x", 16)
                if size == 0:
                    while self.rfile.readline(1024).strip():
                        pass  # trailers
                    return b"".join(parts)
                total += size
                if total > MAX_BODY:
                    raise _TooLarge
                parts.append(self.rfile.read(size))
                self.rfile.readline(3)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise _TooLarge
        if length < 0:
            raise ValueError("negative length")
        return self.rfile.read(length)

    def _answer(self, status: int, message: str | None, retry_after: int | None = None) -> None:
        # A success answers an empty export response (valid JSON and valid protobuf alike).
        json_body = "json" in (self.headers.get("Content-Type") or "json")
        if message is None:
            payload = b"{}" if json_body else b""
        else:
            payload = json.dumps({"code": status, "message": message}).encode()
        self.send_response(status)
        self.send_header(
            "Content-Type", "application/json" if json_body or message else "application/x-protobuf"
        )
        self.send_header("Content-Length", str(len(payload)))
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)


class OtlpCollector:
    """The receiver as a collector of the agent loop (core/collector.py)."""

    name = "otlp_receiver"

    def __init__(
        self,
        store: Store,
        sessionizer: Sessionizer,
        port: int,
        data_dir: Path,
        codex_homes: Sequence[Path] = (),
    ):
        self._store_path = store.path
        self._sessionizer = sessionizer
        self._port = port
        self._data_dir = data_dir
        self._codex_homes = tuple(codex_homes)
        self.receiver: Receiver | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Binds the loopback port and serves on a thread; a taken port fails the start."""
        self.receiver = Receiver(
            self._store_path, self._data_dir, self._port, self._sessionizer, self._codex_homes
        )
        self._thread = threading.Thread(
            target=self.receiver.serve, name="aitally-otlp", daemon=True
        )
        self._thread.start()
        status = {"port": self.receiver.port, "host": HOST, "started_at": time.time()}
        self.receiver.store.kv_set(KV_STATUS, json.dumps(status))
        log.info("OTLP receiver listening on http://%s:%d", HOST, self.receiver.port)

    def step(self, now: float) -> None:
        """Requests are committed as they arrive; nothing to do per tick."""

    def interrupt(self) -> None:
        """start() does not block."""

    def stop(self) -> None:
        if self.receiver is not None:
            self.receiver.close()
            self.receiver = None
        if self._thread is not None:
            self._thread.join(5.0)


def create(cfg: Config, store: Store, sessionizer: Sessionizer) -> OtlpCollector | None:
    """The receiver, or None when `[otlp_receiver] enabled` is false (the default)."""
    section = cfg.section("otlp_receiver")
    if not section["enabled"]:
        return None
    # Where Codex's rollouts are, to tell its threads from its title calls.
    homes = roots.candidates({"codex"}, cfg.get("collectors", "extra_roots"))
    return OtlpCollector(
        store, sessionizer, int(section["port"]), store.path.parent, [r.path for r in homes]
    )
