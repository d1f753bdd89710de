"""SIGKILL at random moments during backfill, then a restart: exactly the true totals."""

from __future__ import annotations

import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.collectors.files import corpus
from tests.collectors.files.helpers import env_for, run
from tests.conftest import aitally_cmd


@pytest.mark.slow
def test_killed_backfill_resumes_without_loss_or_double_count(tmp_path: Path) -> None:
    home = tmp_path / "home"
    corpus.layout(home)
    made = corpus.write_claude_copies(home / ".claude" / "projects", 400)
    rng = random.Random(20261125)
    kills = 0
    for _ in range(4):
        child = subprocess.Popen(
            aitally_cmd("run", "--once"),
            env=env_for(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 1.5))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait()
    final = run(home, "run", "--once", timeout=300)
    assert final.returncode == 0, final.stderr
    got = corpus.totals(
        corpus.load(run(home, "sessions", "--json", "--tool", "claude-code").stdout)
    )
    assert kills >= 1
    want = {
        ("claude-code", new): corpus.TRUE_TOTALS[("claude-code", old)] for new, old in made.items()
    }
    want.update({k: v for k, v in corpus.TRUE_TOTALS.items() if k[0] == "claude-code"})
    assert got == want
