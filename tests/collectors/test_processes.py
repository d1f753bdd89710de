"""The process scanner against real child processes: tools, helpers, lookalikes, other users."""

from __future__ import annotations

import contextlib
import hashlib
import json
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
from aitally.collectors.files.adapters import gemini_process
from aitally.collectors.processes import SCOPE_VARIABLE, ProcessScanner
from aitally.core.observation import ProcessGone, ProcessLink, ProcessSeen
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store
from tests.waiting import wait_for

SLEEP = shutil.which("sleep") or "/bin/sleep"
# Past process_links.SLACK, so that a file last written before a process started is not its.
SLACK_PAST_FIRST = 2.5


class Procs:
    """Starts real processes under chosen names and kills them all at the end."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "bin").mkdir()
        self.children: list[subprocess.Popen[bytes] | _Adopted] = []

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


class _Adopted:
    """A grandchild to clean up with the test's own children (kill, then reap by pid)."""

    def __init__(self, proc: psutil.Process) -> None:
        self.proc = proc

    def poll(self) -> int | None:
        return None if self.proc.is_running() else 0

    def kill(self) -> None:
        with contextlib.suppress(psutil.Error):
            self.proc.kill()

    def wait(self) -> None:
        with contextlib.suppress(psutil.Error):
            self.proc.wait(5)


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


def test_a_scope_leaves_tool_processes_started_outside_it_alone(procs: Procs) -> None:
    # The suite sets the test's own scope (tests/conftest.py): `own` inherits it.
    own = procs.copy_of_sleep("claude")
    exe = str(procs.root / "bin" / "claude")
    unscoped_env = {k: v for k, v in os.environ.items() if k != SCOPE_VARIABLE}
    foreign = procs.start([exe, "60"], env=unscoped_env)  # another suite's lookalike
    other = procs.start([exe, "60"], env={**os.environ, SCOPE_VARIABLE: "another-agent"})
    codex = procs.root / "bin" / "codex"
    codex.symlink_to(sys.executable)
    daemon = ["-c", "import time; time.sleep(60)", "app-server", "--managed-daemon"]
    codex_daemon = procs.start([str(codex), *daemon], env=unscoped_env)
    scoped = tools_by_pid(ProcessScanner(Catalog.load(), scope=os.environ[SCOPE_VARIABLE]))
    assert own.pid in scoped
    assert not {foreign.pid, other.pid, codex_daemon.pid} & set(scoped)
    # Without a scope the very same processes are all counted: the scope is what leaves them out.
    unscoped = tools_by_pid(ProcessScanner(Catalog.load()))
    assert {own.pid, foreign.pid, other.pid, codex_daemon.pid} <= set(unscoped)


def test_a_process_seen_before_its_exec_is_found_once_it_becomes_the_tool(
    procs: Procs, tmp_path: Path
) -> None:
    """A launcher that execs the tool keeps its pid: a scan between fork and exec sees the
    launcher's command line, and that "not a tool" must not stick to the pid."""
    claude = procs.root / "bin" / "claude"
    shutil.copy(SLEEP, claude)
    go = tmp_path / "go"
    code = (
        "import os, sys, time\n"
        "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
        "os.execv(sys.argv[2], [sys.argv[2], '60'])\n"
    )
    launcher = procs.python_as("launcher", code, str(go), str(claude))
    scanner = ProcessScanner(Catalog.load())
    assert launcher.pid not in tools_by_pid(scanner)
    go.touch()
    wait_for(lambda: psutil.Process(launcher.pid).name() == "claude", 10)
    assert tools_by_pid(scanner)[launcher.pid] == ("claude-code", "session")


def test_children_fold_into_owner_and_their_cpu_counts(procs: Procs, tmp_path: Path) -> None:
    # The "claude" process starts a child that burns CPU, as a Bash tool call would. The child
    # burns a measured 0.6 s of its own CPU only once the scanner holds its baseline, then says
    # so: a loaded machine makes it take longer, never burn less.
    ready, go, done = (tmp_path / n for n in ("ready", "go", "done"))
    burn = (
        "import os,time\n"
        f"open({str(ready)!r},'w').close()\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.01)\n"
        "t=time.process_time()\n"
        "while time.process_time()-t<0.6: pass\n"
        f"open({str(done)!r},'w').close()\n"
        "time.sleep(60)"
    )
    code = (
        f"import subprocess,sys,time\nsubprocess.Popen([sys.executable,'-c',{burn!r}])\n"
        "time.sleep(60)"
    )
    owner = procs.python_as("claude", code)
    wait_for(ready.exists, timeout=60)
    scanner = ProcessScanner(Catalog.load())
    first = {o.pid for o in scanner.scan() if isinstance(o, ProcessSeen)}
    (child,) = psutil.Process(owner.pid).children()
    assert owner.pid in first and child.pid not in first
    go.touch()
    wait_for(done.exists, timeout=60)  # generous: a loaded machine burns it slowly
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


def _script(path: Path, code: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(code)
    return path


def _node(procs: Procs) -> Path:
    node = procs.root / "bin" / "node"
    if not node.exists():
        node.symlink_to(sys.executable)
    return node


def test_gemini_launcher_and_its_relaunch_are_one_session(procs: Procs) -> None:
    # `node …/node_modules/.bin/gemini` relaunches itself with a bigger heap as a second node
    # process (here `-X…`, an option the interpreter ignores, stands in for node's).
    node = _node(procs)
    local = procs.root / "proj" / "node_modules" / ".bin" / "gemini"
    code = (
        "import os,subprocess,sys,time\n"
        "if not os.environ.get('RELAUNCHED'):\n"
        f"    subprocess.Popen([{str(node)!r}, '-Xmax-old-space-size=8192', __file__],"
        " env={**os.environ, 'RELAUNCHED': '1'})\n"
        "time.sleep(60)\n"
    )
    _script(local, code)
    parent = procs.start([str(node), str(local)])
    glob = _script(procs.root / "usr" / "local" / "bin" / "gemini", "import time; time.sleep(60)")
    global_install = procs.start([str(node), str(glob)])
    time.sleep(0.5)
    (child,) = psutil.Process(parent.pid).children()
    found = tools_by_pid(ProcessScanner(Catalog.load()))
    assert found[parent.pid] == ("gemini-cli", "session")
    assert found[global_install.pid] == ("gemini-cli", "session")
    assert child.pid not in found  # the relaunch folds into its launcher


def _copilot_native(procs: Procs, session_dir: Path) -> Path:
    """Copilot CLI's native binary: names itself MainThread, holds inuse.<pid>.hold open."""
    exe = procs.root / "lib" / "node_modules" / "@github" / "copilot-linux-x64" / "copilot"
    exe.parent.mkdir(parents=True, exist_ok=True)
    if not exe.exists():
        shutil.copy(sys.executable, exe)
    return exe


COPILOT_CODE = (
    "import ctypes,os,sys,time\n"
    "ctypes.CDLL(None).prctl(15, b'MainThread', 0, 0, 0)\n"
    "d = sys.argv[1]\n"
    "os.makedirs(d, exist_ok=True)\n"
    "hold = open(os.path.join(d, f'inuse.{os.getpid()}.hold'), 'w')\n"
    "time.sleep(60)\n"
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl names a Linux process")
def test_copilot_named_mainthread_is_found_and_linked_to_its_session(
    procs: Procs, tmp_path: Path
) -> None:
    sid = "9d603964-0000-4b91-8d49-7b8e70f29f7d"
    session_dir = tmp_path / "home" / ".copilot" / "session-state" / sid
    exe = _copilot_native(procs, session_dir)
    alone = procs.start([str(exe), "-c", COPILOT_CODE, str(session_dir)])
    # and under its npm launcher, `node …/node_modules/.bin/copilot`, which starts it
    launcher_code = (
        f"import subprocess,time\nsubprocess.Popen([{str(exe)!r}, '-c', {COPILOT_CODE!r},"
        f" {str(session_dir.parent / 'other')!r}])\ntime.sleep(60)\n"
    )
    launcher_script = _script(
        procs.root / "proj" / "node_modules" / ".bin" / "copilot", launcher_code
    )
    launcher = procs.start([str(_node(procs)), str(launcher_script)])
    time.sleep(1.0)
    assert psutil.Process(alone.pid).name() == "MainThread"
    scanner = ProcessScanner(Catalog.load())
    obs = scanner.scan()
    seen = {o.pid: o.tool for o in obs if isinstance(o, ProcessSeen)}
    links = {o.pid: o.tool_session_id for o in obs if isinstance(o, ProcessLink)}
    assert seen[alone.pid] == "copilot-cli" and seen[launcher.pid] == "copilot-cli"
    (native,) = psutil.Process(launcher.pid).children()
    procs.children.append(_Adopted(native))
    assert native.pid not in seen  # folded into its launcher
    ours = {alone.pid, launcher.pid}
    assert {p: s for p, s in links.items() if p in ours} == {alone.pid: sid, launcher.pid: "other"}
    again = scanner.scan()  # links are emitted on change only
    assert not any(isinstance(o, ProcessLink) and o.pid in ours for o in again)


def test_codex_helper_daemons_are_never_sessions_and_its_tui_links_to_its_rollout(
    procs: Procs, tmp_path: Path
) -> None:
    thread = "01a2386b-0000-7fb0-b890-91c1dc1ad74a"
    rollout = tmp_path / ".codex" / "sessions" / "2026" / "12" / "02"
    rollout.mkdir(parents=True)
    path = rollout / f"rollout-2026-12-02T20-22-10-{thread}.jsonl"
    daemon = "import time; time.sleep(60)"
    tui_code = (
        "import subprocess,sys,time\n"
        f"f = open({str(path)!r}, 'a')\n"
        f"for extra in (['app-server', '--listen', 'unix://', '--managed-daemon'],"
        f" ['app-server', 'daemon', 'pid-update-loop']):\n"
        f"    subprocess.Popen([{str(procs.root / 'bin' / 'codex')!r}, '-c', {daemon!r}, *extra],"
        " start_new_session=True)\n"
        "time.sleep(float(sys.argv[1]))\n"
    )
    tui = procs.python_as("codex", tui_code, "1.5")
    store = Store(tmp_path / "s.db")
    sz = Sessionizer(store)
    scanner = ProcessScanner(Catalog.load())
    time.sleep(0.8)
    helpers = psutil.Process(tui.pid).children()
    assert len(helpers) == 2
    procs.children += [_Adopted(h) for h in helpers]
    obs = scanner.scan()
    sz.apply(obs)
    links = [o for o in obs if isinstance(o, ProcessLink) and o.pid == tui.pid]
    assert [(o.tool, o.tool_session_id) for o in links] == [("codex", thread)]
    daemons = {p for _, p in scanner.daemons()}
    assert {h.pid for h in helpers} <= daemons
    tui.wait()
    sz.apply(scanner.scan())
    # A later agent finds the daemons under init: still daemons, never sessions.
    sz.apply(ProcessScanner(Catalog.load()).scan())
    rows = [s for s in reports.sessions(store.conn) if s["tool"] == "codex"]
    mine_rows = [s for s in rows if set(s["pids"]) & {tui.pid, *(h.pid for h in helpers)}]
    assert [(s["tool_session_id"], s["pids"], s["open"]) for s in mine_rows] == [
        (thread, [tui.pid], False)
    ]


def test_gemini_process_links_to_the_chat_of_its_project_written_since_it_started(
    procs: Procs, tmp_path: Path
) -> None:
    home, project = tmp_path / "home", tmp_path / "src" / "demo"
    project.mkdir(parents=True)
    gemini = home / ".gemini"
    chats = gemini / "tmp" / "demo" / "chats"
    chats.mkdir(parents=True)
    (gemini / "projects.json").write_text(json.dumps({"projects": {str(project): "demo"}}))

    def chat(name: str, sid: str, folder: Path) -> None:
        digest = hashlib.sha256(folder.as_posix().encode()).hexdigest()
        header = {"sessionId": sid, "projectHash": digest, "kind": "main"}
        (chats / name).write_text(json.dumps(header) + "\n")

    chat("session-old-11111111.jsonl", "old", project)
    os.utime(chats / "session-old-11111111.jsonl", (1, 1))  # long before the process
    script = _script(
        procs.root / "proj" / "node_modules" / ".bin" / "gemini", "import time\ntime.sleep(60)\n"
    )
    env = {**os.environ, "HOME": str(home)}
    env.pop("GEMINI_CLI_HOME", None)
    proc = procs.start([str(_node(procs)), str(script)], cwd=project, env=env)
    scanner = ProcessScanner(Catalog.load(), linkers={"gemini-cli": gemini_process.session_of})
    first = scanner.scan()
    assert not [o for o in first if isinstance(o, ProcessLink) and o.pid == proc.pid]
    chat("session-other-22222222.jsonl", "other-project", tmp_path / "elsewhere")
    chat("session-new-33333333.jsonl", "mine", project)
    links = [o for o in scanner.scan() if isinstance(o, ProcessLink) and o.pid == proc.pid]
    assert [(o.tool, o.tool_session_id) for o in links] == [("gemini-cli", "mine")]


def test_codex_tui_links_to_the_rollout_its_daemon_writes_never_to_an_old_one(
    procs: Procs, tmp_path: Path
) -> None:
    # 0.171's TUI has its `app-server --managed-daemon` write the rollout; the daemon keeps the
    # thread open after the TUI exits.
    folder = tmp_path / ".codex" / "sessions" / "2026" / "12" / "02"
    folder.mkdir(parents=True)
    first, second = "01a2387f-0000-7503-b680-0cfc831e41c1", "01a2387f-1111-7503-b680-0cfc831e41c1"

    def rollout(thread: str) -> Path:
        return folder / f"rollout-2026-12-02T20-43-49-{thread}.jsonl"

    daemon_code = (
        "import sys,time\n"
        "held = {}\n"
        "while True:\n"
        "    for line in open(sys.argv[1]).read().split():\n"
        "        if line not in held: held[line] = open(line, 'a')\n"
        "    time.sleep(0.1)\n"
    )
    wanted = tmp_path / "threads.txt"
    wanted.write_text(str(rollout(first)))
    codex = procs.root / "bin" / "codex"
    codex.symlink_to(sys.executable)
    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("CODEX_HOME", None)
    daemon = procs.start(
        [str(codex), "-c", daemon_code, str(wanted), "app-server", "--managed-daemon"], env=env
    )
    tui = procs.start([str(codex), "-c", "import time; time.sleep(60)"], env=env)
    time.sleep(0.5)
    scanner = ProcessScanner(Catalog.load())
    links = [o for o in scanner.scan() if isinstance(o, ProcessLink) and o.pid == tui.pid]
    assert [o.tool_session_id for o in links] == [first]
    assert daemon.pid in {p for _, p in scanner.daemons()}
    tui.kill()
    tui.wait()
    scanner.scan()
    # A later TUI: the daemon still holds the first thread (not written since), then opens a
    # second one, which the new TUI writes.
    time.sleep(SLACK_PAST_FIRST)
    later = procs.start([str(codex), "-c", "import time; time.sleep(60)"], env=env)
    ours = {later.pid}
    assert not [o for o in scanner.scan() if isinstance(o, ProcessLink) and o.pid in ours]
    wanted.write_text(f"{rollout(first)}\n{rollout(second)}")
    time.sleep(0.5)
    links = [o for o in scanner.scan() if isinstance(o, ProcessLink) and o.pid in ours]
    assert [o.tool_session_id for o in links] == [second]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl names a Linux process")
def test_copilot_carries_on_as_a_session_when_its_launcher_dies_first(
    procs: Procs, tmp_path: Path
) -> None:
    sid = "9d603964-2222-4b91-8d49-7b8e70f29f7d"
    session_dir = tmp_path / "home" / ".copilot" / "session-state" / sid
    exe = _copilot_native(procs, session_dir)
    launcher_code = (
        f"import subprocess,time\nsubprocess.Popen([{str(exe)!r}, '-c', {COPILOT_CODE!r},"
        f" {str(session_dir)!r}])\ntime.sleep(60)\n"
    )
    script = _script(procs.root / "proj" / "node_modules" / ".bin" / "copilot", launcher_code)
    launcher = procs.start([str(_node(procs)), str(script)])
    time.sleep(1.0)
    (native,) = psutil.Process(launcher.pid).children()
    procs.children.append(_Adopted(native))
    scanner = ProcessScanner(Catalog.load())
    first = scanner.scan()
    assert native.pid not in {o.pid for o in first if isinstance(o, ProcessSeen)}
    launcher.kill()  # a terminal closed under it: the client goes on
    launcher.wait()
    obs = scanner.scan()
    assert any(isinstance(o, ProcessGone) and o.pid == launcher.pid for o in obs)
    obs += scanner.scan()
    assert any(isinstance(o, ProcessSeen) and o.pid == native.pid for o in obs)
    links = [o for o in obs if isinstance(o, ProcessLink) and o.pid == native.pid]
    assert [o.tool_session_id for o in links] == [sid]


def test_a_session_in_a_folder_the_agent_does_not_read_is_not_linked(
    procs: Procs, tmp_path: Path
) -> None:
    thread = "01a2386b-2222-7fb0-b890-91c1dc1ad74a"
    elsewhere = tmp_path / "other-home" / ".codex" / "sessions"
    elsewhere.mkdir(parents=True)
    path = elsewhere / f"rollout-2026-12-02T20-22-10-{thread}.jsonl"
    code = f"import time\nf = open({str(path)!r}, 'a')\ntime.sleep(60)\n"
    exe = procs.python_as("codex", code)
    time.sleep(0.5)  # until it holds the rollout open
    read = {"codex": [os.path.realpath(tmp_path / "home" / ".codex")]}
    for watched, linked in ((read, False), (None, True)):
        scanner = ProcessScanner(Catalog.load(), watched=watched)
        links = [o for o in scanner.scan() if isinstance(o, ProcessLink) and o.pid == exe.pid]
        assert bool(links) is linked


def test_a_client_exited_but_not_reaped_is_gone(procs: Procs) -> None:
    # Its parent (a busy terminal) has not reaped it yet: a zombie is no use going on.
    claude = procs.copy_of_sleep("claude", "0.3")
    scanner = ProcessScanner(Catalog.load())
    assert claude.pid in {o.pid for o in scanner.scan() if isinstance(o, ProcessSeen)}
    time.sleep(0.8)
    assert psutil.Process(claude.pid).status() == psutil.STATUS_ZOMBIE  # not waited for yet
    assert any(isinstance(o, ProcessGone) and o.pid == claude.pid for o in scanner.scan())
