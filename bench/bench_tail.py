"""Cost of reading appended lines: the same appends to a 1 MB and a 1 GB transcript."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aitally.collectors.files.adapters.claude_code import ClaudeCode  # noqa: E402
from aitally.collectors.files.tailer import Tailer  # noqa: E402
from aitally.core.sessionizer import Sessionizer  # noqa: E402
from aitally.core.store import Store  # noqa: E402
from tests.collectors.files import corpus  # noqa: E402

OUT = REPO / "bench" / "out"
APPENDS = 300


def grow(path: Path, size: int, block: str) -> None:
    data = block.encode()
    with path.open("wb") as fh:
        for _ in range(max(1, size // len(data))):
            fh.write(data)
    old = time.time() - 400 * 86400
    os.utime(path, (old, old))  # older than any backfill window: the tailer starts at its end


def per_append(tailer: Tailer, path: Path, lines: list[str]) -> list[float]:
    adapter = ClaudeCode()
    rel = PurePosixPath("projects", "p", path.name)
    tailer.process(path, rel, adapter, cutoff=time.time() - 86400)
    costs = []
    for i in range(APPENDS):
        with path.open("a") as fh:
            fh.write(lines[i % len(lines)])
        start = time.perf_counter()
        tailer.process(path, rel, adapter)
        costs.append(time.perf_counter() - start)
    return costs


def main() -> dict[str, float]:
    OUT.mkdir(parents=True, exist_ok=True)
    (sid, text), *_ = corpus.templates()
    block = corpus.render(text, sid, 1, 40)
    fresh = corpus.render(text, corpus.session_id(sid, 7), 7, APPENDS // 10 + 1)
    lines = fresh.splitlines(keepends=True)
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        small, big = Path(tmp, "small.jsonl"), Path(tmp, "big.jsonl")
        grow(small, 1 << 20, block)
        grow(big, 1 << 30, block)
        store = Store(Path(tmp, "s.db"))
        tailer = Tailer(Sessionizer(store), store)
        c_small = per_append(tailer, small, lines)
        c_big = per_append(tailer, big, lines)
        store.close()
    figures = {
        "appends": APPENDS,
        "small_file_mb": 1.0,
        "big_file_mb": 1024.0,
        "small_median_us": round(statistics.median(c_small) * 1e6, 1),
        "big_median_us": round(statistics.median(c_big) * 1e6, 1),
        "small_p95_us": round(statistics.quantiles(c_small, n=20)[-1] * 1e6, 1),
        "big_p95_us": round(statistics.quantiles(c_big, n=20)[-1] * 1e6, 1),
        "big_to_small_ratio": round(statistics.median(c_big) / statistics.median(c_small), 2),
    }
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
