"""The OTLP receiver inside a real `aitally run`: throughput and CPU at a busy engineer's rate.

Batches are shaped like Claude Code 2.1.197's recorded export (tests/fixtures/otlp/): its log
records (api_request, assistant_response, user_prompt) cycled, each api_request with a fresh
`request_id` so every call is counted, spread over a few sessions, times moved to now. They are
posted over loopback to the agent's receiver, as JSON and as protobuf, and the store's
`otlp_received` counter is checked against what was sent once the agent stops.

Figures: records/s with a few concurrent exporters posting as fast as answers come; the agent's
CPU with the receiver on and nothing sent (its idle cost), then with events arriving at
`BENCH_OTLP_RATE` per second in one batch per export interval (Claude Code's logs exporter
sends every 5 s) for `BENCH_SECONDS`; the ratio of the two.
"""

from __future__ import annotations

import copy
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from aitally.core.store import Store

FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "tests"
    / "fixtures"
    / "otlp"
    / "claude_code_2.1.197_logs.json"
)
EXPORT_INTERVAL = 5.0  # Claude Code's OTEL_LOGS_EXPORT_INTERVAL default (README, OTLP section)
SESSIONS = 8
JSON_TYPE = "application/json"
PROTO_TYPE = "application/x-protobuf"


class Batches:
    """Export request bodies shaped like the fixture, each record with fresh ids and times."""

    def __init__(self) -> None:
        self.template = json.loads(FIXTURE.read_text())
        self.records = [
            r
            for rl in self.template["resourceLogs"]
            for sl in rl["scopeLogs"]
            for r in sl["logRecords"]
        ]
        self.serial = 0
        self.lock = threading.Lock()

    def request(self, n: int) -> dict[str, Any]:
        """One export request of `n` log records (OTLP/JSON shape)."""
        with self.lock:
            first = self.serial
            self.serial += n
        now = time.time_ns()
        out: list[dict[str, Any]] = []
        for i in range(first, first + n):
            record = copy.deepcopy(self.records[i % len(self.records)])
            record["timeUnixNano"] = record["observedTimeUnixNano"] = str(now)
            for kv in record["attributes"]:
                if kv["key"] == "request_id":
                    kv["value"] = {"stringValue": f"req_bench{i // len(self.records):09d}"}
                elif kv["key"] == "session.id":
                    kv["value"] = {"stringValue": f"bench-session-{i % SESSIONS}"}
            out.append(record)
        request = copy.deepcopy(self.template)
        request["resourceLogs"] = request["resourceLogs"][:1]
        request["resourceLogs"][0]["scopeLogs"] = request["resourceLogs"][0]["scopeLogs"][:1]
        request["resourceLogs"][0]["scopeLogs"][0]["logRecords"] = out
        return request

    def body(self, n: int, content_type: str) -> bytes:
        """The request as the exporter would send it in `content_type`."""
        request = self.request(n)
        if content_type == JSON_TYPE:
            return json.dumps(request).encode()
        message = json_format.ParseDict(request, ExportLogsServiceRequest())
        return bytes(message.SerializeToString())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(conn: http.client.HTTPConnection, body: bytes, content_type: str, tok: str) -> int:
    headers = {"Content-Type": content_type, "x-aitally-token": tok}
    conn.request("POST", "/v1/logs", body=body, headers=headers)
    res = conn.getresponse()
    res.read()
    return res.status


def _cpu(proc: psutil.Process) -> float:
    return float(sum(proc.cpu_times()[:2]))


def _share(proc: psutil.Process, seconds: float, during: Iterator[None] | None = None) -> float:
    """The process's CPU share of one core over `seconds`; `during` is stepped once a second."""
    c0, t0 = _cpu(proc), time.monotonic()
    while time.monotonic() - t0 < seconds:
        if during is not None:
            next(during, None)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t0) % 1.0))
    return (_cpu(proc) - c0) / (time.monotonic() - t0)


def _busy(port: int, tok: str, batches: Batches, rate: float, sent: list[int]) -> Iterator[None]:
    """One batch of `rate * EXPORT_INTERVAL` records every EXPORT_INTERVAL (protobuf)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    due = time.monotonic()
    n = max(1, round(rate * EXPORT_INTERVAL))
    while True:
        if time.monotonic() >= due:
            status = _post(conn, batches.body(n, PROTO_TYPE), PROTO_TYPE, tok)
            assert status == 200, status
            sent[0] += n
            due += EXPORT_INTERVAL
        yield


def _throughput(
    port: int, tok: str, batches: Batches, content_type: str, seconds: float, size: int
) -> tuple[float, int, float]:
    """(records/s, records sent, median ms per request) with a few exporters posting at once."""
    clients = int(os.environ.get("BENCH_OTLP_CLIENTS", "4"))
    bodies = [batches.body(size, content_type) for _ in range(clients * 200)]
    counts = [0] * clients
    times: list[float] = []
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i = k
        while time.monotonic() < stop and i < len(bodies):
            t = time.perf_counter()
            status = _post(conn, bodies[i], content_type, tok)
            times.append(time.perf_counter() - t)
            if status == 200:
                counts[k] += size
            i += clients
        conn.close()

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    times.sort()
    return sum(counts) / wall, sum(counts), times[len(times) // 2] * 1000


def _wait_listening(port: int, token_file: Path, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if token_file.exists():
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return token_file.read_text().strip()
            except OSError:
                pass
        time.sleep(0.2)
    raise RuntimeError("the agent's OTLP receiver did not start")


def main() -> dict[str, float | None]:
    seconds = float(os.environ.get("BENCH_SECONDS", "60"))
    rate = float(os.environ.get("BENCH_OTLP_RATE", "4"))
    burst = float(os.environ.get("BENCH_OTLP_BURST", "10"))
    size = int(os.environ.get("BENCH_OTLP_BATCH", "100"))
    exe = Path(sys.executable).parent / "aitally"
    port = _free_port()
    batches = Batches()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp, "config.toml")
        config.write_text(f"[otlp_receiver]\nenabled = true\nport = {port}\n")
        env = {**os.environ, "AITALLY_DATA_DIR": tmp, "AITALLY_CONFIG": str(config), "HOME": tmp}
        agent = subprocess.Popen([str(exe), "run"], env=env, stderr=subprocess.DEVNULL)
        try:
            tok = _wait_listening(port, Path(tmp, "otlp_token"))
            proc = psutil.Process(agent.pid)
            time.sleep(min(10.0, seconds / 4))  # start-up and the first scans are not idle
            idle = _share(proc, seconds)
            sent = [0]
            busy = _share(proc, seconds, _busy(port, tok, batches, rate, sent))
            json_rps, json_n, json_ms = _throughput(port, tok, batches, JSON_TYPE, burst, size)
            proto_rps, proto_n, proto_ms = _throughput(port, tok, batches, PROTO_TYPE, burst, size)
        finally:
            agent.terminate()
            agent.wait(20)
        store = Store(Path(tmp, "aitally.db"))
        try:
            received = store.counters("otlp_received").get("logs", 0)
        finally:
            store.close()
    total = sent[0] + json_n + proto_n
    assert received == total, f"store counted {received} records, {total} were accepted"
    out: dict[str, float | None] = {
        "seconds": seconds,
        "batch_records": float(size),
        "json_records_per_s": round(json_rps),
        "json_median_ms_per_batch": round(json_ms, 2),
        "protobuf_records_per_s": round(proto_rps),
        "protobuf_median_ms_per_batch": round(proto_ms, 2),
        "busy_events_per_s": rate,
        "idle_cpu_percent_of_core": round(idle * 100, 3),
        "busy_cpu_percent_of_core": round(busy * 100, 3),
        "busy_vs_idle_cpu": round(busy / idle, 2) if idle else None,
        "added_cpu_ms_per_event": round((busy - idle) * 1000 / rate, 3),
        "records_counted_in_store": float(received),
    }
    print(
        f"throughput, batches of {size} records (Claude Code's shape), "
        f"{os.environ.get('BENCH_OTLP_CLIENTS', '4')} exporters:"
    )
    print(f"  JSON     {json_rps:,.0f} records/s ({json_ms:.1f} ms per batch, median)")
    print(f"  protobuf {proto_rps:,.0f} records/s ({proto_ms:.1f} ms per batch, median)")
    print(
        f"agent CPU over {seconds:.0f}s: idle {idle * 100:.3f}% of a core; at {rate:g} events/s "
        f"{busy * 100:.3f}% ({out['busy_vs_idle_cpu']}x idle)"
    )
    print(f"store counted {received} records of {total} sent")
    return out


if __name__ == "__main__":
    main()
