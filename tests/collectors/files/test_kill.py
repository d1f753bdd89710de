"""SIGKILL at random moments during backfill, then a restart: exactly the true totals."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest

from aitally.core import paths
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
    for attempt in range(4):
        child = subprocess.Popen(
            aitally_cmd("run", "--once"),
            env=env_for(home),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if attempt == 0:  # surely mid-way: some batches committed, most of the corpus not
            wait_for_first_commit(child)
        else:
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


def wait_for_first_commit(child: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Returns once the catch-up has committed its first read positions (or the child ended)."""
    db = paths.store_file()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.poll() is None:
        try:
            with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as conn:
                if conn.execute("SELECT COUNT(*) FROM file_positions").fetchone()[0]:
                    return
        except sqlite3.Error:
            pass  # not created or not migrated yet
        time.sleep(0.01)


def true(sample: str) -> tuple[int | None, ...]:
    return corpus.TRUE_TOTALS[("claude-code", sample)]


def got(home: Path) -> dict[tuple[str, str], tuple[int | None, ...]]:
    out = run(home, "sessions", "--json", "--tool", "claude-code")
    return corpus.totals(corpus.load(out.stdout)) if out.returncode == 0 else {}
