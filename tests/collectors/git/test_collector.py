"""The git collector end to end: a real tool process working in a real repository, the
sessionizer and store it feeds, the outbox that waits for the last read. Commits with AI in the
window count once beside the tool's own; markers planted in commit messages, file names, a
branch name and the repository's path appear in no byte the agent writes."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from aitally.collectors.git import collector as git_collector
from aitally.collectors.git.collector import GitCollector
from aitally.collectors.git.git_log import Git
from aitally.core import config
from aitally.core.observation import OutcomeCounts, ProcessGone, ProcessSeen
from aitally.core.sessionizer import Sessionizer, process_key
from aitally.core.store import Store, outbox, segments
from tests.collectors.git.repos import ai_message, commit, git, new_repo
from tests.conftest import aitally_cmd

MARKER = "QUILLFEATHER"
AFTER = 600.0
TOOL = "claude-code"


@pytest.fixture
def tool_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A real process working in a folder deep inside a repository whose path, branch, file
    names and commit messages carry the marker."""
    repo = new_repo(tmp_path / f"{MARKER}-repo")
    git(repo, "checkout", "-q", "-b", f"{MARKER}-branch")
    folder = repo / "src"
    folder.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], cwd=folder)
    try:
        yield proc, repo
    finally:
        proc.kill()
        proc.wait()


def real_git() -> Git:
    found = Git.find()
    if found is None:
        pytest.skip("the git binary is needed")
    return found


def held(store: Store, now: float) -> bool:
    """Whether some outbox record waits (none of them is pending though queued)."""
    return outbox.depth(store.conn) > len(outbox.pending(store.conn, now, 100))


@dataclass
class Running:
    """The tool process seen by the sessionizer at `t`, and a started git collector."""

    store: Store
    sessionizer: Sessionizer
    collector: GitCollector
    pid: int
    create_time: float
    t: float

    def seen(self, at: float) -> ProcessSeen:
        return ProcessSeen(TOOL, self.pid, self.create_time, at, busy=True)

    def gone(self, at: float) -> ProcessGone:
        return ProcessGone(TOOL, self.pid, self.create_time, at)

    def outcome(self, at: float, counts: dict[str, int]) -> OutcomeCounts:
        key = process_key(self.pid, self.create_time)
        return OutcomeCounts(TOOL, key, at, counts, f"o:{at}")

    def outcomes(self) -> dict[str, int]:
        (seg,) = [r["id"] for r in segments.segments_with_sessions(self.store.conn)]
        return segments.outcomes_of(self.store.conn, [seg]).get(seg, {})


def run_tool(proc: subprocess.Popen[bytes], tmp_path: Path, git: Git | None) -> Running:
    store = Store(tmp_path / "store.db")
    run = Running(
        store,
        Sessionizer(store),
        GitCollector(store, git, after=AFTER),
        proc.pid,
        psutil.Process(proc.pid).create_time(),
        time.time(),
    )
    run.collector.start()
    run.sessionizer.apply([run.seen(run.t)], now=run.t)
    return run


def test_commits_with_ai_in_the_window_count_once_and_the_upload_waits(
    tool_process: tuple[subprocess.Popen[bytes], Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    proc, repo = tool_process
    run = run_tool(proc, tmp_path, real_git())
    t, store = run.t, run.store
    run.collector.step(t)
    before = commit(repo, ai_message(f"{MARKER} before"), t - 3600, file=f"{MARKER}.py")
    # The tool commits (its own files count it), then the person commits twice by hand: one
    # with the tool's trailer, one without; a colleague's commit is pulled in.
    commit(repo, ai_message(f"{MARKER} by the tool"), t + 10, file=f"{MARKER}.py")
    commit(repo, ai_message(f"{MARKER} after"), t + 300, file=f"{MARKER}/x.py")
    commit(repo, f"{MARKER} plain\n\n{MARKER} body", t + 310)
    commit(repo, ai_message(MARKER), t + 320, email="colleague@example.test")
    late = commit(repo, ai_message(f"{MARKER} too late"), t + 20 + AFTER + 200)
    run.sessionizer.apply(
        [run.outcome(t + 11, {"commits": 1, "commits_with_ai": 1}), run.gone(t + 20)],
        now=t + 21,
    )
    assert held(store, t + 21)
    run.collector.step(t + 22)  # not due yet: the window reaches AFTER past the end
    assert held(store, t + 22)
    assert run.outcomes()["commits_with_ai"] == 1
    run.collector.step(t + 20 + AFTER + 1)
    assert not held(store, t + 20 + AFTER + 1)
    assert run.outcomes() == {"commits": 2, "commits_with_ai": 2}
    # Nothing left to read, no process left: the session is forgotten and reads stop.
    run.collector.step(t + 20 + AFTER + 400)
    assert run.outcomes() == {"commits": 2, "commits_with_ai": 2}
    assert store.conn.execute("SELECT COUNT(*) FROM repo_sessions").fetchone()[0] == 0
    run.collector.stop()
    store.close()
    written = b"".join(p.read_bytes() for p in tmp_path.glob("store.db*"))
    assert written  # not vacuous
    for secret in (MARKER, str(repo), before, late, "colleague"):
        assert secret.encode() not in written, secret
        assert secret not in caplog.text, secret


def test_an_open_segment_is_read_while_it_lasts(
    tool_process: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    proc, repo = tool_process
    run = run_tool(proc, tmp_path, real_git())
    t = run.t
    commit(repo, ai_message("one"), t + 5)
    run.collector.step(t + 10)
    assert run.outcomes()["commits_with_ai"] == 1
    commit(repo, ai_message("two"), t + 20)
    run.collector.step(t + 30)  # read again only after REREAD
    assert run.outcomes()["commits_with_ai"] == 1
    run.sessionizer.apply([run.seen(t + 350)], now=t + 350)
    run.collector.step(t + 40 + git_collector.REREAD)
    assert run.outcomes()["commits_with_ai"] == 2
    # A restart forgets every hold: the new run does not know where the repository is.
    run.collector.stop()
    again = GitCollector(run.store, real_git(), after=AFTER)
    again.start()
    assert run.store.conn.execute("SELECT COUNT(*) FROM repo_sessions").fetchone()[0] == 0
    run.store.close()


def test_a_hostile_repository_stalls_once_and_is_counted(
    tool_process: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    proc, _ = tool_process
    fake = tmp_path / "git"
    fake.write_text("#!/bin/sh\nsleep 60\n")
    fake.chmod(0o755)
    run = run_tool(proc, tmp_path, Git(str(fake), timeout=0.3))
    t = run.t
    start = time.perf_counter()
    run.collector.step(t)  # the open segment's first read runs into the timeout
    assert time.perf_counter() - start < 3.0
    run.sessionizer.apply([run.outcome(t + 1, {"commits": 1}), run.gone(t + 2)])
    # Given up on: the record goes at once, with the tool's own counts; nothing lost, and
    # git is not run again.
    assert not held(run.store, t + 3)
    start = time.perf_counter()
    for i in range(3):
        run.collector.step(t + AFTER + i * git_collector.REREAD)
    assert time.perf_counter() - start < 0.3
    assert run.outcomes() == {"commits": 1}
    assert run.store.counters("git") == {"timeout": 1}
    run.store.close()


def test_without_git_one_line_is_logged_counted_and_nothing_else_changes(
    tool_process: tuple[subprocess.Popen[bytes], Path],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    proc, _ = tool_process
    with caplog.at_level(logging.WARNING):
        run = run_tool(proc, tmp_path, None)
    run.sessionizer.apply([run.gone(run.t + 2)], now=run.t + 2)
    for i in range(3):
        run.collector.step(run.t + 3 + i)
    assert not held(run.store, run.t + 5) and outbox.depth(run.store.conn) == 1
    lines = [r for r in caplog.records if "git" in r.getMessage()]
    assert len(lines) == 1 and "install git" in lines[0].getMessage()
    assert run.store.counters("git") == {"not_installed": 1}
    run.store.close()


def test_configuration_turns_it_off(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.db")
    on = config.load_default()
    assert isinstance(git_collector.create(on, store), GitCollector)
    on.values["collectors"]["git_commits"] = False
    assert git_collector.create(on, store) is None
    store.close()


def test_the_agent_reads_the_repository_of_a_tool_it_sees_running(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_git()
    repo = new_repo(tmp_path / f"{MARKER}-work")
    exe = tmp_path / "bin" / "claude"
    exe.parent.mkdir()
    shutil.copy(shutil.which("sleep") or "/bin/sleep", exe)
    tool = subprocess.Popen([str(exe), "120"], cwd=repo / ".git")  # any folder inside
    monkeypatch.setenv("AITALLY_AGENT_SCAN_INTERVAL", "0.2")
    log = (tmp_path / "agent.log").open("wb")
    agent = subprocess.Popen(aitally_cmd("run"), stdout=log, stderr=log)

    def outcomes() -> dict[str, int] | None:
        shown = subprocess.run(aitally_cmd("sessions", "--json"), capture_output=True, timeout=60)
        mine = [s for s in json.loads(shown.stdout)["sessions"] if tool.pid in s["pids"]]
        return mine[0]["outcomes"] if mine else None

    try:
        commit(repo, ai_message(f"{MARKER} made with the tool"), time.time())
        # Other tools running on this machine are read too, each step a few: allow time.
        deadline = time.monotonic() + 60
        while outcomes() != {"commits": 1, "commits_with_ai": 1}:
            assert time.monotonic() < deadline and agent.poll() is None, outcomes()
            time.sleep(0.3)
        status = subprocess.run(aitally_cmd("status", "--json"), capture_output=True, timeout=60)
        assert isinstance(json.loads(status.stdout)["git_repositories"], dict)
    finally:
        agent.terminate()
        agent.wait(30)
        tool.kill()
        tool.wait()
        log.close()
    written = [status.stdout, (tmp_path / "agent.log").read_bytes()]
    written += [p.read_bytes() for p in isolated_env.rglob("*") if p.is_file()]
    assert all(MARKER.encode() not in blob for blob in written)


def test_a_repository_without_an_identity_is_counted_once(
    tool_process: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    proc, repo = tool_process
    git(repo, "config", "--unset", "user.email")
    git(repo, "config", "user.useConfigOnly", "true")
    run = run_tool(proc, tmp_path, real_git())
    for i in range(3):
        run.sessionizer.apply([run.seen(run.t + i * git_collector.REREAD)])
        run.collector.step(run.t + i * git_collector.REREAD + 1)
    assert run.store.counters("git") == {"no_identity": 1}
    run.store.close()
