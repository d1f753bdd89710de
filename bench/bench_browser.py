"""Browser history: a first read of a 1-million-visit Chromium history and an incremental read
after 100 new visits, time and peak memory, against a bare sqlite3 SELECT of the same rows."""

from __future__ import annotations

import gc
import os
import random
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aitally.collectors.browser import collector as browser  # noqa: E402
from aitally.core import config  # noqa: E402
from aitally.core.sessionizer import Sessionizer  # noqa: E402
from aitally.core.store import Store  # noqa: E402
from tests.collectors.browser.histories import CHROMIUM_SCHEMA  # noqa: E402

VISITS = 1_000_000
URLS = 20_000
AI_SHARE = 0.05  # one visit in twenty is to an AI service
HOSTS = ["chatgpt.com", "claude.ai", "gemini.google.com", "news.example.org", "docs.example.com"]


def build(path: Path, n: int, start_id: int = 0, now: float | None = None) -> None:
    """n visits over the last 30 days (or the last minutes, after `start_id`)."""
    rng = random.Random(start_id)
    now = time.time() if now is None else now
    conn = sqlite3.connect(path)
    if start_id == 0:
        conn.executescript(CHROMIUM_SCHEMA)
        urls = []
        for i in range(URLS):
            ai = rng.random() < AI_SHARE
            host = rng.choice(HOSTS[:3]) if ai else rng.choice(HOSTS[3:])
            urls.append((i + 1, f"https://{host}/c/{i}?q=some+long+query+text+{i}", "a title"))
        conn.executemany("INSERT INTO urls(id, url, title, last_visit_time) VALUES (?,?,?,0)", urls)
    span = 30 * 86400 if start_id == 0 else 600
    rows = [
        (
            start_id + i + 1,
            rng.randint(1, URLS),
            int((now - span + span * i / n + 11_644_473_600) * 1e6),
            rng.randint(0, 300) * 1_000_000,
        )
        for i in range(n)
    ]
    conn.executemany(
        "INSERT INTO visits(id, url, visit_time, visit_duration, transition) VALUES (?,?,?,?,1)",
        rows,
    )
    conn.commit()
    conn.close()


def agent_read(tmp: Path, profile: Path, now: float) -> tuple[float, float, int]:
    """(seconds, peak MiB allocated by Python, AI visits read so far) of one poll."""
    cfg_file = tmp / "config.toml"
    cfg_file.write_text(
        "[agent]\nbackfill_days = 31\n[browser]\n"
        f'extra_roots = {{ chrome = ["{profile.parent}"] }}\n'
    )
    cfg = config.load(user_file=cfg_file, environ={}, managed=lambda: [])
    store = Store(tmp / "data" / "aitally.db")
    try:
        collector = browser.BrowserCollector(cfg, store, Sessionizer(store), env={"HOME": "/none"})
        gc.collect()
        tracemalloc.start()
        started = time.perf_counter()
        collector.poll(now)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        return seconds, peak, sum(store.counters("browser_visits").values())
    finally:
        store.close()


def bare_select(db: Path, after: int) -> tuple[float, float]:
    """The baseline: one SELECT of the same rows (id, time, duration, URL), no copy, no parse."""
    gc.collect()
    tracemalloc.start()
    started = time.perf_counter()
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    rows = conn.execute(
        "SELECT v.id, v.visit_time, v.visit_duration, u.url FROM visits v"
        " JOIN urls u ON u.id = v.url WHERE v.id > ? ORDER BY v.id",
        (after,),
    )
    for _ in rows:
        pass
    conn.close()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak


def main() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="aitally-bench-browser-") as name:
        tmp = Path(name)
        db = tmp / "chrome" / "Default" / "History"
        db.parent.mkdir(parents=True)
        now = time.time()
        build(db, VISITS, now=now)
        size = os.path.getsize(db)
        first_s, first_mib, first_ai = agent_read(tmp, db, now + 601)
        base_s, base_mib = bare_select(db, 0)
        build(db, 100, start_id=VISITS, now=now)
        inc_s, inc_mib, total_ai = agent_read(tmp, db, now + 601)
        base_inc_s, _ = bare_select(db, VISITS)
    return {
        "visits": VISITS,
        "history_mib": round(size / 2**20, 1),
        "first_read_s": round(first_s, 2),
        "first_read_peak_mib": round(first_mib, 1),
        "first_read_ai_visits": first_ai,
        "baseline_select_s": round(base_s, 2),
        "baseline_select_peak_mib": round(base_mib, 1),
        "incremental_100_ms": round(inc_s * 1000, 1),
        "incremental_100_peak_mib": round(inc_mib, 1),
        "incremental_ai_visits": total_ai - first_ai,
        "baseline_incremental_select_ms": round(base_inc_s * 1000, 2),
    }


if __name__ == "__main__":
    for key, value in main().items():
        print(f"{key:<34}{value}")
