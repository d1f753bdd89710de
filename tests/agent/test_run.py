"""`aitally run` as a real child process: sessions appear, stop is clean, SIGKILL loses nothing."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from aitally.core import exit_status
from tests.conftest import aitally_cmd
from tests.waiting import wait_for

SLEEP = shutil.which("sleep") or "/bin/sleep"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(aitally_cmd(*args), capture_output=True, text=True, timeout=60)


def sessions_for(pid: int) -> list[dict]:
    res = cli("sessions", "--json")
    assert res.returncode == 0, res.stderr
    return [s for s in json.loads(res.stdout)["sessions"] if pid in s["pids"]]


@pytest.fixture
def agent_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AITALLY_AGENT_SCAN_INTERVAL", "0.2")


def start_agent() -> subprocess.Popen[str]:
    p = subprocess.Popen(
        aitally_cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    wait_for(lambda: p.poll() is not None or json.loads(cli("status", "--json").stdout)["running"])
    assert p.poll() is None, p.communicate()
    return p


@pytest.fixture
def fake_tool(tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    (tmp_path / "bin").mkdir()

    def start(name: str) -> subprocess.Popen[bytes]:
        exe = tmp_path / "bin" / name
        if not exe.exists():
            shutil.copy(SLEEP, exe)
        p = subprocess.Popen([str(exe), "120"])
        started.append(p)
        return p

    yield start
    for p in started:
        p.kill()
        p.wait()


def test_help_lists_commands() -> None:
    res = cli("--help")
    for command in ("run", "status", "sessions", "stats", "config"):
        assert command in res.stdout


def test_bad_arguments_one_line_exit_2() -> None:
    for args in (
        ["stats", "--by", "planet"],
        ["sessions", "--since", "last tuesday"],
        ["frobnicate"],
    ):
        res = cli(*args)
        assert res.returncode == 2, args
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr


def test_session_lifecycle_and_clean_stop(agent_env: None, fake_tool: Callable) -> None:
    agent = start_agent()
    try:
        tool = fake_tool("claude")
        # The first scan follows the collectors' start: allow for a loaded machine.
        found: list[dict] = wait_for(lambda: sessions_for(tool.pid), 30)  # type: ignore[assignment]
        (s,) = found
        assert s["tool"] == "claude-code" and s["open"] and s["ended_at"] is None
        assert "process" in s["signals"]
        tool.kill()
        tool.wait()
        killed = time.time()
        closed = wait_for(lambda: [x for x in sessions_for(tool.pid) if not x["open"]])
        end = closed[0]["ended_at"]  # type: ignore[index]
        from datetime import datetime

        end_ts = datetime.fromisoformat(end.replace("Z", "+00:00")).timestamp()
        assert killed - 2 <= end_ts <= killed + 2
        status = json.loads(cli("status", "--json").stdout)
        assert status["running"] and status["pid"] == agent.pid
        assert status["last_scan"]["processes"] > 0
    finally:
        t0 = time.monotonic()
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=10)
    assert time.monotonic() - t0 < 2.0, "clean stop on SIGTERM within 2 s"
    assert agent.returncode == 0
    assert not json.loads(cli("status", "--json").stdout)["running"]


def test_second_agent_names_the_running_pid(agent_env: None) -> None:
    agent = start_agent()
    try:
        res = cli("run", "--once")
        assert res.returncode == exit_status.ALREADY_RUNNING
        assert f"pid {agent.pid}" in res.stderr
    finally:
        agent.send_signal(signal.SIGINT)
        agent.wait(timeout=10)
    assert agent.returncode == 0


def test_run_once_exits(agent_env: None, fake_tool: Callable) -> None:
    tool = fake_tool("codex")
    res = cli("run", "--once")
    assert res.returncode == 0, res.stderr
    assert sessions_for(tool.pid)[0]["tool"] == "codex"


def test_sigkill_mid_work_keeps_store_intact(
    agent_env: None, fake_tool: Callable, isolated_env: Path
) -> None:
    rng = random.Random(7)
    tools = [fake_tool(rng.choice(["claude", "codex", "aider"])) for _ in range(3)]
    started = {t.pid for t in tools}
    for _round in range(6):
        agent = start_agent()
        # churn: tools come and go while the agent works
        victim = tools.pop(rng.randrange(len(tools)))
        victim.kill()
        victim.wait()
        tools.append(fake_tool(rng.choice(["claude", "codex"])))
        started.add(tools[-1].pid)
        time.sleep(rng.uniform(0.05, 0.8))
        os.kill(agent.pid, signal.SIGKILL)
        agent.wait()
        conn = sqlite3.connect(isolated_env / "aitally.db")
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
    # The next start is consistent: every dead process's session is closed and each live
    # one has exactly one open segment.
    res = cli("run", "--once")
    assert res.returncode == 0, res.stderr
    live = {t.pid for t in tools}
    for pid in started:
        open_segments = [s for s in sessions_for(pid) if s["open"]]
        assert len(open_segments) == (1 if pid in live else 0), (pid, open_segments)
    conn = sqlite3.connect(isolated_env / "aitally.db")
    rows = {r[0] for r in conn.execute("SELECT pid FROM live_processes")}
    assert rows & started == live


def test_store_bounds_hold_without_any_upload_endpoint(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aitally.core.observation import Activity
    from aitally.core.sessionizer import Sessionizer
    from aitally.core.store import Store

    store = Store(isolated_env / "aitally.db")
    old = time.time() - 10 * 86400
    Sessionizer(store).apply([Activity("codex", "old", old, kind="prompt")], now=old + 3600)
    store.close()
    monkeypatch.setenv("AITALLY_STORE_MAX_AGE_DAYS", "7")
    res = cli("run", "--once")
    assert res.returncode == 0, res.stderr
    status = json.loads(cli("status", "--json").stdout)
    assert status["dropped"] == {"age": 1}
    left = json.loads(cli("sessions", "--json").stdout)["sessions"]
    assert [s for s in left if s["tool_session_id"] == "old"] == []


def test_bad_config_at_start_is_also_left_in_the_log(tmp_path: Path, isolated_env: Path) -> None:
    (tmp_path / "aitally-config.toml").write_text("[agent]\nscan_interval = 'x'\n")
    res = cli("run", "--once")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    log = (isolated_env / "logs" / "agent.log").read_text()
    assert "not starting" in log and "agent.scan_interval" in log


def test_limit_must_be_positive() -> None:
    for bad in ("0", "-1", "x"):
        res = cli("sessions", "--limit", bad)
        assert res.returncode == 2 and "at least 1" in res.stderr


def test_unknown_tool_ids_in_configuration_are_warned(tmp_path: Path, isolated_env: Path) -> None:
    (tmp_path / "aitally-config.toml").write_text(
        "[collectors]\ndisabled_tools = ['cluade-code']\n"
    )
    res = cli("run", "--once")
    assert res.returncode == 0, res.stderr
    assert "unknown tool ids cluade-code" in (isolated_env / "logs" / "agent.log").read_text()


def test_store_replaced_under_the_agent_stops_it_for_a_restart(
    agent_env: None, isolated_env: Path
) -> None:
    agent = start_agent()
    db = isolated_env / "aitally.db"
    replacement = isolated_env / "other.db"
    replacement.write_bytes(db.read_bytes())
    os.replace(replacement, db)  # e.g. restored from a backup while the agent ran
    agent.wait(timeout=10)
    assert agent.returncode == 3
    assert "was replaced or deleted" in (isolated_env / "logs" / "agent.log").read_text()


CRASHING_AGENT = """
import sys
from aitally.agent import daemon
from aitally.agent.cli import main

def crash(*args, **kwargs):
    raise RuntimeError("a bug")

daemon.Agent._janitor = crash  # not caught by the loop: an uncaught exception
sys.exit(main(["run"]))
"""


def test_a_crash_exits_apart_from_already_running(agent_env: None) -> None:
    """Issue 17: a crash and "already running" both exited 1, so the unit could not restart
    one without the other (installer/_linux.py restarts every status but ALREADY_RUNNING)."""
    import sys

    res = subprocess.run(
        [sys.executable, "-c", CRASHING_AGENT], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == exit_status.CRASH, res.stderr
    assert "a bug" in res.stderr
    assert exit_status.CRASH != exit_status.ALREADY_RUNNING


FAILING_START = """
import sys
from aitally.collectors.files import watcher
from aitally.agent.cli import main

def fail(self):
    raise OverflowError("1e999")

watcher.FileCollector.start = fail
sys.exit(main(["run", "--once"]))
"""


def test_a_collector_failing_to_start_is_left_out_and_the_agent_runs(agent_env: None) -> None:
    """Issue 17: an exception out of the file collector's first catch-up ended the agent."""
    import sys

    res = subprocess.run(
        [sys.executable, "-c", FAILING_START], capture_output=True, text=True, timeout=60
    )
    assert res.returncode == 0, res.stderr
    status = json.loads(cli("status", "--json").stdout)
    assert status["errors"] == {"files_start": 1}
