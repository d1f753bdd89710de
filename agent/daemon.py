"""The agent loop: scan processes, step collectors, close idle segments, hand off uploads."""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import threading
import time
from contextlib import suppress
from pathlib import Path
from types import FrameType

import psutil

from aitally.collectors.browser import collector as browser_collector
from aitally.collectors.browser.hosts import web_tool_ids
from aitally.collectors.catalog import Catalog
from aitally.collectors.files import roots
from aitally.collectors.files import watcher as file_collector
from aitally.collectors.files.adapters import gemini_process
from aitally.collectors.git import collector as git_collector
from aitally.collectors.processes import SCOPE_VARIABLE, ProcessScanner
from aitally.core import exit_status, paths
from aitally.core.collector import Collector
from aitally.core.config import Config
from aitally.core.instance_lock import InstanceLock
from aitally.core.logs import RateLimited
from aitally.core.observation import ProcessGone
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store, ensure_writable_dir, sessions
from aitally.core.tools import TOOL_IDS
from aitally.uploader import bounds
from aitally.uploader import service as upload_service

log = logging.getLogger(__name__)

# Exit status when the store file was replaced or deleted under the agent (core/exit_status.py).
STORE_REPLACED = exit_status.STORE_REPLACED

# The store's size and age bounds are enforced at start and this often (seconds), whether
# or not anything is uploaded: a laptop offline for weeks stays within them.
JANITOR_EVERY = 600.0


def build_collectors(cfg: Config, store: Store, sessionizer: Sessionizer) -> list[Collector]:
    """The parts the loop steps after each scan, in order. The uploader comes last, so that one
    pass reads, closes and uploads; a part its configuration turns off is left out."""
    receiver = None
    if cfg.get("otlp_receiver", "enabled"):
        # Loaded only when on (it is off by default): its HTTP server brings `http` and TLS,
        # about 2.4 MiB of the agent's memory (bench/README.md, File collectors).
        from aitally.collectors.otlp import receiver as otlp_receiver

        receiver = otlp_receiver.create(cfg, store, sessionizer)
    parts = [
        file_collector.create(cfg, store, sessionizer),
        browser_collector.create(cfg, store, sessionizer),
        receiver,
        git_collector.create(cfg, store),
        upload_service.create(cfg, store, sessionizer),
    ]
    return [p for p in parts if p is not None]


class Agent:
    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.stop_event = threading.Event()
        self.lock = InstanceLock(paths.lock_file())
        self.store: Store | None = None
        self.collectors: list[Collector] = []
        self.problems = RateLimited(log)

    def _setup(self) -> tuple[Store, Sessionizer, ProcessScanner, list[Collector]]:
        ensure_writable_dir(paths.data_dir())
        self.lock.acquire()
        store = Store(paths.store_file(), recover=True)
        self.store = store
        agent_cfg = self.cfg.section("agent")
        sessionizer = Sessionizer(
            store,
            idle_timeout=agent_cfg["idle_timeout"],
            cpu_active_threshold=agent_cfg["cpu_active_threshold"],
            max_presence_step=max(60.0, 4 * agent_cfg["scan_interval"]),
        )
        catalog = Catalog.load(self.cfg.tools, self.cfg.get("collectors", "disabled_tools"))
        warn_unknown_tools(self.cfg)
        # Gemini CLI's files name no process: its chat is found by project and time.
        scanner = ProcessScanner(
            catalog,
            linkers={"gemini-cli": gemini_process.session_of},
            watched=roots.resolved_by_tool(
                set(TOOL_IDS), self.cfg.get("collectors", "extra_roots")
            ),
            scope=agent_cfg["process_scope"],
        )
        if agent_cfg["process_scope"]:
            log.info(
                "counting only tool processes started with %s=%s",
                SCOPE_VARIABLE,
                agent_cfg["process_scope"],
            )
        collectors = build_collectors(self.cfg, store, sessionizer)
        reconcile_processes(store, sessionizer)
        store.kv_set("agent_pid", str(os.getpid()))
        store.kv_set("agent_started_at", str(time.time()))
        return store, sessionizer, scanner, collectors

    def request_stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        if signum is not None:
            log.info("received %s, stopping", signal.Signals(signum).name)
        self.stop_event.set()
        for c in self.collectors:
            c.interrupt()  # a first catch-up may be running inside start()

    def run(self, *, once: bool = False) -> int:
        store, sessionizer, scanner, collectors = self._setup()
        status = 0
        self.collectors = collectors
        interval = float(self.cfg.get("agent", "scan_interval"))
        try:
            for c in list(collectors):
                if self.stop_event.is_set():
                    break
                try:
                    c.start()
                except Exception as exc:  # one part failing must not keep the rest down
                    # The type only: a message could quote a tool's data.
                    log.error(
                        "collector %s failed to start (%s); left out", c.name, type(exc).__name__
                    )
                    _count_error(store, f"{c.name}_start")
                    collectors.remove(c)
                    with suppress(Exception):
                        c.stop()
            log.info(
                "agent started (pid %d, scan every %gs, %d collectors)",
                os.getpid(),
                interval,
                len(collectors),
            )
            next_janitor = 0.0
            identity = _identity(store.path)
            while True:
                self._tick(store, sessionizer, scanner, collectors)
                if _identity(store.path) != identity:
                    # Writing on would go to a deleted inode that nobody will ever read.
                    log.error(
                        "the store %s was replaced or deleted while the agent ran; stopping "
                        "(status %d) so that a restart opens the file now in place",
                        store.path,
                        STORE_REPLACED,
                    )
                    status = STORE_REPLACED
                    break
                if time.monotonic() >= next_janitor:
                    self._janitor(store)
                    next_janitor = time.monotonic() + JANITOR_EVERY
                if once or self.stop_event.wait(interval):
                    break
        finally:
            for c in collectors:
                try:
                    c.stop()
                except Exception:
                    log.exception("collector %s failed to stop", c.name)
            store.kv_set("agent_stopped_at", str(time.time()))
            store.close()
            self.lock.release()
            log.info("agent stopped")
        return status

    def _tick(
        self,
        store: Store,
        sessionizer: Sessionizer,
        scanner: ProcessScanner,
        collectors: list[Collector],
    ) -> None:
        now = time.time()
        start = time.perf_counter()
        try:
            observations = scanner.scan(now)
            sessionizer.apply(observations, now=now)  # also closes idle segments
            store.kv_set(
                "last_scan",
                json.dumps(
                    {
                        "at": now,
                        "seconds": round(time.perf_counter() - start, 6),
                        "processes": len(scanner.known),
                        "daemons": scanner.daemons(),
                    }
                ),
            )
        except Exception as exc:  # a failing scan must never stop the agent
            self.problems.warning("scan", "process scan failed: %s", exc)
            _count_error(store, "process_scan")
        for c in collectors:
            if self.stop_event.is_set():
                break
            try:
                c.step(time.time())
            except Exception as exc:
                self.problems.warning(c.name, "%s failed: %s", c.name, exc)
                log.debug("collector %s failure", c.name, exc_info=True)
                _count_error(store, c.name)
            # Close what went idle before the next collector (the uploader comes last),
            # so that one pass reads, closes and uploads.
            try:
                sessionizer.close_idle(time.time())
            except Exception as exc:
                self.problems.warning("close", "closing idle segments failed: %s", exc)

    def _janitor(self, store: Store) -> None:
        limits = self.cfg.section("store")
        try:
            dropped = bounds.enforce(
                store, time.time(), limits["max_bytes"], limits["max_age_days"]
            )
        except sqlite3.Error as exc:
            self.problems.warning("janitor", "enforcing the store's bounds failed: %s", exc)
            return
        if any(dropped.values()):
            log.warning(
                "store bounds: dropped %s undelivered records (counted in status)",
                ", ".join(f"{n} by {why}" for why, n in dropped.items() if n),
            )


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _count_error(store: Store, reason: str) -> None:
    # The error may be the store itself (a full disk): counting must not raise again.
    with suppress(sqlite3.Error):
        store.count("errors", reason)


def warn_unknown_tools(cfg: Config) -> None:
    """A typo in a tool id silently does nothing; refusing it would make older agents fail
    on newer policies, so it is a warning."""
    named = set(cfg.get("collectors", "disabled_tools")) | set(cfg.get("collectors", "extra_roots"))
    unknown = named - TOOL_IDS - set(web_tool_ids()) - {t.get("id") for t in cfg.tools}
    if unknown:
        log.warning(
            "configuration names unknown tool ids %s (known: %s)",
            ", ".join(sorted(unknown)),
            ", ".join(sorted(TOOL_IDS)),
        )


def reconcile_processes(store: Store, sessionizer: Sessionizer) -> int:
    """Processes that exited while the agent was down (or killed) close at their last sighting."""
    gone = []
    for proc in sessions.live_processes(store.conn):
        try:
            alive = abs(psutil.Process(proc.pid).create_time() - proc.create_time) < 0.01
        except psutil.Error:
            alive = False
        if not alive:
            gone.append(ProcessGone(proc.tool, proc.pid, proc.create_time, proc.last_seen))
    if gone:
        sessionizer.apply(gone)
        log.info("closed %d sessions whose processes exited while the agent was stopped", len(gone))
    return len(gone)


def install_signal_handlers(agent: Agent) -> None:
    signal.signal(signal.SIGTERM, agent.request_stop)
    signal.signal(signal.SIGINT, agent.request_stop)
