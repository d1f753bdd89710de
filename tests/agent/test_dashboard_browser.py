"""The dashboard in headless Chromium: every page renders fixture data, charts, sorting, filters."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests import browser
from tests.agent.test_dashboard import Dashboard, serving
from tests.agent.test_stats_data import CANARY
from tests.browser import CHROMIUM, SKIP_REASON, chromium

pytestmark = [pytest.mark.browser, pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)]


def dom(url: str) -> str:
    return chromium(url, "--dump-dom")


def screenshot(url: str, name: str, *extra: str) -> None:
    target = Path(browser.screenshot(url, f"dashboard-{name}", *extra))
    assert target.stat().st_size > 10_000


dashboard = pytest.fixture(serving, name="dashboard")


def test_each_page_renders_with_charts_and_is_kept_as_a_screenshot(
    dashboard: Dashboard,
) -> None:
    overview = dom(dashboard.url)
    assert overview.count("<svg") == 2
    bars = re.findall(r'<rect class="bar s\d"', overview)
    assert len(bars) >= 14  # one stacked rect per tool and day with activity
    assert "claude-code: " in overview and "<title>" in overview
    assert re.search(r'<rect class="bar k\d"[^>]*><title>claude-sonnet-4-5 · cache read', overview)
    screenshot(dashboard.url, "overview")
    screenshot(dashboard.url, "overview-dark", "--force-dark-mode")

    sessions = dom(dashboard.url + "sessions")
    assert sessions.count('<tr data-tool="') == 16
    assert 'id="shown">16<' in sessions
    screenshot(dashboard.url + "sessions", "sessions")

    outbound = dom(dashboard.url + "outbound")
    assert "Policy in force" in outbound and "pseudonymous" in outbound
    assert 'id="preview"' in outbound and '"records"' in outbound
    assert "e5f6a7b8" in outbound and "422 tokens.input" in outbound
    screenshot(dashboard.url + "outbound", "outbound")

    sources = dom(dashboard.url + "sources")
    assert "Tools found" in sources and "gemini-cli" in sources and "format drift" in sources
    screenshot(dashboard.url + "sources", "sources")

    for page in (overview, sessions, outbound, sources):
        assert CANARY not in page


def test_sessions_sort_and_filter_in_the_browser(dashboard: Dashboard) -> None:
    # The page's script applies the state carried in the URL, as after a click.
    html = dom(dashboard.url + "sessions?sort=active&dir=asc")
    assert 'data-col="active" aria-sort="ascending"' in html
    rows = re.findall(r"<tr data-tool=[^>]*>(.*?)</tr>", html)
    active = [float(re.findall(r'data-v="([-\d.]+)"', r)[2]) for r in rows]
    assert active == sorted(active) and active[0] < active[-1]

    html = dom(dashboard.url + "sessions?tool=codex&sort=turns&dir=desc")
    shown = re.findall(r'<tr data-tool="([^"]+)"(?! hidden)>', html)
    hidden = re.findall(r'<tr data-tool="([^"]+)" hidden', html)
    assert set(shown) == {"codex"} and len(shown) == 4
    assert len(hidden) == 12 and "codex" not in hidden
    assert 'id="shown">4<' in html

    html = dom(dashboard.url + "sessions?q=gemini")
    assert re.findall(r'<tr data-tool="([^"]+)"(?! hidden)>', html) == ["gemini-cli"]
