"""Files a tool folder should not hold but may: a FIFO, a huge sparse file, symlinks out."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import aitally_cmd


def _status() -> dict:
    out = subprocess.run(aitally_cmd("status", "--json"), capture_output=True, text=True)
    return json.loads(out.stdout)


def test_a_fifo_named_like_a_process_link_never_hangs_the_agent(tmp_path: Path) -> None:
    """Issue 17: `~/.claude/sessions/<pid>.json` as a FIFO blocked the agent's open() for
    good, past SIGTERM. A real FIFO, a real agent: one pass ends, and SIGTERM stops it."""
    sessions = Path(os.environ["HOME"]) / ".claude" / "sessions"
    sessions.mkdir(parents=True)
    os.mkfifo(sessions / f"{os.getpid()}.json")
    done = subprocess.run(aitally_cmd("run", "--once"), capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr

    env = dict(os.environ, AITALLY_AGENT_SCAN_INTERVAL="0.2")
    agent = subprocess.Popen(
        aitally_cmd("run"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while not _status()["running"] and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # a few scans, each one past the FIFO
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=10) == 0
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()
