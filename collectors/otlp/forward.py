"""Sends each accepted export on, unchanged, to the collector the person had before install.

`aitally install --configure-tools` takes a tool's telemetry endpoint over and saves the one the
person had (core/otlp_routes.py); this keeps that collector fed. Bounded and non-blocking: the
receiver only enqueues (the tool's exporter never waits on the person's collector); one thread
posts; when the queue is full or a post fails, the body is dropped and counted
(`otlp_forward` counters: `sent`, `queue_full`, `failed`), never retried, never logged.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import queue
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aitally.core.otlp_routes import Upstream

log = logging.getLogger(__name__)

# Exporters batch every few seconds; 64 bodies is minutes of a busy engineer's telemetry.
QUEUE_SIZE = 64
# OTel exporters give a collector 10 s; the person's collector gets the same.
TIMEOUT = 10.0
# What the body's own headers say about it, passed on as they came.
PASSED_HEADERS = ("Content-Type", "Content-Encoding")
COUNTER = "otlp_forward"


@dataclass(frozen=True, slots=True)
class _Item:
    url: str
    body: bytes
    headers: dict[str, str]


class Forwarder:
    """One queue and one thread; `count(reason)` records each outcome (the receiver's store)."""

    def __init__(self, count: Callable[[str], None], *, size: int = QUEUE_SIZE):
        self._count = count
        self._queue: queue.Queue[_Item | None] = queue.Queue(size)
        self._thread = threading.Thread(target=self._run, name="aitally-otlp-fwd", daemon=True)
        self._thread.start()

    def submit(
        self, upstream: Upstream, signal: str, body: bytes, request_headers: Mapping[str, str]
    ) -> None:
        """Queues the body for the upstream's URL of this signal; no URL: nothing to do."""
        url = upstream.urls.get(signal)
        if not url:
            return
        headers = {h: request_headers[h] for h in PASSED_HEADERS if request_headers.get(h)}
        headers.update(upstream.headers)
        try:
            self._queue.put_nowait(_Item(url, body, headers))
        except queue.Full:
            self._count("queue_full")

    def close(self, timeout: float = 2.0) -> None:
        """Stops after the bodies already queued, waiting at most `timeout` seconds."""
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            self._count("sent" if _post(item) else "failed")


def _post(item: _Item) -> bool:
    """Posts one body; True on a 2xx answer. Errors are the person's collector's, not ours."""
    parts = urllib.parse.urlsplit(item.url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        conn = kind(parts.netloc, timeout=TIMEOUT)
        try:
            conn.request("POST", path, body=item.body, headers=item.headers)
            status = conn.getresponse().status
        finally:
            conn.close()
    except (OSError, http.client.HTTPException) as exc:
        log.debug("otlp forward failed: %s", type(exc).__name__)
        return False
    return 200 <= status < 300
