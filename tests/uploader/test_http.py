"""The upload session's time bounds against a real loopback server that trickles its answer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from aitally.uploader.http import make_session
from tests.uploader.helpers import write_config

STATUS = b"HTTP/1.1 200 OK\r\n"
HEADERS = b"Content-Type: application/json\r\n" * 200


@contextmanager
def trickling_server(answer: bytes) -> Iterator[str]:
    """Reads a request head, then sends `answer` one byte every 0.2 s (each read is within the
    client's read timeout, the whole never is) for up to 15 s."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                head = b""
                while b"\r\n\r\n" not in head:
                    part = conn.recv(65536)
                    if not part:
                        break
                    head += part
                until = time.monotonic() + 15
                for i in range(len(answer)):
                    if done.wait(0.2) or time.monotonic() > until:
                        break
                    try:
                        conn.sendall(answer[i : i + 1])
                    except OSError:
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1/batches"
    finally:
        done.set()
        thread.join(10)
        listener.close()


@pytest.mark.parametrize("answer", [STATUS, STATUS + HEADERS], ids=["status_line", "headers"])
def test_a_trickled_answer_head_cannot_hold_an_upload(answer: bytes) -> None:
    """Issue 17: only bodies were bounded; a server trickling its status line or headers held
    the upload thread, and every upload after it, for ever."""
    session = make_session(write_config("[upload]\nconnect_timeout = 2\nread_timeout = 1"))
    with trickling_server(answer) as url:
        started = time.monotonic()
        with pytest.raises(requests.RequestException):
            session.post(url, data=b"{}")
        assert time.monotonic() - started < 4
