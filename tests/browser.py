"""Headless Chromium for tests: one set of flags for this closed network, screenshots kept."""

from __future__ import annotations

import shutil
import subprocess
import tempfile

from tests.conftest import REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = REPO / "test-artifacts"
SKIP_REASON = "chromium is not installed (.ci/services.sh installs it)"
# Without the background-networking flags Chromium keeps trying hosts this network refuses.
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


def chromium(url: str, *extra: str, timeout: float = 120) -> str:
    """Runs Chromium once on `url` with a fresh profile; returns its standard output."""
    assert CHROMIUM is not None, SKIP_REASON
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def screenshot(url: str, name: str, *extra: str, size: str = "1280,1400") -> str:
    """Saves test-artifacts/<name>.png and returns its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / f"{name}.png"
    target.unlink(missing_ok=True)
    chromium(url, f"--screenshot={target}", f"--window-size={size}", *extra)
    assert target.exists(), "chromium wrote no screenshot"
    return str(target)
