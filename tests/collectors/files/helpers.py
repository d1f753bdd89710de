"""Running the real `aitally` console script against a temporary home with tool folders."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from tests.conftest import aitally_cmd

# Variables that would point the agent at this machine's real tool folders.
TOOL_VARS = (
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "GEMINI_CLI_HOME",
    "COPILOT_HOME",
    "CONTINUE_GLOBAL_DIR",
    "OPENCODE_DB",
    "AIDER_ANALYTICS_LOG",
)


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in TOOL_VARS}
    env["HOME"] = str(home)
    env.update(extra)
    return env


def run(
    home: Path, *args: str, timeout: float = 120, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        aitally_cmd(*args),
        env=env_for(home, **extra),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_agent(home: Path) -> subprocess.Popen[bytes]:
    """A real `aitally run` on this home (its stderr piped), returned once its file collector
    watches its roots (or after 20 s)."""
    agent = subprocess.Popen(
        aitally_cmd("run"), env=env_for(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        st = run(home, "status", "--json")
        if st.returncode == 0 and json.loads(st.stdout).get("file_collectors", {}).get("roots"):
            break
        time.sleep(0.1)
    return agent


def scan_for(root: Path, pattern: bytes | None = None, only: str = "") -> list[str]:
    """Files under root whose bytes contain a canary marker (SQLite, WAL and logs included)."""
    from tests.collectors.files.corpus import CANARY

    hits = []
    for p in root.rglob(f"{only}*"):
        if p.is_file():
            data = p.read_bytes()
            if (pattern in data) if pattern else CANARY.search(data):
                hits.append(str(p))
    return hits
