"""A real enrollment server on loopback (plain HTTP or TLS) for enroll, install and doctor tests."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

GOOD_SECRET = "enroll-CANARY-secret-7f3a"
TOKEN = "tok-0123456789abcdef"


class EnrollHandler(BaseHTTPRequestHandler):
    """Answers /v1/enroll: the good secret gets TOKEN, anything else 401."""

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


def serve(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    """Runs the server on a thread for the duration of the caller's loop."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
