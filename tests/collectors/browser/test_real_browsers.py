"""Real browsers (Debian's headless Chromium, and Firefox ESR where installed) visit AI hosts
served by a loopback page and one other host; `aitally run --once`, while the browser still
runs and holds its history open, reports web sessions of the right tools and nothing else, and
no marker planted in paths, queries and titles reaches anything the agent writes."""

from __future__ import annotations

import json
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from aitally.collectors.browser import history_db
from aitally.collectors.browser.profiles import Engine
from tests.browser import CHROMIUM, FLAGS, SKIP_REASON
from tests.collectors.files.helpers import run
from tests.uploader.helpers import self_signed

MARK = "QZXREALMARK"
# Each page sends the browser on to the next host after a moment; the last one stays open.
CHAIN = {"chatgpt.com": "claude.ai", "claude.ai": "news.example.org"}
HOSTS = ["chatgpt.com", "claude.ai", "news.example.org"]
FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")

pytestmark = pytest.mark.browser


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        after = CHAIN.get(host)
        # Same scheme and port as this page, the next host, markers in path, query, fragment.
        hop = (
            f"location.protocol + '//{after}' + (location.port ? ':' + location.port : '')"
            f" + '/{MARK}/path?q={MARK}#{MARK}'"
        )
        script = f"setTimeout(() => location.href = {hop}, 1500);" if after else ""
        body = (
            f"<!doctype html><title>{MARK} title</title><p>{MARK}</p><script>{script}</script>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(tmp: Path, tls: bool) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    if tls:  # chatgpt.com and claude.ai are on the HSTS preload list: https or nothing
        cert, key = self_signed(tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[int]:
    """The loopback page over plain HTTP."""
    yield from _serve(tmp_path, tls=False)


@pytest.fixture
def tls_page(tmp_path: Path) -> Iterator[int]:
    """The loopback page over HTTPS, with a self-signed certificate."""
    yield from _serve(tmp_path, tls=True)


def _wait_for_visits(db: Path, engine: Engine, n: int, timeout: float = 90) -> None:
    """Until the browser has written n visits to its history (it commits on a timer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with history_db.snapshot(db) as conn:
                found = {v.host for batch in history_db.visits(conn, engine, 0) for v in batch}
            if len(found & set(HOSTS)) >= n:
                return
        except history_db.HistoryUnreadable:
            pass
        time.sleep(1)
    raise AssertionError(f"the browser wrote no {n} visits to {db} in {timeout} s")


def _agent_sees(home: Path, data: Path) -> list[dict[str, object]]:
    done = run(home, "run", "--once", AITALLY_DATA_DIR=str(data))
    assert done.returncode == 0, done.stderr[-2000:]
    shown = run(home, "sessions", "--json", AITALLY_DATA_DIR=str(data))
    assert shown.returncode == 0, shown.stderr
    return list(json.loads(shown.stdout)["sessions"])


def _check(found: list[dict[str, object]], data: Path, browser: str) -> None:
    # Web sessions only: the process scanner also sees the AI tools running on this machine.
    sessions = [s for s in found if s["surface"] == "web" or str(s["tool"]).endswith("-web")]
    assert sorted((s["tool"], s["surface"]) for s in sessions) == [
        ("chatgpt-web", "web"),
        ("claude-web", "web"),
    ]
    assert all(s["signals"] == ["history"] for s in sessions)
    for p in data.rglob("*"):
        if p.is_file():
            raw = p.read_bytes()
            assert MARK.encode() not in raw and b"news.example" not in raw, p
    shown = run(data.parent / "home", "status", "--json", AITALLY_DATA_DIR=str(data))
    status = json.loads(shown.stdout)
    assert [p["browser"] for p in status["browser"]["profiles"]] == [browser]


@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_headless_chromium(tmp_path: Path, tls_page: int) -> None:
    home = tmp_path / "home"
    profile = home / ".config" / "chromium"
    rules = ",".join(f"MAP {h} 127.0.0.1:{tls_page}" for h in HOSTS)
    assert CHROMIUM is not None
    browser = subprocess.Popen(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--host-resolver-rules={rules}",
            "--ignore-certificate-errors",
            f"https://chatgpt.com/c/{MARK}?q={MARK}#{MARK}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_visits(profile / "Default" / "History", "chromium", 3)
        assert browser.poll() is None, "Chromium exited early"
        _check(_agent_sees(home, tmp_path / "data"), tmp_path / "data", "chromium")
        assert browser.poll() is None  # still running, its history open
    finally:
        browser.terminate()
        browser.wait(timeout=30)


@pytest.mark.skipif(
    FIREFOX is None, reason="firefox is not installed (apt-get install firefox-esr)"
)
def test_headless_firefox(tmp_path: Path, page: int) -> None:
    home = tmp_path / "home"
    profile = home / ".mozilla" / "firefox" / "test.default-release"
    profile.mkdir(parents=True)
    prefs = {
        "network.dns.localDomains": ",".join(HOSTS),
        "dom.security.https_only_mode": False,
        "dom.security.https_first": False,
        "browser.shell.checkDefaultBrowser": False,
        "datareporting.policy.dataSubmissionEnabled": False,
        "app.update.enabled": False,
        "network.proxy.type": 0,
        "network.stricttransportsecurity.preloadlist": False,
    }
    (profile / "user.js").write_text(
        "".join(f"user_pref({json.dumps(k)}, {json.dumps(v)});\n" for k, v in prefs.items())
    )
    assert FIREFOX is not None
    browser = subprocess.Popen(
        [
            FIREFOX,
            "--headless",
            "--no-remote",
            "--profile",
            str(profile),
            f"http://chatgpt.com:{page}/c/{MARK}?q={MARK}#{MARK}",
        ],
        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "MOZ_HEADLESS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_visits(profile / "places.sqlite", "firefox", 3)
        assert browser.poll() is None, "Firefox exited early"
        _check(_agent_sees(home, tmp_path / "data"), tmp_path / "data", "firefox")
        assert browser.poll() is None
    finally:
        browser.terminate()
        browser.wait(timeout=30)
