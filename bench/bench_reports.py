"""Central reports at fleet scale: every report and the dashboard, timed through a real ingest
server on SQLite and PostgreSQL, with the server's peak memory, as the fleet grows.

The fleet database is written straight into storage (tests/ingest/fleet_db.py: N people over
W full weeks, 12 unless named, rollups built by the migration's statements). "before" is the
code this branch started from (`git merge-base HEAD main`, extracted with git archive and run
by the same interpreter) on a copy of the same database.

Two modes (BENCH_REPORTS_MODE): `window` (the default) asks each report and the dashboard for
their default window (the last 12 weeks); `period` asks each report for one period only, as a
cache refreshing the current periods does: the last weekday, the last full ISO week and the
month holding the data's last day (levels have no period: their 12 weeks as of that day).

BENCH_REPORTS_PEOPLE=6500,65000,650000:2 sets the sizes (people, and :weeks when not 12);
BENCH_REPORTS_BACKENDS=sqlite,postgres the backends; BENCH_REPORTS_BEFORE the sizes also timed
with the code before (default: the first; `none`); BENCH_REPORTS_DB_DIR a folder where SQLite
fleets are kept and reused by later runs (default: written afresh, then deleted);
BENCH_REPORTS_TIMEOUT the seconds one request may take (then it counts as that);
BENCH_REPORTS_REPEAT how many times each is asked (the fastest counts: on a shared machine the
others' load only ever adds).

"cached" is the same server with the report cache (serve --report-refresh): the refresher's
pass over an empty cache (every period it keeps warm), one after a batch of yesterday's records
(the changed periods only), both in process, then every report with the cache filled.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import requests

from aitally.ingest.report_cache import CachedReports
from aitally.ingest.report_refresh import refresh_pass
from aitally.ingest.storage import open_storage
from tests.ingest import fleet_db
from tests.ingest.builders import record
from tests.ingest.cache_fleet import upload
from tests.ingest.conftest import PgCluster, Server

REPO = Path(__file__).resolve().parent.parent
SIZES = [
    (int(people), int(weeks or 12))
    for people, _, weeks in (
        size.partition(":")
        for size in os.environ.get("BENCH_REPORTS_PEOPLE", "6500,65000").split(",")
    )
]
BACKENDS = os.environ.get("BENCH_REPORTS_BACKENDS", "sqlite,postgres").split(",")
MODE = os.environ.get("BENCH_REPORTS_MODE", "window")
BEFORE = os.environ.get("BENCH_REPORTS_BEFORE", str(SIZES[0][0]))
DB_DIR = os.environ.get("BENCH_REPORTS_DB_DIR", "")
TIMEOUT = float(os.environ.get("BENCH_REPORTS_TIMEOUT", "600"))
REPEAT = int(os.environ.get("BENCH_REPORTS_REPEAT", "1"))
BEFORE_VERSION = 7
"""The schema version of the code this branch started from (main's migrations when it left)."""
REPORTS = {
    "adoption_week": "/v1/reports/adoption?granularity=week",
    "adoption_day": "/v1/reports/adoption?granularity=day",
    "usage_week": "/v1/reports/usage?granularity=week",
    "effectiveness_week": "/v1/reports/effectiveness?granularity=week",
    "levels_volume": "/v1/reports/levels?recipe=volume",
    "levels_consistency": "/v1/reports/levels?recipe=consistency",
    "levels_depth": "/v1/reports/levels?recipe=depth",
    "levels_absolute": "/v1/reports/levels?recipe=absolute",
    "dashboard": "/dashboard",
}
RECIPES = ("volume", "consistency", "depth", "absolute")


def period_reports(end: dt.date) -> dict[str, str]:
    """Each report for one period of a fleet whose data ends the day before `end` (a Monday):
    the last weekday (a weekend day has few records), that last week, and its month."""
    friday, last = (
        (end - dt.timedelta(days=3)).isoformat(),
        (end - dt.timedelta(days=1)).isoformat(),
    )
    out = {}
    for report in ("adoption", "usage", "effectiveness"):
        for granularity, day in (("day", friday), ("week", last), ("month", last)):
            if report != "effectiveness" or granularity != "day":  # it counts person-weeks
                out[f"{report}_{granularity}"] = (
                    f"/v1/reports/{report}?granularity={granularity}&since={day}&until={day}"
                )
    for recipe in RECIPES:
        out[f"levels_{recipe}"] = f"/v1/reports/levels?recipe={recipe}&as_of={end.isoformat()}"
    return out


@contextmanager
def peak_rss(pid: int) -> Iterator[list[float]]:
    """Samples the process's resident memory every 50 ms; yields [peak MiB] (filled at exit)."""
    proc = psutil.Process(pid)
    peak = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                peak[0] = max(peak[0], proc.memory_info().rss / 2**20)
            except psutil.Error:
                return
            stop.wait(0.05)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()


def time_reports(server: Server, paths: dict[str, str]) -> dict[str, float]:
    """Seconds per report (TIMEOUT when it did not answer in time) and the server's peak RSS."""
    out: dict[str, float] = {}
    with peak_rss(server.proc.pid) as peak:
        for name, path in paths.items():
            times = []
            for _ in range(REPEAT):
                t = time.perf_counter()
                try:
                    status = server.admin("GET", path, timeout=TIMEOUT).status_code
                except requests.Timeout:
                    status = 0
                times.append(time.perf_counter() - t if status == 200 else TIMEOUT)
            out[f"{name}_s"] = round(min(times), 2)
            print(f"  {name:<20} {out[f'{name}_s']:8.2f} s  ({status})", flush=True)
    out["peak_rss_mib"] = round(peak[0], 1)
    print(f"  {'server peak RSS':<20} {out['peak_rss_mib']:8.1f} MiB", flush=True)
    return out


def before_tree(work: Path) -> Path:
    """The code this branch started from, as an importable `aitally` package (PYTHONPATH)."""
    base = subprocess.run(
        ["git", "-C", str(REPO), "merge-base", "HEAD", "main"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    src = work / "before-src"
    src.mkdir()
    archive = work / "before.tar"
    subprocess.run(
        ["git", "-C", str(REPO), "archive", "-o", str(archive), base, "core", "ingest"],
        check=True,
    )
    with tarfile.open(archive) as tar:
        tar.extractall(src, filter="data")
    view = work / "before" / "aitally"
    view.mkdir(parents=True)
    (view / "__init__.py").write_text("")
    for part in ("core", "ingest"):
        (view / part).symlink_to(src / part)
    return view.parent


def as_before(db: str, work: Path, cluster: PgCluster | None) -> str:
    """A copy of the database that the older code accepts (its schema version, BEFORE_VERSION)."""
    if db.startswith("sqlite"):
        copy = work / "before.db"
        with sqlite3.connect(db.removeprefix("sqlite:///")) as source:
            lite = sqlite3.connect(copy)
            source.backup(lite)  # with what the write-ahead log still holds
        lite.execute("DELETE FROM schema_version WHERE version > ?", (BEFORE_VERSION,))
        lite.commit()
        lite.close()
        return f"sqlite:///{copy}"
    import psycopg

    assert cluster is not None
    name = db.rsplit("/", 1)[1]
    url = cluster.url.rsplit("/", 1)[0] + "/before_" + name
    with psycopg.connect(cluster.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE before_{name} TEMPLATE {name}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM schema_version WHERE version > %s", (BEFORE_VERSION,))
    return url


def fill(db: str, people: int, weeks: int, end: dt.date) -> tuple[float, int]:
    """Seconds to write the fleet (records and rollups), and its records."""
    storage = open_storage(db)
    try:
        t = time.perf_counter()
        records = fleet_db.fill(storage, people, weeks, end)
        return round(time.perf_counter() - t, 1), records
    finally:
        storage.close()


def sqlite_fleet(work: Path, people: int, weeks: int, end: dt.date) -> tuple[str, bool]:
    """The SQLite database of one fleet, and whether it is to be written (not kept from before)."""
    if not DB_DIR:
        return f"sqlite:///{work / f'fleet-{people}.db'}", True
    path = Path(DB_DIR) / f"fleet-{people}x{weeks}-{end.isoformat()}.db"
    return f"sqlite:///{path}", not path.exists()


def time_passes(db: str) -> dict[str, float]:
    """The refresher's pass over an empty cache, then after a batch of yesterday's records."""
    storage = open_storage(db)
    try:
        cache = CachedReports(storage, True, (10.0, 4.0, 1.0))
        cold = refresh_pass(cache, 5)
        yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
        upload(storage, "bench-late", [record(day=yesterday) for _ in range(5)])
        warm = refresh_pass(cache, 5)
    finally:
        storage.close()
    print(f"  pass cold {cold.seconds} s ({cold.computed}), warm {warm.seconds} s "
          f"({warm.computed})", flush=True)  # fmt: skip
    return {
        "pass_cold_s": cold.seconds,
        "pass_cold_periods": cold.computed,
        "pass_warm_s": warm.seconds,
        "pass_warm_periods": warm.computed,
    }


def time_cached(db: str, work: Path, paths: dict[str, str]) -> dict[str, float]:
    """Every report through a server whose cache the passes filled (its own first pass done)."""
    server = Server(db, work, "--report-refresh", "3600", "--log-level", "info")
    try:
        deadline = time.monotonic() + TIMEOUT
        while '"report_refresh"' not in server.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        return time_reports(server, paths)
    finally:
        server.stop()


def run_size(
    backend: str,
    db: str,
    size: tuple[int, int],
    work: Path,
    cluster: PgCluster | None,
    before: Path | None,
    write: bool = True,
) -> dict[str, Any]:
    """Fills one database of `size` (people, weeks) unless kept, times the reports after (and
    before) on it."""
    people, weeks = size
    end = fleet_db.last_monday()
    name = f"{backend}_{people}" + (f"x{weeks}" if weeks != 12 else "")
    out: dict[str, Any] = {}
    if write:
        seconds, records = fill(db, people, weeks, end)
        print(f"{name}: {records} records written in {seconds} s", flush=True)
        out |= {f"{name}_fill_s": seconds, f"{name}_records": records}
    paths = REPORTS if MODE == "window" else period_reports(end)
    runs: list[tuple[str, str, Path | None]] = [("after", db, None)]
    if before is not None:
        runs.append(("before", as_before(db, work, cluster), before))
    for label, url, path in runs:
        print(f" {label}:", flush=True)
        env_before = os.environ.get("PYTHONPATH")
        if path is not None:
            os.environ["PYTHONPATH"] = str(path)  # the server child imports the older code
        try:
            refresh = None if path is not None else "0"  # the older code has no cache
            server = Server(url, work, "--log-level", "warning", report_refresh=refresh)
        finally:
            if path is not None:
                os.environ.pop("PYTHONPATH")
                if env_before is not None:
                    os.environ["PYTHONPATH"] = env_before
        try:
            for key, value in time_reports(server, paths).items():
                out[f"{name}_{MODE}_{label}_{key}"] = value
        finally:
            server.stop()
        if url != db and url.startswith("sqlite"):
            Path(url.removeprefix("sqlite:///")).unlink()  # the before copy
    print(" cached:", flush=True)
    for key, value in (time_passes(db) | time_cached(db, work, paths)).items():
        out[f"{name}_cached_{key}"] = value
    return out


def main() -> dict[str, Any]:
    sizes = ",".join(f"{p}:{w}" if w != 12 else str(p) for p, w in SIZES)
    results: dict[str, Any] = {"people": sizes, "mode": MODE}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        older = before_tree(work)
        cluster = None
        if "postgres" in BACKENDS:
            try:
                cluster = PgCluster()
            except BaseException as exc:  # pytest.skip raises a BaseException
                print(f"postgres: not measured ({exc})")
        try:
            for backend in BACKENDS:
                if backend == "postgres" and cluster is None:
                    continue
                for people, weeks in SIZES:
                    write = True
                    if cluster is not None and backend == "postgres":
                        db = cluster.new_database()
                    else:
                        db, write = sqlite_fleet(work, people, weeks, fleet_db.last_monday())
                    first = older if str(people) in BEFORE.split(",") else None
                    results |= run_size(backend, db, (people, weeks), work, cluster, first, write)
                    if db.startswith("sqlite") and not DB_DIR:
                        Path(db.removeprefix("sqlite:///")).unlink()
        finally:
            if cluster is not None:
                cluster.stop()
    return results


if __name__ == "__main__":
    main()
