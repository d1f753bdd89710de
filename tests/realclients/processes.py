"""Process lifecycles of a client run: periodic psutil snapshots of its process tree.

Besides the tree under the client's own process, any process whose command line points into the
scratch install folder is followed, so helper daemons that are reparented to init when the client
exits (Codex's `app-server --managed-daemon`) stay in the record for as long as they run.
"""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path
from typing import Any

import psutil

POLL_S = 0.25


class ProcessWatcher:
    """Watches one run's processes from `start()` to `stop()`; `records()` gives what it saw.

    Times are seconds since the watcher's `t0` (the scenario's start), so they compare across
    the steps of one scenario. Prompt text in a command line is replaced by `<prompt>`."""

    def __init__(self, install_dir: Path, prompts: list[str], t0: float) -> None:
        self.install_dir = str(install_dir)
        self.prompts = [p for p in prompts if p]
        self.t0 = t0
        self.roots: set[int] = set()
        self._seen: dict[tuple[int, float], dict[str, Any]] = {}
        self.snapshots: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._lock = threading.Lock()

    def start(self) -> None:
        """Starts polling in the background."""
        self._thread.start()

    def add_root(self, pid: int) -> None:
        """Follows `pid` and every descendant from now on."""
        with self._lock:
            self.roots.add(pid)

    def stop(self) -> None:
        """Stops polling (one last snapshot first)."""
        self._stop.set()
        self._thread.join(timeout=5)

    def alive(self) -> list[int]:
        """Pids of followed processes still running (daemons the client left)."""
        return [rec["pid"] for rec in self._seen.values() if rec["exited"] is None]

    def _scrub(self, argv: list[str]) -> list[str]:
        return ["<prompt>" if any(p in arg for p in self.prompts) else arg for arg in argv]

    def _followed(self) -> list[psutil.Process]:
        procs: dict[int, psutil.Process] = {}
        with self._lock:
            roots = list(self.roots)
        for pid in roots:
            try:
                root = psutil.Process(pid)
                procs[pid] = root
                for child in root.children(recursive=True):
                    procs[child.pid] = child
            except psutil.Error:
                continue
        for proc in psutil.process_iter(["cmdline"]):
            cmd = proc.info.get("cmdline") or []
            if any(self.install_dir in part for part in cmd):
                procs.setdefault(proc.pid, proc)
        return list(procs.values())

    def _poll(self) -> None:
        now = round(time.time() - self.t0, 2)
        live: set[tuple[int, float]] = set()
        for proc in self._followed():
            try:
                with proc.oneshot():
                    key = (proc.pid, proc.create_time())
                    rec = self._seen.get(key)
                    if rec is None:
                        exe = ""
                        with contextlib.suppress(psutil.Error):
                            exe = Path(proc.exe()).name
                        rec = {
                            "pid": proc.pid,
                            "ppid": proc.ppid(),
                            "name": proc.name(),
                            "exe": exe,
                            "argv": self._scrub(proc.cmdline()),
                            "started": round(proc.create_time() - self.t0, 2),
                            "first_seen": now,
                            "ppids": [proc.ppid()],
                            "exited": None,
                        }
                        self._seen[key] = rec
                    elif proc.ppid() not in rec["ppids"]:
                        rec["ppids"].append(proc.ppid())  # reparented (to init, usually)
                    rec["last_seen"] = now
                    live.add(key)
            except psutil.Error:
                continue
        for key, rec in self._seen.items():
            if key not in live and rec["exited"] is None:
                rec["exited"] = now
        pids = sorted(k[0] for k in live)
        if not self.snapshots or self.snapshots[-1]["pids"] != pids:
            self.snapshots.append({"t": now, "pids": pids})

    def _run(self) -> None:
        while not self._stop.is_set():
            self._poll()
            self._stop.wait(POLL_S)
        self._poll()

    def records(self) -> dict[str, Any]:
        """The lifecycle: every process seen (by first sight) and the snapshots of live pids."""
        procs = sorted(self._seen.values(), key=lambda r: (r["first_seen"], r["pid"]))
        return {"processes": procs, "snapshots": self.snapshots}
