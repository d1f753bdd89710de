"""The central dashboard in headless Chromium: the screenshot shows the charts."""

from __future__ import annotations

from pathlib import Path

import pytest

from aitally.ingest.dashboard import LEVEL_COLORS, PALETTE
from tests.browser import CHROMIUM, SKIP_REASON, screenshot
from tests.ingest.conftest import ADMIN_TOKEN, Server
from tests.ingest.png import colours
from tests.ingest.test_reports import _populate


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))


def test_dashboard_page_is_self_contained(tmp_path: Path) -> None:
    server = Server(f"sqlite:///{tmp_path / 'd.db'}", tmp_path)
    try:
        assert server.http.get(server.url + "/dashboard").status_code == 401
        _populate(server)
        page = server.admin("GET", "/dashboard")
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
        html = page.text
        assert html.count("<svg") == 3 and "<polyline" in html
        for external in ("<script", "src=", "href=", "@import", "url("):
            assert external not in html  # no external assets, nothing to fetch
        assert "ops" not in html and "codex" not in html  # small groups never shown
    finally:
        server.stop()


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason=SKIP_REASON)
def test_dashboard_screenshot_shows_charts(tmp_path: Path) -> None:
    server = Server(f"sqlite:///{tmp_path / 'd.db'}", tmp_path)
    try:
        _populate(server)
        host = server.url.removeprefix("http://")
        url = f"http://admin:{ADMIN_TOKEN}@{host}/dashboard"
        shot = Path(screenshot(url, "ingest-dashboard", size="900,1200"))
        width, height, counts = colours(shot.read_bytes())
        assert (width, height) == (900, 1200)
        line = counts[_rgb(PALETTE[1])]  # claude-code's line (drawn over the equal (all))
        heavy = counts[_rgb(LEVEL_COLORS["heavy"])]
        none = counts[_rgb(LEVEL_COLORS["none"])]
        assert line > 500, f"adoption chart missing ({line} px)"
        # Level counts under 5 are suppressed (drawn grey) together with complementary ones.
        grey = counts[_rgb(LEVEL_COLORS["suppressed"])]
        assert heavy > 200 and none > 200 and grey > 2000, f"level bars ({heavy}, {none}, {grey})"
    finally:
        server.stop()
