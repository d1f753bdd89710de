"""A client in a real tmux pane gets the PATH the harness gave it, not the one the pane's shell
startup files set."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.realclients.tmux import TmuxPane


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_the_client_sees_the_harness_path(tmp_path: Path) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    out = tmp_path / "path.txt"
    path = f"{tools}:/usr/bin:/bin"
    argv = ["/bin/sh", "-c", f'printf "%s" "$PATH" > {out}; sleep 5']
    pane = TmuxPane(
        f"aitally-test-{tmp_path.name}", argv, {"PATH": path, "HOME": str(tmp_path)}, tmp_path
    )
    try:
        assert pane.start() > 0
        deadline = time.time() + 10
        while not (out.exists() and out.read_text()) and time.time() < deadline:
            time.sleep(0.1)
        assert out.read_text() == path
    finally:
        pane.kill()
