"""Test helpers: a store with closed segments, a config file, and a scripted loopback receiver."""

from __future__ import annotations

import gzip
import json
import os
import socket
import ssl
import struct
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aitally.core import config, paths
from aitally.core.observation import Activity, Tokens, Usage
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store
from aitally.uploader import credentials


def make_segments(
    store: Store, n: int, *, start: float | None = None, project: str | None = None
) -> list[str]:
    """n closed segments (one session each, with tokens); returns their record ids."""
    start = time.time() - 7200 - n if start is None else start
    sz = Sessionizer(store, idle_timeout=60)
    obs: list[Any] = []
    for i in range(n):
        key = f"sess-{start:.0f}-{i}"
        at = start + i
        obs.append(Activity("claude-code", key, at, kind="prompt"))
        obs.append(
            Usage(
                "claude-code", key, at + 5, "claude-x", Tokens(10, 20, 30, 40, None), f"d{start}{i}"
            )
        )
    sz.apply(obs)
    if project is not None:
        store.conn.execute("UPDATE sessions SET project = ?", (project,))
    sz.close_idle(start + n + 3600)
    return [r[0] for r in store.conn.execute("SELECT record_id FROM outbox ORDER BY record_id")]


def write_config(text: str) -> config.Config:
    Path(os.environ["AITALLY_CONFIG"]).write_text(text)
    return config.load(user_file=Path(os.environ["AITALLY_CONFIG"]), managed=lambda: [])


def upload_config(url: str, extra: str = "") -> config.Config:
    credentials.set_token("device-token-1")
    return write_config(
        f"""
[upload]
endpoint = "{url}"
interval = 1
backoff_base = 0.01
backoff_max = 0.05
connect_timeout = 2
read_timeout = 1
{extra}
"""
    )


def open_store() -> Store:
    return Store(paths.store_file())


class Receiver:
    """A real HTTP server on 127.0.0.1 playing a script of answers, then idempotent success."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.script: list[Any] = []
        self.records: dict[str, dict[str, Any]] = {}
        self.copies: dict[str, int] = {}
        self.bodies: list[bytes] = []
        self.headers: list[dict[str, str]] = []  # each request's headers
        self.requests = 0
        self.max_records = 10_000
        self.poison: set[str] = set()
        self.poison_whole_batch = False
        self.hang = threading.Event()
        self.lock = threading.Lock()
        self.path = "/v1/batches"
        self.otlp = False  # answer like an OTel Collector: {} to any POST
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                outer.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.hang.set()
        self.server.shutdown()
        self.server.server_close()

    def _store(self, recs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rejected = []
        with self.lock:
            for i, r in enumerate(recs):
                if r["record_id"] in self.poison:
                    rejected.append({"index": i, "record_id": r["record_id"], "reason": "poison"})
                    continue
                self.copies[r["record_id"]] = self.copies.get(r["record_id"], 0) + 1
                self.records.setdefault(r["record_id"], r)
        return rejected

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        raw = h.rfile.read(int(h.headers["Content-Length"]))
        body = gzip.decompress(raw) if h.headers.get("Content-Encoding") == "gzip" else raw
        with self.lock:
            self.requests += 1
            self.bodies.append(body)
            self.headers.append(dict(h.headers.items()))
            action = self.script.pop(0) if self.script else "ok"
        if h.path != self.path:
            return self._reply(h, 404, b"not here", "text/plain")
        if self.otlp:
            return self._reply(h, 200, b"{}", "application/json")
        batch = json.loads(body)
        recs = batch.get("records", [])
        if isinstance(action, tuple) and action[0] == "status":
            _, code, headers = action
            return self._reply(h, code, b'{"error":"scripted"}', "application/json", headers)
        if action == "hang":
            self.hang.wait(30)
            return self._reply(h, 503, b"{}", "application/json")
        if action == "timeout":
            time.sleep(1.5)  # longer than the client's read timeout
            return self._reply(h, 503, b"{}", "application/json")
        if action == "trickle":
            # A 200 whose body comes a byte at a time: each read is within the read timeout,
            # the whole answer never is (15 s, so a client without a deadline fails, not hangs).
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", "100000")
            h.end_headers()
            until = time.monotonic() + 15
            while time.monotonic() < until and not self.hang.wait(0.2):
                try:
                    h.wfile.write(b" ")
                    h.wfile.flush()
                except OSError:
                    break
            h.close_connection = True
            return None
        if action == "html200":
            return self._reply(h, 200, b"<html>Welcome to Hotel WiFi</html>", "text/html")
        if len(recs) > self.max_records:
            return self._reply(h, 413, b'{"error":"too large"}', "application/json")
        if self.poison_whole_batch and any(r["record_id"] in self.poison for r in recs):
            return self._reply(h, 400, b'{"error":"bad record"}', "application/json")
        before = set(self.records)
        rejected = self._store(recs)
        if action == "reset_after_commit":
            # The server committed, then the connection dies before the answer.
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.close_connection = True
            h.connection.close()
            return None
        dup = sum(1 for r in recs if r["record_id"] in before)
        answer = {
            "batch_id": batch["batch_id"],
            "accepted": len(recs) - dup - len(rejected),
            "duplicate": dup,
            "rejected": rejected,
        }
        return self._reply(h, 200, json.dumps(answer).encode(), "application/json")

    @staticmethod
    def _reply(
        h: BaseHTTPRequestHandler,
        code: int,
        body: bytes,
        ctype: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)


@contextmanager
def receiver(tls: ssl.SSLContext | None = None) -> Iterator[Receiver]:
    r = Receiver(tls)
    try:
        yield r
    finally:
        r.close()


def self_signed(tmp: Path) -> tuple[Path, Path]:
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
