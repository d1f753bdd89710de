"""The process scanner: finds the current user's AI-tool processes; a warm scan costs ~pids()."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import psutil

from aitally.collectors import process_links
from aitally.collectors.catalog import Catalog
from aitally.collectors.process_links import Linker
from aitally.core.config import env_name
from aitally.core.observation import Observation, ProcessGone, ProcessLink, ProcessSeen, Role

log = logging.getLogger(__name__)

# fork() to exec() takes microseconds to milliseconds; two seconds leaves a wide margin.
YOUNG_SECONDS = 2.0
# The variable a tool process carries to be in an agent's `agent.process_scope`: the setting's
# own environment name, so an agent and the tools started from one shell share it.
SCOPE_VARIABLE = env_name("agent", "process_scope")


@dataclass(slots=True)
class Tracked:
    """A tool process, or a child folded into one (owner is the session's root pid)."""

    proc: psutil.Process
    tool: str
    surface: str
    role: Role
    create_time: float
    owner: int | None = None  # None: this process is a root (session or daemon)
    cpu: float = 0.0
    last_mono: float = field(default_factory=time.monotonic)
    # The tool session id its open files named at the last scan (see `_links`).
    linked: str | None = None
    # A helper the catalog matches as a session on its own (Copilot CLI's native binary under
    # its node launcher): it carries on as the session's root if its owner exits first.
    standalone: bool = False


def _current_user() -> tuple[int | None, str | None]:
    if sys.platform == "win32":
        try:
            return None, psutil.Process().username()
        except psutil.Error:
            return None, None
    return os.getuid(), None


class ProcessScanner:
    """Classifies each (pid, create time) once; later scans only check what still lives."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        recheck_every: float = 600.0,
        linkers: Mapping[str, Linker] | None = None,
        watched: Mapping[str, Sequence[str]] | None = None,
        scope: str = "",
    ) -> None:
        self.catalog = catalog
        # Non-empty: only tool processes whose SCOPE_VARIABLE has this value are sessions.
        self.scope = scope
        # Asked each scan until they answer; the catalog's `session_file` patterns every scan.
        self.linkers = dict(linkers or {})
        # tool -> the resolved folders the agent reads: only sessions in them are linked to.
        self.watched = watched
        self.uid, self.username = _current_user()
        # pid -> Tracked, or None for processes that are not ours or not a tool.
        self.known: dict[int, Tracked | None] = {}
        self.errors: dict[str, int] = {}
        # PIDs are reused: forget untracked verdicts now and then so a tool that got an old
        # pid between two scans is still found.
        self.recheck_every = recheck_every
        self._last_full = time.monotonic()

    # -- classification ---------------------------------------------------------------
    def _classify(self, pid: int, now: float) -> Tracked | Literal["young"] | None:
        """The verdict on a new pid; "young" asks to look again at the next scan."""
        proc = psutil.Process(pid)
        with proc.oneshot():
            if self.uid is not None:
                if proc.uids().real != self.uid:
                    return None
            elif self.username is not None and proc.username() != self.username:
                return None
            ctime = proc.create_time()
            ppid = proc.ppid()
            parent = self.known.get(ppid)
            try:
                cmdline = proc.cmdline()
            except psutil.AccessDenied:
                cmdline = []
            try:
                exe = proc.exe()
            except (psutil.AccessDenied, psutil.ZombieProcess, OSError):
                exe = ""
            cpu = self._cpu(proc)
        found = self.catalog.match(cmdline, exe)
        if found is not None and found.role == "daemon":
            if not self._in_scope(proc):
                return None
            # A daemon a session starts (Codex's app-server) outlives it: its own root, never
            # folded into the session's activity.
            return Tracked(proc, found.tool, found.surface, "daemon", ctime, cpu=cpu)
        if parent is not None and parent.role != "daemon":
            # Shells, MCP servers, relaunched children, a native binary under its node
            # launcher: all are the owner's, and their CPU is the owner's activity.
            root = parent.owner if parent.owner is not None else pid_of(parent)
            standalone = found is not None and found.tool == parent.tool and found.role == "session"
            return Tracked(
                proc, parent.tool, parent.surface, "helper", ctime, root, cpu, standalone=standalone
            )
        if found is None or found.role == "helper" or not self._in_scope(proc):
            # Caught between fork and exec, a process still shows its parent's command line
            # (and environment): a verdict of "not a tool" is only final once it is older.
            return "young" if now - ctime < YOUNG_SECONDS else None
        return Tracked(proc, found.tool, found.surface, found.role, ctime, cpu=cpu)

    def _in_scope(self, proc: psutil.Process) -> bool:
        """Whether a tool process is this agent's to count: with a scope set, only one whose
        environment carries it (read only then, and only that one variable compared)."""
        if not self.scope:
            return True
        try:
            return proc.environ().get(SCOPE_VARIABLE) == self.scope
        except psutil.AccessDenied:
            return False

    @staticmethod
    def _cpu(proc: psutil.Process) -> float:
        try:
            t = proc.cpu_times()
            return float(t.user + t.system)
        except psutil.Error:
            return 0.0

    # -- scanning ---------------------------------------------------------------------
    def scan(self, now: float | None = None) -> list[Observation]:
        now = time.time() if now is None else now
        mono = time.monotonic()
        if mono - self._last_full > self.recheck_every:
            self.known = {p: t for p, t in self.known.items() if t is not None}
            self._last_full = mono
        pids = psutil.pids()
        current = set(pids)
        out: list[Observation] = []
        for pid in [p for p in self.known if p not in current]:
            self._forget(pid, now, out)
        # Ascending, so that parents are usually classified before their children.
        for pid in sorted(current.difference(self.known)):
            try:
                verdict = self._classify(pid, now)
            except (psutil.NoSuchProcess, psutil.ZombieProcess):
                continue  # vanished mid-scan: nothing to record
            except psutil.AccessDenied:
                self.known[pid] = None
            except OSError as exc:
                self.errors[type(exc).__name__] = self.errors.get(type(exc).__name__, 0) + 1
                self.known[pid] = None
            else:
                if verdict != "young":
                    self.known[pid] = verdict
        self._report(now, mono, out)
        self._links(now, out)
        return out

    def _forget(self, pid: int, now: float, out: list[Observation]) -> None:
        tracked = self.known.pop(pid, None)
        if tracked is not None and tracked.owner is None:
            out.append(ProcessGone(tracked.tool, pid, tracked.create_time, now))
            self._promote(pid)

    def _promote(self, gone: int) -> None:
        """A launcher exited before the client it started (a terminal closed under it): the
        first helper that is the tool on its own becomes the root, its siblings its helpers."""
        heirs = sorted(p for p, t in self.known.items() if t is not None and t.owner == gone)
        heir = next((p for p in heirs if (t := self.known[p]) is not None and t.standalone), None)
        if heir is None:
            return  # shells, MCP servers: never a session of their own
        for p in heirs:
            t = self.known[p]
            if t is not None:
                t.owner = None if p == heir else heir
                if p == heir:
                    t.role, t.linked = "session", None

    def _report(self, now: float, mono: float, out: list[Observation]) -> None:
        burnt: dict[int, float] = {}
        for pid, t in list(self.known.items()):
            if t is None:
                continue
            if not _alive(t.proc):
                self._forget(pid, now, out)
                continue
            cpu = self._cpu(t.proc)
            root = pid if t.owner is None else t.owner
            burnt[root] = burnt.get(root, 0.0) + max(0.0, cpu - t.cpu)
            t.cpu = cpu
        for pid, t in self.known.items():
            if t is None or t.owner is not None:
                continue
            interval = mono - t.last_mono if t.last_mono < mono else 0.0
            out.append(
                ProcessSeen(
                    t.tool,
                    pid,
                    t.create_time,
                    now,
                    surface=t.surface,
                    role=t.role,
                    cpu_delta=burnt.get(pid, 0.0),
                    interval=interval,
                )
            )
            t.last_mono = mono

    def _links(self, now: float, out: list[Observation]) -> None:
        """Links each session root to the tool session it works on (`process_links`); emitted
        on change only, so a Codex TUI's `/new` moves it to the new session."""
        roots = {pid: t for pid, t in self.known.items() if t is not None and t.owner is None}
        helpers = [t for t in self.known.values() if t is not None and t.owner is not None]
        named = process_links.sessions_of(
            roots, helpers, self.catalog.session_files, self.linkers, self.watched
        )
        for root, sid in named.items():
            tracked = roots[root]
            if tracked.linked != sid:
                tracked.linked = sid
                out.append(ProcessLink(tracked.tool, root, sid, now))

    def daemons(self) -> list[tuple[str, int]]:
        return [
            (t.tool, p)
            for p, t in self.known.items()
            if t is not None and t.owner is None and t.role == "daemon"
        ]


def _alive(proc: psutil.Process) -> bool:
    """Running, as the same process (a reused pid is another one), and not a zombie: a client
    that exited while nothing reaped it yet (its terminal busy or gone) has ended its use."""
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def pid_of(t: Tracked) -> int:
    """The process id of a tracked process."""
    return int(t.proc.pid)
