"""Tool roots follow each tool's conventions; roots that appear later are watched (polling too)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

from aitally.collectors.files import roots
from tests.collectors.files import corpus
from tests.collectors.files.helpers import env_for, run
from tests.conftest import aitally_cmd


def test_claude_and_codex_conventions(tmp_path: Path) -> None:
    env = {
        "HOME": str(tmp_path),
        "CLAUDE_CONFIG_DIR": f"~/work-claude, {tmp_path}/team/projects",
        "CODEX_HOME": f"{tmp_path}/cx1,{tmp_path}/cx2",
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
    }
    found = roots.candidates({"claude-code", "codex"}, {"codex": ["~/more"]}, env)
    by_tool = {t: [str(r.path) for r in found if r.tool == t] for t in ("claude-code", "codex")}
    assert by_tool["claude-code"] == [
        f"{tmp_path}/work-claude",
        f"{tmp_path}/team",
        f"{tmp_path}/xdg/claude",
        f"{tmp_path}/.claude",
    ]
    assert by_tool["codex"][:2] == [f"{tmp_path}/cx1", f"{tmp_path}/cx2"]
    assert [r.extra for r in found if r.tool == "codex"] == [False, False, True]


def test_a_root_created_while_running_is_read_with_the_polling_watcher(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    agent = subprocess.Popen(
        aitally_cmd("run"),
        env=env_for(home, AITALLY_COLLECTORS_POLLING="true"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.0)
        shutil.copytree(corpus.CODEX, home / ".codex" / "sessions")
        want = {k: v for k, v in corpus.TRUE_TOTALS.items() if k[0] == "codex"}
        deadline = time.monotonic() + 15
        got: dict[tuple[str, str], tuple[int | None, ...]] = {}
        while time.monotonic() < deadline and got != want:
            time.sleep(0.3)
            out = run(home, "sessions", "--json", "--tool", "codex")
            got = corpus.totals(corpus.load(out.stdout)) if out.returncode == 0 else {}
        assert got == want
        status = json.loads(run(home, "status", "--json").stdout)
        assert status["file_collectors"]["roots"] == {str(home / ".codex"): "polling"}
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=30)
