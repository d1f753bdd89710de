"""The receiver as a real loopback server with a real store: auth, bounds, malformed input,
both encodings, backpressure, the allowlist (canaries) and one truth per call."""

from __future__ import annotations

import http.client
import os
import socket
import stat
import threading
from pathlib import Path

import pytest

from aitally.collectors.otlp import receiver as rx
from aitally.collectors.otlp.token import FILE_NAME
from aitally.core.observation import Tokens, Usage
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store
from tests.collectors.otlp.helpers import (
    CANARY,
    SESSION,
    every_byte,
    port_of,
    post,
    protobuf_logs,
    recorded_logs,
    token_of,
)

PROTO = "application/x-protobuf"


def _raw(port: int, tok: str, framing: str, body: bytes) -> int:
    """A request written by hand on a socket (a client that lies or never stops)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = (
            f"POST /v1/logs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tok}\r\n"
            f"Content-Type: application/json\r\n{framing}\r\n\r\n"
        )
        sock.sendall(head.encode() + body)
        answer = sock.recv(4096)
    return int(answer.split()[1])


def _counters(data: Path, name: str) -> dict[str, int]:
    store = Store(data / "aitally.db")
    try:
        return store.counters(name)
    finally:
        store.close()


def _tokens(data: Path) -> dict[str, int]:
    store = Store(data / "aitally.db")
    try:
        row = store.conn.execute(
            "SELECT SUM(tok_input), SUM(tok_output), SUM(tok_cache_read), SUM(tok_cache_write), "
            "COUNT(*) "
            "FROM segments"
        ).fetchone()
        signals = {r[0] for r in store.conn.execute("SELECT signals FROM segments")}
    finally:
        store.close()
    return {
        "input": row[0] or 0,
        "output": row[1] or 0,
        "cache_read": row[2] or 0,
        "cache_write": row[3] or 0,
        "segments": row[4],
        "signals": len(signals),
    }


def test_token_file_is_private_and_required(receiver: rx.OtlpCollector, isolated_env: Path):
    mode = stat.S_IMODE(os.stat(isolated_env / FILE_NAME).st_mode)
    assert mode == 0o600
    port = port_of(receiver)
    assert post(port, "/v1/logs", b"{}", token=None)[0] == 401
    assert post(port, "/v1/logs", b"{}", token="wrong")[0] == 401
    ok = post(port, "/v1/logs", b"{}", token=None, headers={"x-aitally-token": token_of(receiver)})
    assert ok[0] == 200
    assert _counters(isolated_env, "otlp_rejected") == {"unauthorized": 2}


def test_bounds_malformed_and_media(receiver: rx.OtlpCollector, isolated_env: Path):
    port, tok = port_of(receiver), token_of(receiver)
    # The body is never read past the bound: the answer comes on the headers alone.
    assert _raw(port, tok, f"Content-Length: {rx.MAX_BODY + 1}", b"") == 413
    assert post(port, "/v1/logs", b"x" * (rx.MAX_BODY + 1), token=tok, gzipped=True)[0] == 413
    assert post(port, "/v1/logs", b"\x00garbage{", token=tok)[0] == 400
    assert post(port, "/v1/logs", b"\xff\xfe\x01garbage", token=tok, content_type=PROTO)[0] == 400
    assert post(port, "/v1/logs", b'{"resourceLogs": 5}', token=tok)[0] == 400
    assert post(port, "/v1/logs", b"{}", token=tok, content_type="text/plain")[0] == 415
    assert post(port, "/v1/nope", b"{}", token=tok)[0] == 404
    assert post(port, "/v1/metrics", b"{}", token=tok)[0] == 200  # still serving
    assert _counters(isolated_env, "otlp_rejected") == {
        "too_large": 2,
        "malformed": 3,
        "unsupported_media": 1,
    }


def test_chunked_body_bounded(receiver: rx.OtlpCollector, isolated_env: Path):
    """OTel JS (Claude Code) sends chunked bodies; an endless chunked stream is cut at the bound."""
    port, tok = port_of(receiver), token_of(receiver)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    chunks = iter([recorded_logs()[i : i + 1000] for i in range(0, len(recorded_logs()), 1000)])
    conn.request(
        "POST",
        "/v1/logs",
        body=chunks,
        encode_chunked=True,
        headers={"Authorization": f"Bearer {tok}", "Content-Type": "application/json"},
    )
    assert conn.getresponse().status == 200
    conn.close()
    first = b"%x\r\n" % 65536 + b" " * 65536 + b"\r\n"
    huge = b"%x\r\n" % rx.MAX_BODY
    assert _raw(port, tok, "Transfer-Encoding: chunked", first + huge) == 413
    assert _tokens(isolated_env)["input"] == 12 + 13


def test_recorded_claude_code_export(receiver: rx.OtlpCollector, isolated_env: Path):
    """The real export of `claude -p`: the title call and the answer, both counted."""
    status, _headers, body = post(
        port_of(receiver), "/v1/logs", recorded_logs(), token=token_of(receiver)
    )
    assert (status, body) == (200, b"{}")
    got = _tokens(isolated_env)
    assert got["input"] == 12 + 13 and got["output"] == 9 + 9
    assert got["cache_read"] == 10 and got["cache_write"] == 6
    assert _counters(isolated_env, "otlp_received") == {"logs": 5}
    # assistant_response and user_prompt events are not usage
    assert _counters(isolated_env, "otlp_dropped") == {"event_not_mapped": 3}


def test_protobuf_and_gzip_and_canaries(receiver: rx.OtlpCollector, isolated_env: Path):
    port, tok = port_of(receiver), token_of(receiver)
    status, headers, body = post(
        port, "/v1/logs", protobuf_logs("req_pb1"), token=tok, content_type=PROTO
    )
    assert status == 200 and headers["Content-Type"] == PROTO and body == b""
    assert (
        post(
            port, "/v1/logs", protobuf_logs("req_pb2"), token=tok, content_type=PROTO, gzipped=True
        )[0]
        == 200
    )
    # a resend of the same export (the exporter's retry) counts once
    assert post(port, "/v1/logs", protobuf_logs("req_pb2"), token=tok, content_type=PROTO)[0] == 200
    assert _tokens(isolated_env)["input"] == 200
    receiver.stop()
    assert CANARY.encode() not in every_byte(isolated_env)


def test_one_truth_per_call(receiver: rx.OtlpCollector, isolated_env: Path):
    """A call the transcript recorded first is not counted again from telemetry, and the other
    way round; a call only in telemetry is added."""
    port, tok = port_of(receiver), token_of(receiver)
    store = Store(isolated_env / "aitally.db")
    sink = Sessionizer(store)
    import time

    def transcript(rid: str) -> Usage:
        return Usage(
            "claude-code",
            SESSION,
            time.time(),
            "claude-test-model",
            Tokens(100, 7, 3, 2),
            f"msg_{rid}:{rid}",
            call_id=rid,
        )

    sink.apply([transcript("req_a")])  # transcript first
    assert post(port, "/v1/logs", protobuf_logs("req_a"), token=tok, content_type=PROTO)[0] == 200
    assert post(port, "/v1/logs", protobuf_logs("req_b"), token=tok, content_type=PROTO)[0] == 200
    sink.apply([transcript("req_b")])  # telemetry first
    assert post(port, "/v1/logs", protobuf_logs("req_c"), token=tok, content_type=PROTO)[0] == 200
    store.close()
    assert _tokens(isolated_env)["input"] == 300  # a, b, c once each
    assert _counters(isolated_env, "usage_reconciled") == {
        "claude-code/otlp": 1,
        "claude-code/transcript": 1,
    }


def test_busy_store_answers_retry_after(
    receiver: rx.OtlpCollector, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
):
    assert receiver.receiver is not None
    monkeypatch.setattr(rx, "LOCK_WAIT", 0.1)
    holder = threading.Event()
    with receiver.receiver.lock:  # another request is committing
        status, headers, _ = post(
            port_of(receiver), "/v1/logs", recorded_logs(), token=token_of(receiver)
        )
        holder.set()
    assert status == 429 and headers["Retry-After"] == str(rx.RETRY_AFTER)
    other = Store(isolated_env / "aitally.db")
    monkeypatch.setattr(rx, "STORE_WAIT", 0.2)
    with other.transaction():  # the agent holds the write lock
        receiver.receiver.store.conn.execute("PRAGMA busy_timeout = 200")
        status, headers, _ = post(
            port_of(receiver), "/v1/logs", recorded_logs(), token=token_of(receiver)
        )
    other.close()
    assert status == 503 and headers["Retry-After"] == str(rx.RETRY_AFTER)
    # the retry after the lock is released lands
    assert post(port_of(receiver), "/v1/logs", recorded_logs(), token=token_of(receiver))[0] == 200
