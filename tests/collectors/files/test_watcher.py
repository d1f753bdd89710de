"""The real agent's real file watcher, while a tool creates nested folders quickly under a
watched root as Codex does (sessions/YYYY/MM/DD/ for a new day): every file is read, and
nothing is logged or printed about watches (watchdog's "Callback ... already exists")."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from tests.collectors.files.helpers import run, start_agent

ROLLOUT = (
    '{"timestamp":"%s","type":"session_meta","payload":{"id":"%s","cli_version":"0.171.0",'
    '"originator":"codex-tui"}}\n'
    '{"timestamp":"%s","type":"event_msg","payload":{"type":"user_message"}}\n'
)


def _codex_sessions(home: Path) -> set[str]:
    out = run(home, "sessions", "--json", "--tool", "codex", "--since", "3650d")
    if out.returncode != 0:
        return set()
    return {s["tool_session_id"] for s in json.loads(out.stdout)["sessions"]}


def test_nested_folders_made_quickly_are_watched_without_warnings(
    tmp_path: Path, isolated_env: Path
) -> None:
    home = tmp_path / "home"
    codex = home / ".codex"
    codex.mkdir(parents=True)
    agent = start_agent(home)
    expected = set()
    try:
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        # Folders several deep at once, many times: the race in watchdog's recursive watch
        # that registered a new folder twice shows within a few of these.
        for month in range(1, 13):
            for day in range(1, 6):
                folder = codex / "sessions" / "2025" / f"{month:02d}" / f"{day:02d}"
                (folder / "a" / "b" / "c").mkdir(parents=True)
                sid = f"01a2387a-{month:04x}-7fa1-b5fe-2ad85b78a6{day:02x}"
                (folder / f"rollout-2025-{month:02d}-{day:02d}T10-00-00-{sid}.jsonl").write_text(
                    ROLLOUT % (now, sid, now)
                )
                expected.add(sid)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _codex_sessions(home) != expected:
            time.sleep(0.5)
        assert _codex_sessions(home) == expected
    finally:
        agent.send_signal(signal.SIGTERM)
        _, err = agent.communicate(timeout=30)
    assert agent.returncode == 0, err.decode()[-2000:]
    logged = b"".join(p.read_bytes() for p in (isolated_env / "logs").glob("agent.log*"))
    for output in (err, logged):
        assert b"already exists" not in output
        assert b"RuntimeWarning" not in output
