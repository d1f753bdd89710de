"""Process scan cost per process, cold and warm, against psutil baselines from the same run."""

from __future__ import annotations

import os
import statistics
import time

import psutil

from aitally.collectors.catalog import Catalog
from aitally.collectors.processes import ProcessScanner
from bench.procfarm import ProcFarm


def _per_process(fn: object, repeat: int) -> float:
    """Median microseconds per process over `repeat` calls of fn()."""
    times = []
    for _ in range(repeat):
        n = len(psutil.pids())
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t) / n * 1e6)
    return statistics.median(times)


def _naive_full_scan() -> None:
    # What a straightforward agent does each scan: every attribute of every process.
    attrs = ["cmdline", "exe", "uids", "create_time", "ppid", "cpu_times"]
    for _p in psutil.process_iter(attrs):
        pass


def main() -> dict[str, float]:
    count = int(os.environ.get("BENCH_PROCS", "1000"))
    with ProcFarm(count):
        time.sleep(0.5)
        total = len(psutil.pids())
        catalog = Catalog.load()
        pids_us = _per_process(psutil.pids, 50)
        naive_us = _per_process(_naive_full_scan, 5)
        colds = []
        for _ in range(5):
            scanner = ProcessScanner(catalog)
            colds.append(_per_process(scanner.scan, 1))
        cold_us = statistics.median(colds)
        warm_us = _per_process(scanner.scan, 50)
    result = {
        "processes": float(total),
        "pids_us_per_proc": round(pids_us, 3),
        "naive_full_scan_us_per_proc": round(naive_us, 2),
        "cold_scan_us_per_proc": round(cold_us, 2),
        "warm_scan_us_per_proc": round(warm_us, 3),
        "cold_vs_naive": round(cold_us / naive_us, 2),
        "warm_vs_pids": round(warm_us / pids_us, 2),
    }
    print(f"process scan over {total} processes (median):")
    print(f"  psutil.pids() baseline   {pids_us:8.3f} us/process")
    print(f"  naive full psutil scan   {naive_us:8.2f} us/process")
    print(
        f"  aitally cold scan        {cold_us:8.2f} us/process  ({cold_us / naive_us:.2f}x naive)"
    )
    print(
        f"  aitally warm scan        {warm_us:8.3f} us/process  ({warm_us / pids_us:.2f}x pids())"
    )
    return result


if __name__ == "__main__":
    main()
