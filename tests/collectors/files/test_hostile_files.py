"""Files a tool folder should not hold but may: a FIFO, a huge sparse file, symlinks out."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import aitally_cmd


def _status() -> dict:
    out = subprocess.run(aitally_cmd("status", "--json"), capture_output=True, text=True)
    return json.loads(out.stdout)


def test_a_fifo_named_like_a_process_link_never_hangs_the_agent(tmp_path: Path) -> None:
    """Issue 17: `~/.claude/sessions/<pid>.json` as a FIFO blocked the agent's open() for
    good, past SIGTERM. A real FIFO, a real agent: one pass ends, and SIGTERM stops it."""
    sessions = Path(os.environ["HOME"]) / ".claude" / "sessions"
    sessions.mkdir(parents=True)
    os.mkfifo(sessions / f"{os.getpid()}.json")
    done = subprocess.run(aitally_cmd("run", "--once"), capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr

    env = dict(os.environ, AITALLY_AGENT_SCAN_INTERVAL="0.2")
    agent = subprocess.Popen(
        aitally_cmd("run"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 20
        while not _status()["running"] and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # a few scans, each one past the FIFO
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=10) == 0
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.wait()


def _transcript(session: str, n: int = 1) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    lines = []
    for i in range(n):
        usage = {"input_tokens": 1, "output_tokens": 10}
        msg = {"id": f"msg_{session}_{i}", "model": "m", "usage": usage}
        obj = {"type": "assistant", "timestamp": now, "sessionId": session, "message": msg}
        lines.append(json.dumps({**obj, "requestId": f"req_{session}_{i}"}) + "\n")
    return "".join(lines)


def _run_once() -> None:
    done = subprocess.run(aitally_cmd("run", "--once"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def _session_ids() -> set[str]:
    out = subprocess.run(aitally_cmd("sessions", "--json"), capture_output=True, text=True)
    return {s["tool_session_id"] for s in json.loads(out.stdout)["sessions"]} - {None}


def test_ids_spelled_with_lone_surrogates_do_not_stop_the_catch_up(tmp_path: Path) -> None:
    """A JSON escape can spell a lone surrogate (`\\ud800`), which no store can hold: such a
    line in a message id, request id, session id, model or version once failed every
    catch-up's commit, so that nothing of any file was recorded. Its usage still counts."""
    project = Path(os.environ["HOME"]) / ".claude" / "projects" / "p"
    project.mkdir(parents=True)
    bad = json.loads(_transcript("BAD"))
    bad["message"].update(id="msg_\ud800", model="m\udfff")
    bad.update(requestId="req_\udc80", version="2.\ud83d", sessionId="s\ud800")
    (project / "bad.jsonl").write_text(json.dumps(bad) + "\n")
    (project / "good.jsonl").write_text(_transcript("GOOD"))
    _run_once()
    out = subprocess.run(aitally_cmd("sessions", "--json"), capture_output=True, text=True)
    sessions = json.loads(out.stdout)["sessions"]
    assert {s["tool_session_id"] for s in sessions} == {"GOOD", "bad"}
    assert sum(s["tokens"]["input"] for s in sessions) == 2, sessions


def test_a_huge_sparse_transcript_is_not_read_whole_then_tailed(tmp_path: Path) -> None:
    """Issue 17: a 5 GiB sparse transcript was read whole on catch-up. A new file bigger than
    MAX_UNREAD (collectors/files/tailer.py) starts at its end; what is appended is read."""
    project = Path(os.environ["HOME"]) / ".claude" / "projects" / "p"
    project.mkdir(parents=True)
    (project / "small.jsonl").write_text(_transcript("SMALL"))
    big = project / "big.jsonl"
    subprocess.run(["truncate", "-s", "5G", str(big)], check=True)
    _run_once()
    status = _status()["file_collectors"]
    assert status["catch_up"]["bytes"] < 1 << 20, status["catch_up"]
    assert status["skipped"] == {"claude-code:file_too_large": 1}, status["skipped"]
    assert _session_ids() == {"SMALL"}
    with big.open("a") as fh:
        fh.write("\n" + _transcript("BIG"))
    _run_once()
    assert _session_ids() == {"SMALL", "BIG"}


def test_symlinks_inside_a_tool_folder_are_not_followed_out_of_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "t.jsonl").write_text(_transcript("OUT_FILE"))
    (outside / "folder" / "t.jsonl").write_text(_transcript("OUT_FOLDER"))
    claude = Path(os.environ["HOME"]) / ".claude"
    project = claude / "projects" / "p"
    project.mkdir(parents=True)
    (project / "own.jsonl").write_text(_transcript("OWN"))
    (project / "link.jsonl").symlink_to(outside / "t.jsonl")
    (claude / "projects" / "q").symlink_to(outside / "folder")
    # A tool folder that is itself a symlink is the person's choice: it is read.
    real_codex = tmp_path / "real-codex"
    (real_codex / "sessions").mkdir(parents=True)
    (Path(os.environ["HOME"]) / ".codex").symlink_to(real_codex)
    _run_once()
    assert _session_ids() == {"OWN"}
    skipped = _status()["file_collectors"]["skipped"]
    assert skipped == {"claude-code:outside_root": 1}, skipped
