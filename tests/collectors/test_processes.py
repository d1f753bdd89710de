"""The process scanner against real child processes: tools, helpers, lookalikes, other users."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from aitally.agent import reports
from aitally.collectors.catalog import Catalog
from aitally.collectors.processes import ProcessScanner
from aitally.core.observation import ProcessGone, ProcessSeen
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store

SLEEP = shutil.which("sleep") or "/bin/sleep"


class Procs:
    """Starts real processes under chosen names and kills them all at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "bin").mkdir()
        self.children: list[subprocess.Popen[bytes]] = []

    def copy_of_sleep(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        exe = self.root / "bin" / name
        if not exe.exists():
            shutil.copy(SLEEP, exe)
        return self.start([str(exe), *(args or ("60",))])

    def python_as(self, name: str, code: str, *extra: str) -> subprocess.Popen[bytes]:
        """A Python program whose cmdline[0] is `name` (a symlink to the interpreter)."""
        link = self.root / "bin" / name
        if not link.exists():
            link.symlink_to(sys.executable)
        return self.start([str(link), "-c", code, *extra])

    def node_script(self, package_path: str) -> subprocess.Popen[bytes]:
        """`node .../<package_path>`: a script under a tool's npm package path."""
        script = self.root / "lib" / "node_modules" / package_path
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text("import time\ntime.sleep(60)\n")
        node = self.root / "bin" / "node"
        if not node.exists():
            node.symlink_to(sys.executable)
        return self.start([str(node), str(script)])

    def start(self, argv: list[str], **kw: object) -> subprocess.Popen[bytes]:
        p = subprocess.Popen(argv, **kw)  # type: ignore[call-overload]
        self.children.append(p)
        time.sleep(0.05)
        return p

    def stop(self) -> None:
        for p in self.children:
            if p.poll() is None:
                p.kill()
            p.wait()


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    p = Procs(tmp_path)
    yield p
    p.stop()


def mine(store: Store, pid: int) -> list[dict]:
    """Other suites may run tool lookalikes at the same time: keep to our own pid."""
    return [s for s in reports.sessions(store.conn) if pid in s["pids"]]


def tools_by_pid(scanner: ProcessScanner) -> dict[int, tuple[str, str]]:
    obs = scanner.scan()
    return {o.pid: (o.tool, o.role) for o in obs if isinstance(o, ProcessSeen)}


def test_recognises_tools_and_ignores_lookalikes(procs: Procs, tmp_path: Path) -> None:
    claude = procs.copy_of_sleep("claude")
    codex = procs.node_script("@openai/codex/bin/codex.js")
    ollama = procs.python_as("ollama", "import time; time.sleep(60)", "serve")
    notes = procs.copy_of_sleep("claude-notes")
    editor = procs.start([SLEEP, "60", str(tmp_path / "claude")])  # "a file named claude"
    found = tools_by_pid(ProcessScanner(Catalog.load()))
    assert found[claude.pid] == ("claude-code", "session")
    assert found[codex.pid] == ("codex", "session")
    assert found[ollama.pid] == ("ollama", "daemon")
    assert notes.pid not in found and editor.pid not in found


def test_children_fold_into_owner_and_their_cpu_counts(procs: Procs) -> None:
    # The "claude" process starts a child that burns CPU, as a Bash tool call would.
    burn = "import time\nt=time.time()\nwhile time.time()-t<3: pass\ntime.sleep(60)"
    code = (
        f"import subprocess,sys,time\nsubprocess.Popen([sys.executable,'-c',{burn!r}])\n"
        "time.sleep(60)"
    )
    owner = procs.python_as("claude", code)
    scanner = ProcessScanner(Catalog.load())
    time.sleep(0.3)
    first = {o.pid for o in scanner.scan() if isinstance(o, ProcessSeen)}
    (child,) = psutil.Process(owner.pid).children()
    assert owner.pid in first and child.pid not in first
    time.sleep(1.0)
    seen = [o for o in scanner.scan() if isinstance(o, ProcessSeen) and o.pid == owner.pid]
    assert len(seen) == 1 and seen[0].cpu_delta > 0.5  # the child's CPU, credited to the owner
    helpers = [t for t in scanner.known.values() if t is not None and t.owner == owner.pid]
    assert helpers, "the child is tracked as a helper of its owner"


def test_sessions_open_and_close_with_process(procs: Procs, tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    sz = Sessionizer(store)
    scanner = ProcessScanner(Catalog.load())
    before = time.time()
    claude = procs.copy_of_sleep("claude")
    sz.apply(scanner.scan())
    (s,) = mine(store, claude.pid)
    assert (s["tool"], s["pids"], s["open"]) == ("claude-code", [claude.pid], True)
    claude.kill()
    claude.wait()
    gone_at = time.time()
    obs = scanner.scan()
    assert any(isinstance(o, ProcessGone) and o.pid == claude.pid for o in obs)
    sz.apply(obs)
    (s,) = mine(store, claude.pid)
    assert not s["open"]
    start = store.conn.execute(
        "SELECT started_at, ended_at FROM segments WHERE id = ?", (s["id"],)
    ).fetchone()
    assert before - 1 <= start[0] <= gone_at and gone_at - 1 <= start[1] <= gone_at + 1


def test_survives_processes_vanishing_mid_scan(procs: Procs) -> None:
    scanner = ProcessScanner(Catalog.load())
    short = [subprocess.Popen([SLEEP, "0.01"]) for _ in range(50)]
    for _ in range(5):
        scanner.scan()
    for p in short:
        p.wait()
    scanner.scan()
    assert not scanner.errors


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("runuser"),
    reason="needs root to start a process as another user",
)
def test_other_users_processes_are_ignored(procs: Procs, tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    (tmp_path / "bin").chmod(0o755)
    procs.copy_of_sleep("claude", "0")  # creates the copy
    exe = tmp_path / "bin" / "claude"
    exe.chmod(0o755)
    other = procs.start(["runuser", "-u", "nobody", "--", str(exe), "60"])
    time.sleep(0.3)
    found = tools_by_pid(ProcessScanner(Catalog.load()))
    kids = psutil.Process(other.pid).children(recursive=True)
    assert all(k.pid not in found for k in [psutil.Process(other.pid), *kids])


def test_pid_reuse_is_not_mistaken_for_the_same_process(procs: Procs) -> None:
    scanner = ProcessScanner(Catalog.load(), recheck_every=0.0)
    claude = procs.copy_of_sleep("claude")
    scanner.scan()
    # Pretend the tracked process had another create time: a reused pid must read as gone.
    tracked = scanner.known[claude.pid]
    assert tracked is not None
    # psutil compares (pid, create time) to tell a reused pid; give it an older identity.
    tracked.proc._ident = (claude.pid, tracked.create_time - 100)  # type: ignore[attr-defined]
    obs = scanner.scan()
    assert any(isinstance(o, ProcessGone) and o.pid == claude.pid for o in obs)
