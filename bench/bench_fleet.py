"""A fleet against the real ingest service: enrolled devices upload small gzip batches of the
records the agent builds, every 5 minutes with jitter, one hour of simulated time compressed
into seconds; batches/s, p50/p99, 5xx and the CPU of server, database and load generator, for
SQLite and PostgreSQL and 1, 2 and 4 worker processes. Also the ceiling (clients back to back)
and kept-alive connections beside fresh ones. Loopback only, bounded in devices and time.
"""

from __future__ import annotations

import gzip
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aitally.core import config, paths  # noqa: E402
from aitally.core.store import Store  # noqa: E402
from aitally.ingest.auth import new_device, token_hash  # noqa: E402
from aitally.ingest.identity import Enrollment, KeyRing  # noqa: E402
from aitally.ingest.storage import open_storage  # noqa: E402
from aitally.uploader import records  # noqa: E402
from aitally.uploader.delivery import health, select_batch  # noqa: E402
from bench.fleet_load import Shot, closed_loop, open_loop, post_request  # noqa: E402
from bench.ingest_stages import STEPS, per_batch_us  # noqa: E402
from tests.ingest.conftest import PgCluster, Server  # noqa: E402
from tests.privacy.conftest import query  # noqa: E402
from tests.uploader.helpers import make_segments  # noqa: E402

DEVICES = int(os.environ.get("BENCH_FLEET_DEVICES", "600"))
RATE = float(os.environ.get("BENCH_FLEET_RATE", "240"))  # offered batches/s, all devices
CEILING_S = float(os.environ.get("BENCH_FLEET_CEILING_S", "10"))
CEILING_CLIENTS = 16
WORKERS = [int(w) for w in os.environ.get("BENCH_FLEET_WORKERS", "1,2,4").split(",")]
DATABASES = os.environ.get("BENCH_FLEET_DBS", "sqlite,postgres").split(",")
ENROLL_N = int(os.environ.get("BENCH_FLEET_ENROLL", "300"))
PERIOD = 300.0  # the agent's upload interval, seconds
SIM_HOUR = 3600.0


def agent_records(n: int = 200) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Closed segments turned into wire records by the uploader (pseudonymous policy), and
    the health object it sends beside them."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["AITALLY_DATA_DIR"] = str(Path(tmp) / "data")
        cfg_file = Path(tmp) / "config.toml"
        cfg_file.write_text('[upload]\nendpoint = "http://127.0.0.1:9"\n')
        cfg = config.load(user_file=cfg_file, managed=lambda: [])
        store = Store(paths.store_file())
        make_segments(store, n, project="/home/dev/src/project")
        template = select_batch(cfg, store, time.time(), claim=False)
        agent_health = health(store)
        store.close()
    return template, agent_health


def _body(
    rnd: random.Random, template: list[dict[str, Any]], agent_health: dict[str, Any], at: float
) -> bytes:
    """1-5 of the agent's records under fresh ids, ended shortly before `at`, gzipped."""
    recs = []
    for rec in rnd.sample(template, rnd.randint(1, 5)):
        start = at - rnd.uniform(300, 3600)
        recs.append(
            dict(
                rec,
                record_id=str(uuid.uuid4()),
                started_at=records.iso(start),
                ended_at=records.iso(start + 240),
            )
        )
    return gzip.compress(records.body(recs, agent_health, at), 6)


def fleet_shots(tokens: list[str], rate: float, seed: int = 18) -> tuple[list[Shot], float]:
    """Every upload of an hour: each device every PERIOD s (+-10 % jitter) from a random phase,
    the hour compressed so the fleet offers `rate` batches/s; and the compression factor."""
    rnd = random.Random(seed)
    template, agent_health = agent_records()
    plan: list[tuple[float, int]] = []
    for d in range(len(tokens)):
        t = rnd.uniform(0, PERIOD)
        while t < SIM_HOUR:
            plan.append((t, d))
            t += PERIOD * rnd.uniform(0.9, 1.1)
    squeeze = len(plan) / rate / SIM_HOUR  # wall seconds per simulated second
    now = time.time()
    shots = [
        Shot(
            t * squeeze,
            d,
            post_request("/v1/batches", tokens[d], _body(rnd, template, agent_health, now)),
        )
        for t, d in plan
    ]
    return shots, squeeze


def _cpu(pids: list[psutil.Process]) -> float:
    total = 0.0
    for p in pids:
        try:
            procs = [p, *p.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for q in procs:
            try:
                t = q.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
    return total


def _postmaster(cluster: PgCluster | None) -> list[psutil.Process]:
    if cluster is None:
        return []
    pid = int((cluster.data / "postmaster.pid").read_text().split()[0])
    return [psutil.Process(pid)]


@contextmanager
def _cpu_of(
    server: Server, db_procs: list[psutil.Process], out: dict[str, float]
) -> Iterator[None]:
    """Server and database CPU seconds over the block, into out."""
    me = [psutil.Process(server.proc.pid)]
    s0, d0 = _cpu(me), _cpu(db_procs)
    yield
    out["server_cpu_s"] = _cpu(me) - s0
    out["db_cpu_s"] = _cpu(db_procs) - d0


def _port(server: Server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def enrollments(server: Server, n: int, keep: bool) -> float:
    """Seconds to enroll n devices one after another, on one kept-alive connection or each
    on a fresh one."""
    body = (
        b'{"enroll_secret":"test-enroll-secret","device_label":"bench","agent_version":"0.1",'
        b'"privacy_level":"pseudonymous","org_unit":"eng"}'
    )
    request = post_request("/v1/enroll", "none", body, gzipped=False, close=not keep)
    out = closed_loop("127.0.0.1", _port(server), [[request] * n], 3600, keep)
    assert out.statuses[200] == n, out.statuses
    return out.wall_s


def stages(db: str, n: int = 1000) -> dict[str, float]:
    """CPU per batch of each step of POST /v1/batches, in-process (bench/ingest_stages.py)."""
    storage = open_storage(db)
    try:
        device_id, token = new_device()
        who = Enrollment(device_id, f"enrolled:{device_id}", "pseudonymous", "eng", None)
        storage.enroll(who, token_hash(token), "bench", "0.1", time.time())
        rnd = random.Random(3)
        template, agent_health = agent_records()
        bodies = [_body(rnd, template, agent_health, time.time()) for _ in range(n)]
        keys = KeyRing((("k1", b"s" * 40),))
        return per_batch_us(storage, keys, token, bodies)
    finally:
        storage.close()


def bytes_per_record(db: str) -> float:
    """Bytes the records and their per-model rows take, indexes included, per record."""
    tables = ("records", "record_models")
    if db.startswith("sqlite"):
        size = query(
            db,
            "SELECT SUM(pgsize) FROM dbstat WHERE name IN "
            "(SELECT name FROM sqlite_master WHERE tbl_name IN (?, ?))",
            tables,
        )
    else:
        size = query(db, "SELECT pg_total_relation_size(?) + pg_total_relation_size(?)", tables)
    count = query(db, "SELECT COUNT(*) FROM records")
    return round(float(size[0][0]) / max(1, int(count[0][0])), 1)


def run_config(
    db: str, work: Path, workers: int, db_procs: list[psutil.Process]
) -> dict[str, float]:
    """One server: the fleet hour (fresh connections), the ceiling (16 clients back to back on
    kept-alive connections); figures flat."""
    extra = ["--device-rate", "0"]
    if workers > 1:
        extra += ["--workers", str(workers)]
    server = Server(db, work, *extra)
    figures: dict[str, float] = {}
    try:
        tokens = [server.enroll(f"fleet-{d}")[1] for d in range(DEVICES)]
        shots, squeeze = fleet_shots(tokens, RATE)
        cpu: dict[str, float] = {}
        with _cpu_of(server, db_procs, cpu):
            out = open_loop("127.0.0.1", _port(server), shots, keep=False)
        fleet = out.figures()
        n = max(1, fleet["ok"])
        figures.update({f"fleet_{k}": v for k, v in fleet.items()})
        figures["fleet_offered_per_s"] = round(len(shots) / (shots[-1].at or 1), 1)
        figures["fleet_server_cpu_ms_per_batch"] = round(cpu["server_cpu_s"] * 1000 / n, 2)
        figures["fleet_db_cpu_ms_per_batch"] = round(cpu["db_cpu_s"] * 1000 / n, 2)
        figures["fleet_sim_speedup"] = round(1 / squeeze, 1)
        figures["bytes_per_record"] = bytes_per_record(db)
        rnd = random.Random(7)
        template, agent_health = agent_records()
        per_client = int(CEILING_S * 400 / CEILING_CLIENTS) + 1
        bodies = [
            [
                post_request(
                    "/v1/batches", tokens[c], _body(rnd, template, agent_health, time.time())
                )
                for _ in range(per_client)
            ]
            for c in range(CEILING_CLIENTS)
        ]
        with _cpu_of(server, db_procs, cpu):
            top = closed_loop("127.0.0.1", _port(server), bodies, CEILING_S, keep=True)
        ceiling = top.figures()
        figures.update({f"ceiling_{k}": v for k, v in ceiling.items()})
        figures["ceiling_server_cpu_ms_per_batch"] = round(
            cpu["server_cpu_s"] * 1000 / max(1, ceiling["ok"]), 2
        )
    finally:
        server.stop()
    return figures


def main() -> dict[str, Any]:
    results: dict[str, Any] = {"devices": DEVICES, "offered_per_s": RATE}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cluster = None
        try:
            if "postgres" in DATABASES:
                cluster = PgCluster()
        except BaseException as exc:  # pytest.skip raises a BaseException
            print(f"postgres: not measured ({exc})")
        try:
            # Kept-alive against fresh connections: n enrollments one after another.
            server = Server(f"sqlite:///{work / 'enroll.db'}", work)
            try:
                results["enroll_fresh_s"] = round(enrollments(server, ENROLL_N, keep=False), 2)
                results["enroll_kept_alive_s"] = round(enrollments(server, ENROLL_N, keep=True), 2)
            finally:
                server.stop()
            print(
                f"enroll {ENROLL_N} devices: fresh connections {results['enroll_fresh_s']} s, "
                f"one kept-alive connection {results['enroll_kept_alive_s']} s"
            )
            dbs = {}
            if "sqlite" in DATABASES:
                dbs["sqlite"] = f"sqlite:///{work / 'stages.db'}"
            if cluster is not None and "postgres" in DATABASES:
                dbs["postgres"] = cluster.new_database()
            print(f"{'CPU us per batch':16}" + "".join(f"{s:>13}" for s in STEPS))
            for name, db in dbs.items():
                us = stages(db)
                results.update({f"stage_{name}_{k.replace(' ', '_')}_us": v for k, v in us.items()})
                print(f"{name:16}" + "".join(f"{us[s]:13.0f}" for s in STEPS), flush=True)
            configs = [("sqlite", w) for w in WORKERS if "sqlite" in DATABASES]
            if cluster is not None and "postgres" in DATABASES:
                configs += [("postgres", w) for w in WORKERS]
            for name, workers in configs:
                if name == "sqlite":
                    db, procs = f"sqlite:///{work / f'fleet-{workers}.db'}", []
                else:
                    assert cluster is not None
                    db, procs = cluster.new_database(), _postmaster(cluster)
                key = f"{name}_w{workers}"
                try:
                    figures = run_config(db, work, workers, procs)
                except RuntimeError as exc:  # e.g. --workers unknown to this version
                    print(f"{key}: not measured ({str(exc)[-200:]})")
                    continue
                results.update({f"{key}_{k}": v for k, v in figures.items()})
                print(
                    f"{key:12} fleet {figures['fleet_batches_per_s']:6.1f}/s "
                    f"p50 {figures['fleet_p50_ms']:6.1f} p99 {figures['fleet_p99_ms']:7.1f} ms "
                    f"5xx {figures['fleet_status_5xx']:4} err {figures['fleet_errors']:3}  "
                    f"server {figures['fleet_server_cpu_ms_per_batch']:5.2f} ms/batch "
                    f"db {figures['fleet_db_cpu_ms_per_batch']:5.2f} | ceiling "
                    f"{figures['ceiling_batches_per_s']:6.1f}/s p99 "
                    f"{figures['ceiling_p99_ms']:7.1f} ms "
                    f"server {figures['ceiling_server_cpu_ms_per_batch']:5.2f} ms/batch "
                    f"client {figures['ceiling_client_cpu_ms_per_request']:.2f} ms/req",
                    flush=True,
                )
        finally:
            if cluster is not None:
                cluster.stop()
    return results


if __name__ == "__main__":
    main()
