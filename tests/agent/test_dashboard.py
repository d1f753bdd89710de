"""`aitally dashboard` as a real child process over HTTP: the secret, the Host check, headers."""

from __future__ import annotations

import http.client
import os
import re
import select
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from aitally.core import paths
from tests.agent.test_stats_data import CANARY, build_store
from tests.conftest import aitally_cmd

PAGES = ("", "sessions", "outbound", "sources")


@dataclass
class Dashboard:
    proc: subprocess.Popen[str]
    url: str

    @property
    def port(self) -> int:
        return int(urlsplit(self.url).port or 0)

    @property
    def base(self) -> str:
        return urlsplit(self.url).path

    def get(
        self, path: str, host: str | None = None, method: str = "GET"
    ) -> http.client.HTTPResponse:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": host} if host else {}
        conn.request(method, path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp

    def text(self, path: str) -> str:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("GET", path)
        resp = conn.getresponse()
        assert resp.status == 200, path
        return resp.read().decode()


def start_dashboard() -> Dashboard:
    proc = subprocess.Popen(
        aitally_cmd("dashboard", "--no-browser", "--port", "0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    assert ready, "the dashboard printed no URL within 30 s"
    url = proc.stdout.readline().strip()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/[A-Za-z0-9_-]{32}/", url), url
    return Dashboard(proc, url)


def stop(d: Dashboard) -> int:
    """Ctrl-C ends it cleanly; nothing it logged may carry the secret."""
    d.proc.send_signal(signal.SIGINT)
    try:
        _, err = d.proc.communicate(timeout=15)
    finally:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()
    assert d.base.strip("/") not in err
    return d.proc.returncode


def serving() -> Iterator[Dashboard]:
    """A dashboard over the fixture store, stopped (and checked) after the test."""
    build_store()
    d = start_dashboard()
    yield d
    assert stop(d) == 0


dashboard = pytest.fixture(serving, name="dashboard")


def test_every_page_is_served_with_locked_down_headers(dashboard: Dashboard) -> None:
    for page in PAGES:
        resp = dashboard.get(dashboard.base + page)
        assert resp.status == 200, page
        csp = resp.getheader("Content-Security-Policy") or ""
        assert "default-src 'none'" in csp and "script-src 'nonce-" in csp
        assert resp.getheader("Referrer-Policy") == "no-referrer"
        assert resp.getheader("Cache-Control") == "no-store"
        html = dashboard.text(dashboard.base + page)
        assert CANARY not in html
        # Nothing is loaded from anywhere else: no absolute or protocol-relative URLs.
        assert not re.search(r"""(src|href|action)=["']?(https?:)?//""", html)
        assert "<svg" in html or page != ""


def test_requests_without_the_secret_are_refused(dashboard: Dashboard) -> None:
    secret = dashboard.base.strip("/")
    wrong = "x" * len(secret)
    for path in (
        "/",
        "/sessions",
        f"/{wrong}/",
        f"/{wrong}/sessions",
        f"/{secret[:-1]}/",
        "/favicon.ico",
    ):
        assert dashboard.get(path).status == 404, path
    # A DNS-rebinding page reaches 127.0.0.1 under its own host name: refused even with the path.
    assert dashboard.get(dashboard.base, host=f"attacker.example:{dashboard.port}").status == 403
    assert dashboard.get(dashboard.base, host=f"localhost:{dashboard.port}").status == 200
    assert dashboard.get(f"/{secret}").status == 308
    assert dashboard.get(dashboard.base + "nope").status == 404
    assert dashboard.get(dashboard.base, method="POST").status == 501


def test_export_downloads(dashboard: Dashboard) -> None:
    resp = dashboard.get(dashboard.base + "export?format=csv&days=30")
    assert resp.status == 200
    assert "attachment" in (resp.getheader("Content-Disposition") or "")
    body = dashboard.text(dashboard.base + "export?format=csv&days=30")
    assert body.startswith("id,tool,") and CANARY not in body
    assert dashboard.text(dashboard.base + "export?format=json&days=7").startswith(
        '{\n  "sessions"'
    )


def test_pages_show_the_fixture_data(dashboard: Dashboard) -> None:
    overview = dashboard.text(dashboard.base)
    assert overview.count("<svg") == 2 and "claude-sonnet-4-5" in overview
    sessions = dashboard.text(dashboard.base + "sessions")
    assert sessions.count('<tr data-tool="') == 16
    outbound = dashboard.text(dashboard.base + "outbound")
    assert "pseudonymous" in outbound and "e5f6a7b8" in outbound and "422 tokens.input" in outbound
    sources = dashboard.text(dashboard.base + "sources")
    assert "gemini-cli" in sources and "parse_errors" in sources


def test_without_a_store_pages_explain_and_create_nothing() -> None:
    d = start_dashboard()
    try:
        for page in PAGES:
            html = d.text(d.base + page)
            assert "<html" in html
        assert "No usage recorded yet" in d.text(d.base)
        assert not paths.store_file().exists()
    finally:
        assert stop(d) == 0


def test_bad_port_is_a_usage_error() -> None:
    for port in ("70000", "-1"):
        done = subprocess.run(
            aitally_cmd("dashboard", "--no-browser", "--port", port), capture_output=True, text=True
        )
        assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    d = start_dashboard()
    try:
        taken = subprocess.run(
            aitally_cmd("dashboard", "--no-browser", "--port", str(d.port)),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert taken.returncode == 2 and "--port" in taken.stderr
    finally:
        stop(d)


def test_store_from_a_newer_aitally_is_one_line_exit_2() -> None:
    from aitally.core.store import Store

    Store(paths.store_file()).close()
    with sqlite3.connect(paths.store_file()) as conn:
        conn.execute("PRAGMA user_version = 999")
    done = subprocess.run(
        aitally_cmd("dashboard", "--no-browser"), capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert done.stderr.count("\n") == 1 and "newer than this aitally" in done.stderr


@pytest.mark.parametrize(
    ("seconds", "unit", "top_label"),
    [(8.0, "s", "8"), (38 * 60.0, "min", "40"), (14 * 3600.0, "h", "15")],
)
def test_day_chart_axis_reads_in_a_fitting_unit(seconds: float, unit: str, top_label: str) -> None:
    from aitally.agent.dashboard.charts import stacked_days

    svg = stacked_days(["2026-11-24", "2026-11-25"], {"codex": [0.0, seconds]}, tip=str)
    labels = re.findall(r"text-anchor=end>([^<]+)</text>", svg)
    *ticks, label = labels
    assert label == unit
    assert ticks[0] == "0" and ticks[-1] == top_label and len(set(ticks)) == len(ticks)
    assert f"<title>2026-11-25 · codex: {seconds}</title>" in svg


def test_sigterm_stops_it_cleanly() -> None:
    d = start_dashboard()
    d.proc.terminate()
    assert d.proc.wait(timeout=15) == 0


def test_browser_gets_a_private_file_never_the_secret(tmp_path: Path) -> None:
    """The browser's command line (visible to every local user) carries no secret."""
    seen = tmp_path / "argv.txt"
    opener = tmp_path / "fake-browser"
    opener.write_text(f'#!/bin/sh\nprintf "%s" "$*" > {seen}\n')
    opener.chmod(0o755)
    proc = subprocess.Popen(
        aitally_cmd("dashboard", "--port", "0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BROWSER": str(opener)},
    )
    assert proc.stdout is not None
    d = Dashboard(proc, proc.stdout.readline().strip())
    try:
        for _ in range(100):
            if seen.exists() and seen.read_text():
                break
            time.sleep(0.1)
        argv = seen.read_text()
        secret = d.base.strip("/")
        assert secret not in argv and argv.startswith("file://")
        redirect = Path(argv.removeprefix("file://"))
        assert redirect.stat().st_mode & 0o777 == 0o600
        assert d.url in redirect.read_text()
    finally:
        assert stop(d) == 0
    assert not redirect.exists()


def test_figures_from_telemetry_are_marked(tmp_path: Path) -> None:
    """A call that reached the real loopback receiver only as telemetry puts `otlp` in its
    session's signals (`sessions --json`), and the dashboard marks that session and tool."""
    import json

    from aitally.collectors.otlp.receiver import OtlpCollector
    from aitally.core.sessionizer import Sessionizer
    from aitally.core.store import Store
    from tests.collectors.otlp.helpers import post, protobuf_logs

    build_store()
    store = Store(paths.store_file())
    collector = OtlpCollector(store, Sessionizer(store), 0, paths.data_dir())
    collector.start()
    try:
        r = collector.receiver
        assert r is not None
        body = protobuf_logs("req_dash1", session="cc-open")
        status = post(
            r.port, "/v1/logs", body, token=r.token, content_type="application/x-protobuf"
        )
        assert status[0] == 200
    finally:
        collector.stop()
        store.close()

    out = subprocess.run(
        aitally_cmd("sessions", "--json"), capture_output=True, text=True, check=True
    ).stdout
    rows = json.loads(out)["sessions"]
    with_otlp = {s["tool_session_id"] for s in rows if "otlp" in s["signals"]}
    assert with_otlp == {"cc-open"}

    d = start_dashboard()
    try:
        sessions = d.text(d.base + "sessions")
        overview = d.text(d.base)
    finally:
        assert stop(d) == 0
    rows_html = [row for row in sessions.split("<tr ") if row.startswith("data-tool=")]
    marked = [row for row in rows_html if "class=badge" in row]
    assert len(rows_html) == 16 and len(marked) == 1
    assert marked[0].startswith('data-tool="claude-code"')
    assert ">telemetry</span>" in marked[0] and "otlp" not in marked[0]
    month = overview.split("This month per tool")[1]
    tool_rows = {row.split("<")[0]: row for row in month.split("<tr><td>")[1:]}
    assert "class=badge" in tool_rows["claude-code"]
    assert "class=badge" not in tool_rows["codex"]


def test_outcomes_are_shown_on_the_overview_and_per_session() -> None:
    from aitally.core.observation import OutcomeCounts
    from aitally.core.sessionizer import Sessionizer
    from aitally.core.store import Store

    built = build_store()
    store = Store(paths.store_file())
    counts = {"edits_proposed": 2, "edits_accepted": 1, "lines_added": 12, "commands_run": 3}
    Sessionizer(store).apply(
        [OutcomeCounts("claude-code", "cc-open", built["now"] - 30, counts, "k-dash")]
    )
    store.close()
    d = start_dashboard()
    try:
        overview = d.text(d.base)
        sessions = d.text(d.base + "sessions")
    finally:
        assert stop(d) == 0
    made = overview.split("What it produced this month, per tool", 1)[1]
    # Only the kinds some tool recorded get a column; a tool without any shows "-".
    head = made.split("</thead>", 1)[0]
    assert [c for c in ("edits", "accepted", "+lines", "cmds", "rejected") if c in head] == [
        "edits",
        "accepted",
        "+lines",
        "cmds",
    ]
    assert "<td>claude-code</td><td class=n>2</td><td class=n>1</td><td class=n>12</td>" in made
    assert "<td>codex</td><td class=n>-</td>" in made
    assert sessions.count("1/2 edits kept, +12 -0, 3 cmds") == 1
