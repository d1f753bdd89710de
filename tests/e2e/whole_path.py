"""Building blocks for end-to-end tests: a real agent, a real ingest, fake tools, transcripts."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tests.conftest import SAMPLES, aitally_cmd
from tests.ingest.conftest import ENROLL_SECRET, Server

SLEEP = shutil.which("sleep") or "/bin/sleep"
CLAUDE_SAMPLE = "4bd3503e-e3c4-424d-8bef-a86530d0a17e"
CLAUDE_PROJECT = "-home-dev-src-payments-api"
# The sample's true totals (tests/fixtures/real-clients/README.md).
CLAUDE_TOTALS = {"input": 4343, "output": 536, "cache_read": 33950, "cache_write": 2734}


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(aitally_cmd(*args), capture_output=True, text=True, timeout=120, env=env)


def write_config(path: Path, server: Server, level: str, **agent: float) -> None:
    lines = [
        "[agent]",
        f"scan_interval = {agent.get('scan_interval', 0.2)}",
        f"idle_timeout = {agent.get('idle_timeout', 900)}",
        "[upload]",
        f"endpoint = '{server.url}'",
        f"interval = {agent.get('upload_interval', 1)}",
        f"read_timeout = {agent.get('read_timeout', 30)}",
        f"backoff_max = {agent.get('backoff_max', 900)}",
        "jitter = 0",
        "[privacy]",
        f"level = '{level}'",
        "org_key = 'e2e-org-key'",
        "org_key_id = 'k1'",
        "org_unit = 'platform'",
    ]
    path.write_text("\n".join(lines) + "\n")


def enroll() -> None:
    res = cli("enroll", "--enroll-secret", ENROLL_SECRET)
    assert res.returncode == 0, res.stderr


class FakeClaude:
    """A process the catalog takes for Claude Code, with its live-session file and transcript."""

    def __init__(
        self, home: Path, session_id: str = CLAUDE_SAMPLE, env: dict[str, str] | None = None
    ) -> None:
        self.home = home
        self.session_id = session_id
        bin_dir = home / "bin"
        bin_dir.mkdir(exist_ok=True)
        exe = bin_dir / "claude"
        if not exe.exists():
            shutil.copy(SLEEP, exe)
        # Working in the temporary home, not in a git repository (whose commits the agent
        # would wait for: docs/clients/git.md).
        self.proc = subprocess.Popen([str(exe), "600"], cwd=home, env=env)
        sessions = home / ".claude" / "sessions"
        sessions.mkdir(parents=True, exist_ok=True)
        self.registry = sessions / f"{self.proc.pid}.json"
        self.registry.write_text(
            json.dumps(
                {
                    "pid": self.proc.pid,
                    "sessionId": session_id,
                    "kind": "interactive",
                    "entrypoint": "cli",
                    "startedAt": int(time.time() * 1000),
                }
            )
        )
        project = home / ".claude" / "projects" / CLAUDE_PROJECT
        project.mkdir(parents=True, exist_ok=True)
        self.transcript = project / f"{session_id}.jsonl"

    def append(self, lines: list[str]) -> None:
        with self.transcript.open("a") as fh:
            fh.writelines(lines)

    def exit(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.registry.unlink(missing_ok=True)  # as Claude Code does when a session ends


def sample_lines(shift_days: int = 0) -> list[str]:
    path = SAMPLES / "claude-code" / "projects" / CLAUDE_PROJECT / f"{CLAUDE_SAMPLE}.jsonl"
    text = path.read_text()
    if shift_days:
        import datetime as dt

        day = (dt.date(2026, 11, 25) + dt.timedelta(days=shift_days)).isoformat()
        text = text.replace('"timestamp":"2026-11-25T', f'"timestamp":"{day}T')
    return text.splitlines(keepends=True)


class Agent:
    """`aitally run` as a child process."""

    def __init__(self) -> None:
        self.log = Path(os.environ["AITALLY_DATA_DIR"]).parent / "agent-stderr.log"
        self.proc = subprocess.Popen(
            aitally_cmd("run"), stdout=subprocess.DEVNULL, stderr=self.log.open("ab")
        )
        self.started = time.monotonic()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
