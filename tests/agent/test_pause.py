"""`aitally pause` / `resume`: the pauses table, the sessionizer dropping paused time, policy."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from aitally.agent.cli.cmd_view import parse_duration
from aitally.core import paths
from aitally.core.errors import UsageError
from aitally.core.observation import Activity, Tokens, Usage
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store
from tests.conftest import aitally_cmd


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        aitally_cmd(*args), capture_output=True, text=True, env={**os.environ, **env}, timeout=60
    )


def _pauses() -> list[tuple[float, float | None, float | None]]:
    store = Store(paths.store_file())
    try:
        rows = store.conn.execute("SELECT started_at, ends_at, ended_at FROM pauses ORDER BY id")
        return [(r[0], r[1], r[2]) for r in rows]
    finally:
        store.close()


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("2h", 7200), ("1h30m", 5400), ("1d", 86400), ("90s", 90), ("45", 2700)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0m", "soon", "1x", "h", "-5m", "366d", "99999999d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError):
        parse_duration(text)


def test_a_huge_duration_is_refused_before_anything_is_stored() -> None:
    # It used to be stored, then every later `aitally stats` failed formatting its end.
    done = _run("pause", "99999999d")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "without a duration" in done.stderr
    assert not paths.store_file().exists() or _pauses() == []
    assert _run("stats").returncode == 0


def test_pause_drops_what_happens_meanwhile_and_resume_ends_it() -> None:
    before = time.time()
    done = _run("pause", "30m")
    assert done.returncode == 0, done.stderr
    assert "paused until" in done.stdout
    [(start, ends, ended)] = _pauses()
    assert before <= start <= time.time() and ends is not None
    assert abs(ends - start - 1800) < 1 and ended is None

    store = Store(paths.store_file())
    sz = Sessionizer(store)
    now = time.time()
    sz.apply(
        [
            Activity("claude-code", "s-1", now, kind="prompt"),
            Usage("claude-code", "s-1", now + 1, "claude-sonnet-4-5", Tokens(input=10), "m1"),
        ]
    )
    assert store.conn.execute("SELECT COUNT(*) FROM segments").fetchone()[0] == 0
    assert store.counters("paused_dropped") == {"claude-code": 2}
    store.close()
    assert "collection is paused" in _run("stats").stdout

    # Pausing again while paused moves the planned end instead of stacking pauses.
    assert _run("pause").returncode == 0
    [(_, ends, _)] = _pauses()
    assert ends is None

    done = _run("resume")
    assert done.returncode == 0 and "resumed after" in done.stdout
    [(start, _, ended)] = _pauses()
    assert ended is not None and ended >= start
    assert "not paused" in _run("resume").stdout
    assert "collection is paused" not in _run("stats").stdout


def test_expired_pause_is_closed_at_its_planned_end() -> None:
    store = Store(paths.store_file())
    with store.transaction() as conn:
        conn.execute("INSERT INTO pauses(started_at, ends_at) VALUES (?, ?)", (100.0, 200.0))
    store.close()
    assert "not paused" in _run("resume").stdout
    assert _pauses() == [(100.0, 200.0, 200.0)]


def test_policy_can_forbid_pausing() -> None:
    done = _run("pause", "1h", AITALLY_AGENT_PAUSED_ALLOWED="false")
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "agent.paused_allowed" in line and "environment" in line
    assert not paths.store_file().exists() or _pauses() == []
    bad = _run("pause", "a while")
    assert bad.returncode == 2 and "30m" in bad.stderr
