"""The dashboard in headless Chromium: every page renders fixture data, charts, sorting, filters."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.agent.test_dashboard import Dashboard, serving
from tests.agent.test_stats_data import CANARY
from tests.conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = REPO / "test-artifacts"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (.ci/services.sh)"),
]


def chromium(tmp_path: Path, url: str, *extra: str) -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    done = subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *extra, url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def dom(tmp_path: Path, url: str) -> str:
    return chromium(tmp_path, url, "--dump-dom")


def screenshot(tmp_path: Path, url: str, name: str, *extra: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"dashboard-{name}.png"
    target.unlink(missing_ok=True)
    chromium(tmp_path, url, f"--screenshot={target}", "--window-size=1280,1400", *extra)
    assert target.stat().st_size > 10_000
    return target


dashboard = pytest.fixture(serving, name="dashboard")


def test_each_page_renders_with_charts_and_is_kept_as_a_screenshot(
    dashboard: Dashboard, tmp_path: Path
) -> None:
    overview = dom(tmp_path, dashboard.url)
    assert overview.count("<svg") == 2
    bars = re.findall(r'<rect class="bar s\d"', overview)
    assert len(bars) >= 14  # one stacked rect per tool and day with activity
    assert "claude-code: " in overview and "<title>" in overview
    assert re.search(r'<rect class="bar k\d"[^>]*><title>claude-sonnet-4-5 · cache read', overview)
    screenshot(tmp_path, dashboard.url, "overview")
    screenshot(tmp_path, dashboard.url, "overview-dark", "--force-dark-mode")

    sessions = dom(tmp_path, dashboard.url + "sessions")
    assert sessions.count('<tr data-tool="') == 16
    assert 'id="shown">16<' in sessions
    screenshot(tmp_path, dashboard.url + "sessions", "sessions")

    outbound = dom(tmp_path, dashboard.url + "outbound")
    assert "Policy in force" in outbound and "pseudonymous" in outbound
    assert 'id="preview"' in outbound and '"records"' in outbound
    assert "e5f6a7b8" in outbound and "422 tokens.input" in outbound
    screenshot(tmp_path, dashboard.url + "outbound", "outbound")

    sources = dom(tmp_path, dashboard.url + "sources")
    assert "Tools found" in sources and "gemini-cli" in sources and "format drift" in sources
    screenshot(tmp_path, dashboard.url + "sources", "sources")

    for page in (overview, sessions, outbound, sources):
        assert CANARY not in page


def test_sessions_sort_and_filter_in_the_browser(dashboard: Dashboard, tmp_path: Path) -> None:
    # The page's script applies the state carried in the URL, as after a click.
    html = dom(tmp_path, dashboard.url + "sessions?sort=active&dir=asc")
    assert 'data-col="active" aria-sort="ascending"' in html
    rows = re.findall(r"<tr data-tool=[^>]*>(.*?)</tr>", html)
    active = [float(re.findall(r'data-v="([-\d.]+)"', r)[2]) for r in rows]
    assert active == sorted(active) and active[0] < active[-1]

    html = dom(tmp_path, dashboard.url + "sessions?tool=codex&sort=turns&dir=desc")
    shown = re.findall(r'<tr data-tool="([^"]+)"(?! hidden)>', html)
    hidden = re.findall(r'<tr data-tool="([^"]+)" hidden', html)
    assert set(shown) == {"codex"} and len(shown) == 4
    assert len(hidden) == 12 and "codex" not in hidden
    assert 'id="shown">4<' in html

    html = dom(tmp_path, dashboard.url + "sessions?q=gemini")
    assert re.findall(r'<tr data-tool="([^"]+)"(?! hidden)>', html) == ["gemini-cli"]
