"""Own-view cost on a year of usage: stats overview and dashboard pages, against same-run floors."""

from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path

DAY = 86400.0
TOOLS = (("claude-code", "claude-sonnet-4-5"), ("codex", "gpt-5-codex"), ("gemini-cli", "g-2.5"))


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _build(segments: int, now: float) -> None:
    from aitally.core import paths
    from aitally.core.observation import Activity, Observation, Tokens, Usage
    from aitally.core.sessionizer import Sessionizer
    from aitally.core.store import Store

    store = Store(paths.store_file())
    sz = Sessionizer(store)
    obs: list[Observation] = []
    for i in range(segments):
        tool, model = TOOLS[i % len(TOOLS)]
        start = now - (i * 365 * DAY / segments) - 3600
        key = f"s{i}"
        for j in range(3):
            at = start + j * 120
            obs.append(Activity(tool, key, at, kind="prompt"))
            obs.append(Usage(tool, key, at + 5, model, Tokens(1000, 200, 5000, 100), f"{key}:{j}"))
        if len(obs) >= 6000:
            sz.apply(obs)
            obs = []
    sz.apply(obs, now=now)
    store.close()


def _http_ms(port: int, path: str, repeat: int) -> float:
    def get() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", path)
        conn.getresponse().read()
        conn.close()

    return _median_ms(get, repeat)


def main() -> dict[str, float]:
    segments = int(os.environ.get("BENCH_VIEW_SEGMENTS", "20000"))
    tmp = Path(tempfile.mkdtemp(prefix="aitally-bench-view-"))
    os.environ["AITALLY_DATA_DIR"] = str(tmp / "data")
    os.environ["AITALLY_CONFIG"] = str(tmp / "config.toml")
    (tmp / "config.toml").write_text("")

    from aitally.agent import reports
    from aitally.agent.dashboard.server import DashboardServer
    from aitally.agent.stats_view import print_overview
    from aitally.core import paths
    from aitally.core.store import Store

    now = time.time()
    t = time.perf_counter()
    _build(segments, now)
    build_s = time.perf_counter() - t
    store = Store(paths.store_file())
    conn = store.conn
    out: dict[str, float] = {"segments": segments, "build_s": round(build_s, 1)}

    # Floor: the one query every view starts from, over the month the overview covers.
    month = reports.period_starts(now)["this month"]
    last30 = now - 30 * DAY
    out["floor_sessions_query_ms"] = _median_ms(
        lambda: reports.sessions(conn, since=min(month, last30)), 9
    )
    out["overview_data_ms"] = _median_ms(lambda: reports.overview(conn, now), 9)
    view = reports.overview(conn, now)

    def render() -> None:
        with redirect_stdout(StringIO()):
            print_overview(view, colour=False, width=80)

    out["overview_render_ms"] = _median_ms(render, 9)
    out["overview_vs_floor"] = out["overview_data_ms"] / out["floor_sessions_query_ms"]
    store.close()

    # Whole commands, against the interpreter start-up they cannot avoid.
    exe = str(Path(sys.executable).parent / "aitally")
    cmd = [exe, "stats"]
    env = dict(os.environ, COLUMNS="80")
    out["cli_version_ms"] = _median_ms(
        lambda: subprocess.run([exe, "--version"], capture_output=True, check=True), 5
    )
    out["cli_stats_ms"] = _median_ms(
        lambda: subprocess.run(cmd, capture_output=True, check=True, env=env), 5
    )
    out["cli_stats_vs_version"] = out["cli_stats_ms"] / out["cli_version_ms"]

    server = DashboardServer(0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port, base = server.server_address[1], f"/{server.secret}/"
    out["http_404_floor_ms"] = _http_ms(port, "/nope", 20)
    pages = (
        ("", "overview"),
        ("sessions", "sessions"),
        ("outbound", "outbound"),
        ("sources", "sources"),
    )
    for slug, name in pages:
        out[f"page_{name}_ms"] = _http_ms(port, base + slug, 5)
    out["page_sessions_vs_query"] = out["page_sessions_ms"] / out["floor_sessions_query_ms"]
    server.shutdown()
    server.server_close()
    for key, value in out.items():
        print(f"{key:28} {value:10.2f}")
    return {k: round(v, 2) for k, v in out.items()}


if __name__ == "__main__":
    main()
