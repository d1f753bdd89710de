"""`make bench`: runs every benchmark in turn and prints one table of their figures."""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
import traceback
from pathlib import Path

import psutil

# In the order of the data path: signals, local reading, telemetry, upload, central ingest.
BENCHES = [
    "bench_scan",
    "bench_footprint",
    "bench_backfill",
    "bench_tail",
    "bench_browser",
    "bench_otlp",
    "bench_upload",
    "bench_ingest",
    "bench_fleet",
    "bench_reports",
    "bench_view",
]


# The headline table: (label, bench, figure, unit, baseline figure or None, baseline label).
HEADLINES = [
    (
        "process scan, warm",
        "bench_scan",
        "warm_scan_us_per_proc",
        "us/process",
        "pids_us_per_proc",
        "psutil.pids()",
    ),
    (
        "process scan, cold",
        "bench_scan",
        "cold_scan_us_per_proc",
        "us/process",
        "naive_full_scan_us_per_proc",
        "naive full scan",
    ),
    (
        "agent CPU, steady state",
        "bench_footprint",
        "cpu_percent_of_core",
        "% of a core",
        None,
        "target < 0.1",
    ),
    (
        "agent RSS, steady state",
        "bench_footprint",
        "rss_mib_mean",
        "MiB",
        "idle_python_rss_mib",
        "idle Python",
    ),
    (
        "backfill, replies",
        "bench_backfill",
        "aitally_mb_per_s",
        "MB/s",
        "ccusage_mb_per_s",
        "ccusage",
    ),
    (
        "backfill peak RSS, replies",
        "bench_backfill",
        "aitally_peak_rss_mib",
        "MiB",
        "ccusage_peak_rss_mib",
        "ccusage",
    ),
    (
        "backfill, tool results",
        "bench_backfill",
        "tools_aitally_mb_per_s",
        "MB/s",
        "tools_ccusage_mb_per_s",
        "ccusage",
    ),
    (
        "backfill peak RSS, tool results",
        "bench_backfill",
        "tools_aitally_peak_rss_mib",
        "MiB",
        "tools_ccusage_peak_rss_mib",
        "ccusage",
    ),
    (
        "line split, tool results",
        "bench_backfill",
        "tools_line_split_mb_per_s",
        "MB/s",
        "tools_page_cache_mb_per_s",
        "page-cache read",
    ),
    (
        "appended line, 1 GB file",
        "bench_tail",
        "big_median_us",
        "us",
        "small_median_us",
        "1 MB file",
    ),
    (
        "browser history, 1M visits",
        "bench_browser",
        "first_read_s",
        "s",
        "baseline_select_s",
        "bare SELECT",
    ),
    (
        "browser, 100 new visits",
        "bench_browser",
        "incremental_100_ms",
        "ms",
        "baseline_incremental_select_ms",
        "bare SELECT",
    ),
    (
        "OTLP receiver, protobuf",
        "bench_otlp",
        "protobuf_records_per_s",
        "records/s",
        "json_records_per_s",
        "JSON",
    ),
    (
        "agent CPU, 4 OTLP events/s",
        "bench_otlp",
        "busy_cpu_percent_of_core",
        "% of a core",
        "idle_cpu_percent_of_core",
        "agent idle",
    ),
    (
        "upload drain",
        "bench_upload",
        "drain_records_per_s",
        "records/s",
        "baseline_bare_post_records_per_s",
        "bare POSTs",
    ),
    (
        "bytes per record on the wire",
        "bench_upload",
        "wire_bytes_per_record_gzip",
        "B",
        "json_bytes_per_record",
        "JSON before gzip",
    ),
    ("ingest, SQLite, 50 agents", "bench_ingest", "sqlite_records_per_s", "records/s", None, ""),
    (
        "ingest, PostgreSQL, 50 agents",
        "bench_ingest",
        "postgres_records_per_s",
        "records/s",
        "sqlite_records_per_s",
        "SQLite",
    ),
    (
        "fleet, SQLite, 1 worker, p99",
        "bench_fleet",
        "sqlite_w1_fleet_p99_ms",
        "ms",
        None,
        "target < 200",
    ),
    (
        "fleet, PostgreSQL, 2 workers, p99",
        "bench_fleet",
        "postgres_w2_fleet_p99_ms",
        "ms",
        None,
        "target < 200",
    ),
    (
        "ingest ceiling, PostgreSQL, 2 workers",
        "bench_fleet",
        "postgres_w2_ceiling_batches_per_s",
        "batches/s",
        "postgres_w1_ceiling_batches_per_s",
        "1 worker",
    ),
    (
        "ingest ceiling, SQLite, 1 worker",
        "bench_fleet",
        "sqlite_w1_ceiling_batches_per_s",
        "batches/s",
        None,
        "target >= 220",
    ),
    (
        "server CPU per small batch, SQLite",
        "bench_fleet",
        "sqlite_w1_ceiling_server_cpu_ms_per_batch",
        "ms",
        None,
        "",
    ),
    (
        "enroll 300, one kept-alive connection",
        "bench_fleet",
        "enroll_kept_alive_s",
        "s",
        "enroll_fresh_s",
        "fresh connections",
    ),
    (
        "bytes per record, SQLite",
        "bench_fleet",
        "sqlite_w1_bytes_per_record",
        "B",
        "postgres_w1_bytes_per_record",
        "PostgreSQL",
    ),
    (
        "dashboard, 6,500 people, cached",
        "bench_reports",
        "sqlite_6500_cached_dashboard_s",
        "s",
        "sqlite_6500_window_after_dashboard_s",
        "live",
    ),
    (
        "dashboard, 65,000 people, cached",
        "bench_reports",
        "sqlite_65000_cached_dashboard_s",
        "s",
        "sqlite_65000_window_after_dashboard_s",
        "live",
    ),
    (
        "report pass after a batch, 65k",
        "bench_reports",
        "sqlite_65000_cached_pass_warm_s",
        "s",
        "sqlite_65000_cached_pass_cold_s",
        "empty cache",
    ),
]


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 100 else f"{x:.3g}"


def headline(results: dict[str, dict[str, object]]) -> None:
    print(f"{'figure':<32}{'value':>12}  {'unit':<13}{'baseline (same run)':<24}{'ratio':>7}")
    for label, bench, key, unit, base, base_label in HEADLINES:
        value = results.get(bench, {}).get(key)
        if not isinstance(value, int | float):
            print(f"{label:<32}{'n/a':>12}")
            continue
        ref = results[bench].get(base) if base else None
        if isinstance(ref, int | float) and ref:
            print(
                f"{label:<32}{_num(value):>12}  {unit:<13}{f'{base_label} {_num(ref)}':<24}"
                f"{value / ref:>7.2f}"
            )
        else:
            print(f"{label:<32}{_num(value):>12}  {unit:<13}{base_label}")


def machine() -> str:
    mem = psutil.virtual_memory().total / 2**30
    return (
        f"{platform.system()} {platform.machine()}, {psutil.cpu_count()} cores, "
        f"{mem:.0f} GiB, Python {platform.python_version()}"
    )


def main(argv: list[str]) -> int:
    chosen = argv or BENCHES
    results: dict[str, dict[str, object]] = {}
    failed = []
    for name in chosen:
        print(f"\n=== {name} ===", flush=True)
        t0 = time.monotonic()
        try:
            module = importlib.import_module(f"bench.{name}")
            results[name] = dict(module.main())
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            failed.append(f"{name}: {exc}")
            continue
        results[name]["_seconds"] = round(time.monotonic() - t0, 1)
    print(f"\n=== summary ({machine()}, {time.strftime('%Y-%m-%d %H:%M')}) ===")
    headline(results)
    print()
    width = max((len(f"{b}.{k}") for b, r in results.items() for k in r), default=20)
    for bench, figures in results.items():
        for key, value in figures.items():
            print(f"{bench + '.' + key:<{width}}  {value}")
    for line in failed:
        print(f"FAILED {line}")
    out = Path(__file__).parent / "out"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(
        json.dumps({"machine": machine(), "results": results}, indent=2)
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
