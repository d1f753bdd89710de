"""Ingest throughput and latency: 50+ concurrent agents posting 500-record batches, SQLite vs PG."""

from __future__ import annotations

import gzip
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from tests.ingest.builders import batch, record
from tests.ingest.conftest import PgCluster, Server

AGENTS = int(os.environ.get("BENCH_INGEST_AGENTS", "50"))
BATCHES = int(os.environ.get("BENCH_INGEST_BATCHES", "4"))  # per agent
RECORDS = 500


def _bodies(agents: int) -> list[list[bytes]]:
    """Every agent's gzipped batches, built before the clock starts."""
    out = []
    for a in range(agents):
        user = f"hmac:k1:{a:032x}"
        out.append(
            [
                gzip.compress(
                    json.dumps(batch([record(user=user) for _ in range(RECORDS)])).encode()
                )
                for _ in range(BATCHES)
            ]
        )
    return out


def _run(server: Server, bodies: list[list[bytes]]) -> dict[str, float]:
    agents = len(bodies)
    tokens = [server.enroll(f"bench-{a}")[1] for a in range(agents)]
    latencies: list[float] = []
    accepted = [0] * agents
    lock = threading.Lock()
    start = threading.Barrier(agents + 1)

    def agent(a: int) -> None:
        http = requests.Session()
        headers = {
            "Authorization": f"Bearer {tokens[a]}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        }
        start.wait()
        for body in bodies[a]:
            t = time.perf_counter()
            r = http.post(server.url + "/v1/batches", data=body, headers=headers, timeout=120)
            elapsed = time.perf_counter() - t
            r.raise_for_status()
            accepted[a] += r.json()["accepted"]
            with lock:
                latencies.append(elapsed)

    threads = [threading.Thread(target=agent, args=(a,)) for a in range(agents)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    latencies.sort()
    assert sum(accepted) == sum(map(len, bodies)) * RECORDS, "records lost"
    return {
        "records_per_s": sum(accepted) / wall,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "wall_s": wall,
    }


def main() -> dict[str, Any]:
    bodies = _bodies(AGENTS)
    # Baseline in the same run: one agent alone on the same server, nothing queued.
    alone = _bodies(1)
    results: dict[str, Any] = {"agents": AGENTS, "batches": AGENTS * BATCHES, "records": RECORDS}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        dbs = {"sqlite": f"sqlite:///{work / 'bench.db'}"}
        cluster = None
        try:
            cluster = PgCluster()
            dbs["postgres"] = cluster.new_database()
        except BaseException as exc:  # pytest.skip raises a BaseException
            print(f"postgres: not measured ({exc})")
        try:
            for name, db in dbs.items():
                server = Server(db, work, "--device-rate", "0", "--log-level", "warning")
                try:
                    single = _run(server, alone)
                    results[name] = _run(server, bodies)
                    results[name]["alone_records_per_s"] = single["records_per_s"]
                    results[name]["alone_p50_ms"] = single["p50_ms"]
                finally:
                    server.stop()
        finally:
            if cluster is not None:
                cluster.stop()
    flat: dict[str, Any] = {k: v for k, v in results.items() if not isinstance(v, dict)}
    for name in ("sqlite", "postgres"):
        if name in results:
            r = results[name]
            print(
                f"{name:9} {r['records_per_s']:9.0f} records/s  p50 {r['p50_ms']:7.1f} ms  "
                f"p99 {r['p99_ms']:7.1f} ms  ({results['batches']} batches in {r['wall_s']:.1f} s)"
            )
            print(
                f"{'':9} one agent alone: {r['alone_records_per_s']:9.0f} records/s  "
                f"p50 {r['alone_p50_ms']:7.1f} ms"
            )
            flat.update({f"{name}_{k}": round(v, 1) for k, v in r.items()})
    if "postgres" in results:
        ratio = results["postgres"]["records_per_s"] / results["sqlite"]["records_per_s"]
        flat["postgres_vs_sqlite"] = round(ratio, 2)
        print(f"PostgreSQL / SQLite throughput: {ratio:.2f}x")
    return flat


if __name__ == "__main__":
    main()
