"""Test agents side by side: each counts only the tool processes its own test started, so
another suite's fake tools on the same machine never keep its sessions open."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from aitally.collectors.processes import SCOPE_VARIABLE
from tests.e2e.whole_path import Agent, FakeClaude, cli
from tests.waiting import wait_for

OTHER_SESSION = "0e4f1c2a-6b7d-4e8f-9a0b-1c2d3e4f5a6b"


def counted_pids(env: dict[str, str] | None = None) -> set[int]:
    """The process ids in the agent's sessions, as `aitally sessions --json` shows them."""
    res = cli("sessions", "--json", env=env)
    assert res.returncode == 0, res.stderr
    return {pid for s in json.loads(res.stdout)["sessions"] for pid in s["pids"]}


def test_a_test_agent_ignores_another_suites_fake_tool(tmp_path: Path) -> None:
    (tmp_path / "aitally-config.toml").write_text("[agent]\nscan_interval = 0.2\n")
    unscoped = {k: v for k, v in os.environ.items() if k != SCOPE_VARIABLE}
    # Another suite's fake Claude Code: same user, its own home, not started by this test.
    other_home = tmp_path / "other-suite"
    other_home.mkdir()
    foreign = FakeClaude(other_home, OTHER_SESSION, env=unscoped)
    own = FakeClaude(tmp_path / "home")
    agent = Agent()
    try:
        wait_for(lambda: own.proc.pid in counted_pids())
        time.sleep(1.0)  # five more scans
        assert foreign.proc.pid not in counted_pids()
        agent.stop()
        # The same agent without the isolation counts the foreign process too.
        assert cli("run", "--once", env=unscoped).returncode == 0
        assert {own.proc.pid, foreign.proc.pid} <= counted_pids(unscoped)
    finally:
        agent.stop()
        own.exit()
        foreign.exit()
