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
    repeat = 24  # a catch-up of several seconds, so that kills land inside it
    made = corpus.write_claude_copies(home / ".claude" / "projects", 200, repeat=repeat)
    want = {
        ("claude-code", new): tuple(v * repeat if v is not None else None for v in true(old))
        for new, old in made.items()
    }
    want.update({k: v for k, v in corpus.TRUE_TOTALS.items() if k[0] == "claude-code"})
    rng = random.Random(20261125)
    kills = partial = 0
    for _ in range(4):
        child = subprocess.Popen(
            aitally_cmd("run", "--once"),
            env=env_for(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(0.3, 2.0))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait()
        partial += got(home) != want
    final = run(home, "run", "--once", timeout=300)
    assert final.returncode == 0, final.stderr
    assert kills >= 1 and partial >= 1  # at least one kill landed in the middle of the catch-up
    assert got(home) == want


def true(sample: str) -> tuple[int | None, ...]:
    return corpus.TRUE_TOTALS[("claude-code", sample)]


def got(home: Path) -> dict[tuple[str, str], tuple[int | None, ...]]:
    out = run(home, "sessions", "--json", "--tool", "claude-code")
    return corpus.totals(corpus.load(out.stdout)) if out.returncode == 0 else {}
