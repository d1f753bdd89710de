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

# In the order of the data path: signals, local reading, upload, central ingest.
BENCHES = [
    "bench_scan",
    "bench_footprint",
    "bench_backfill",
    "bench_tail",
    "bench_upload",
    "bench_ingest",
    "bench_view",
]


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
