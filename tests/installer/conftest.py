"""Installer fixtures: a private HOME, a real enrollment server on loopback, a TLS server."""

from __future__ import annotations

import json
import shutil
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from tests.uploader.helpers import self_signed

GOOD_SECRET = "enroll-CANARY-secret-7f3a"
TOKEN = "tok-0123456789abcdef"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME and XDG_CONFIG_HOME in tmp: nothing the tests do reaches the real user's files."""
    h = tmp_path / "home"  # made and set as HOME by the suite-wide isolated_env fixture
    h.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(h))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(h / ".config"))
    # No keyring daemon here; make keyring's choice explicit so the file fallback is used.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    return h


class _Handler(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, object]]] = []

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _answer(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer(200, {"status": "ok"})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append(body)
        if self.path != "/v1/enroll":
            self._answer(404, {"error": "not found"})
        elif body.get("enroll_secret") != GOOD_SECRET:
            self._answer(401, {"error": "bad secret"})
        else:
            self._answer(200, {"device_id": "dev-1", "token": TOKEN})


def _serve(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def enroll_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 speaking the enrollment part of the wire protocol."""
    _Handler.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    for s in _serve(server):
        yield f"http://127.0.0.1:{s.server_address[1]}"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """HTTPS on 127.0.0.1 with a self-signed certificate no trust store knows; yields the
    URL and the certificate (a CA bundle that makes it trusted)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = self_signed(tmp_path)  # the uploader tests' certificate maker
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    for s in _serve(server):
        yield f"https://127.0.0.1:{s.server_address[1]}", cert


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
