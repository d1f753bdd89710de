"""The file collector: watches every tool data root, backfills history, tails changes live."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import suppress
from functools import partial
from pathlib import Path, PurePosixPath

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers.api import BaseObserver

from aitally.collectors.files import registry, roots, status
from aitally.collectors.files.adapters.base import Adapter
from aitally.collectors.files.adapters.claude_code import live_links
from aitally.collectors.files.progress import Progress
from aitally.collectors.files.readers import SNAPSHOT_QUIET, ReadTally, reader_for
from aitally.collectors.files.status import CatchUpSummary
from aitally.collectors.files.tailer import Tailer
from aitally.core.config import Config
from aitally.core.logs import RateLimited
from aitally.core.sessionizer import Sessionizer
from aitally.core.sink import ObservationSink
from aitally.core.store import Store

log = logging.getLogger(__name__)

# Seconds between checks for roots that appeared, and between full re-scans (the safety net
# for events a watcher missed: overflowed inotify queues, network folders).
ROOT_CHECK = 5.0
RESCAN = 60.0
SIDECARS = ("-wal", "-shm", "-journal")
# watchdog 7's recursive inotify watch registers a folder made together with its subfolders
# (Codex's sessions/YYYY/MM/DD/) twice: while walking the new parent, and again on the
# subfolder's own queued creation event. The second registration is the same callback under
# the same id, so it only replaces itself, but watchdog warns each time with a RuntimeWarning
# whose text names the folder's path and the watch: printed on the agent's stderr (the
# service's log), never the same text twice, and a file name where none may be written.
DUPLICATE_WATCH_WARNING = r"Callback with id '\d+' already exists for watch"

# Opens the collector's own store connection and a sink committing through it: the tailing
# thread commits while the agent's loop does, on its connection.
SinkOpener = Callable[[], tuple[ObservationSink, Store]]


class _Handler(FileSystemEventHandler):
    """Marks the files a watchdog event names as changed (a folder event: re-scan soon)."""

    def __init__(self, owner: FileCollector) -> None:
        self.owner = owner

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory:
            self.owner.rescan_soon = True
        else:
            paths = [event.src_path, getattr(event, "dest_path", "")]
            self.owner.mark(*(os.fsdecode(p) for p in paths if p))


class FileCollector:
    """Collector protocol: start() catches up on history, a thread then tails live changes.

    `sink` takes what the agent's loop applies (live process links); the tailing thread
    commits through the sink and store `open_sink` returns, its own connection.
    """

    name = "files"

    def __init__(
        self,
        cfg: Config,
        sink: ObservationSink,
        adapters: list[Adapter],
        *,
        open_sink: SinkOpener,
    ) -> None:
        self.sink = sink
        self.open_sink = open_sink
        self.adapters: dict[str, list[Adapter]] = {}
        for a in adapters:
            self.adapters.setdefault(a.tool, []).append(a)
        self.candidates = roots.candidates(set(self.adapters), cfg.get("collectors", "extra_roots"))
        self.polling = bool(cfg.get("collectors", "polling"))
        self.backfill_days = int(cfg.get("agent", "backfill_days"))
        self.problems = RateLimited(log)
        self.rescan_soon = False
        self._dirty: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._native: BaseObserver | None = None
        self._poller: BaseObserver | None = None
        self.watched: dict[Path, str] = {}
        self.last_catch_up: CatchUpSummary | None = None
        self.store: Store | None = None
        self.tailer: Tailer | None = None
        self._saved_status: str | None = None

    # -- Collector protocol -------------------------------------------------------------
    def start(self) -> None:
        """Watches the roots, catches up on history, then starts the tailing thread."""
        # A connection of our own: the tailing thread commits while the loop scans.
        sink, self.store = self.open_sink()
        self.tailer = Tailer(sink, self.store, stop=self._stop)
        self._watch_roots()  # before the catch-up, so nothing written meanwhile is missed
        try:
            self.last_catch_up = self.catch_up(progress=sys.stderr.isatty())
        except Exception as exc:  # e.g. a full disk: the tailing thread catches up later
            self.problems.warning("files", "the first catch-up failed: %s", type(exc).__name__)
            with suppress(Exception):  # the store itself may be what failed
                self.store.count("errors", "files")
            self.rescan_soon = True
        self._save_status()
        self._thread = threading.Thread(target=self._run, name="aitally-files", daemon=True)
        self._thread.start()

    def step(self, now: float) -> None:
        """Links live Claude Code processes to their sessions (sessions/<pid>.json)."""
        links = [
            link
            for root in self.candidates
            if root.tool == "claude-code" and root.path.is_dir()
            for link in live_links(root.path, now)
        ]
        if links:
            self.sink.apply(links)

    def interrupt(self) -> None:
        """Asks a running catch-up to return between two files."""
        self._stop.set()

    def stop(self) -> None:
        """Stops the thread and the watchers, saves the status, closes the connection."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        for obs in (self._native, self._poller):
            if obs is not None:
                obs.stop()
                obs.join(timeout=5)
        if self.store is not None:
            self._save_status()
            self.store.close()

    # -- watching -----------------------------------------------------------------------
    def mark(self, *paths: str) -> None:
        """Files to read on the next pass of the tailing thread."""
        with self._lock:
            self._dirty.update(paths)
        self._wake.set()

    def _watch_roots(self) -> list[Path]:
        added = []
        for root in self.candidates:
            if root.path in self.watched or not root.path.is_dir():
                continue
            self.watched[root.path] = self._schedule(root.path)
            added.append(root.path)
        return added

    def _schedule(self, path: Path) -> str:
        handler = _Handler(self)
        if not self.polling:
            try:
                if self._native is None:
                    from watchdog.observers import Observer

                    warnings.filterwarnings(
                        "ignore",
                        message=DUPLICATE_WATCH_WARNING,
                        category=RuntimeWarning,
                        module=r"watchdog\.observers\.inotify",
                    )
                    self._native = Observer()
                    self._native.start()
                self._native.schedule(handler, str(path), recursive=True)
                return "native"
            except OSError as exc:
                # inotify watches exhausted (ENOSPC), unsupported file systems, ...
                log.warning(
                    "native file watches unavailable for %s (%s); polling it instead",
                    path,
                    exc.strerror or exc,
                )
        if self._poller is None:
            from watchdog.observers.polling import PollingObserver

            self._poller = PollingObserver(timeout=1.0)
            self._poller.start()
        self._poller.schedule(handler, str(path), recursive=True)
        return "polling"

    # -- reading ------------------------------------------------------------------------
    def _cutoff(self) -> float:
        return time.time() - self.backfill_days * 86400.0

    def resolve(self, path: str) -> tuple[Path, PurePosixPath, Adapter] | None:
        """The file a changed path stands for, its path under its root, and its adapter."""
        # A database's write-ahead log changes, not the database: read the database.
        for suffix in SIDECARS:
            if path.endswith(suffix):
                path = path[: -len(suffix)]
        p = Path(path)
        for root in self.candidates:
            try:
                rel = PurePosixPath(*p.relative_to(root.path).parts)
            except ValueError:
                continue
            if not rel.parts:
                continue
            for a in self.adapters[root.tool]:
                if a.matches(rel):
                    if not roots.inside(p, os.path.realpath(root.path)):
                        self._refuse(p, root.tool)
                        return None
                    return p, rel, a
        return None

    def _refuse(self, p: Path, tool: str) -> None:
        if self.tailer is not None:
            self.tailer.skip_path(str(p), tool, "outside_root")

    def files(self) -> Iterator[tuple[Path, PurePosixPath, Adapter]]:
        """Every file of every existing root that an adapter reads."""
        for root in self.candidates:
            if not root.path.is_dir():
                continue
            real = os.path.realpath(root.path)
            for a in self.adapters[root.tool]:
                bases = [root.path / d for d in a.dirs] if a.dirs else [root.path]
                for base in bases:
                    # os.walk descends no symlinked folder, but `base` itself may be one.
                    for folder, _dirs, names in os.walk(base):
                        if not roots.inside(folder, real):
                            self._refuse(Path(folder), root.tool)
                            break
                        for name in names:
                            p = Path(folder, name)
                            rel = PurePosixPath(*p.relative_to(root.path).parts)
                            if not a.matches(rel):
                                continue
                            if os.path.islink(p) and not roots.inside(p, real):
                                self._refuse(p, root.tool)
                                continue
                            yield p, rel, a

    def catch_up(self, *, progress: bool = False) -> CatchUpSummary:
        """Reads everything new under every root (history on first start, then what changed)."""
        assert self.tailer is not None
        started = time.monotonic()
        todo = []
        for p, rel, a in self.files():
            try:
                size = p.stat().st_size
            except OSError:
                continue
            known = self.tailer.positions.get(str(p))
            todo.append((size - (known.offset if known else 0), p, rel, a))
        seen = {str(p) for _, p, _, _ in todo}
        bar = Progress(sum(max(0, t[0]) for t in todo), enabled=progress)
        total = ReadTally()
        cutoff = self._cutoff()
        self.tailer.defer = True
        try:
            for _, p, rel, a in sorted(todo, key=lambda t: str(t[1])):
                if self._stop.is_set():
                    break
                out = self.tailer.process(p, rel, a, cutoff=cutoff)
                total.bytes += out.bytes
                total.observations += out.observations
                bar.advance(out.bytes)
            self.tailer.flush()
        finally:
            self.tailer.defer = False
        for gone in [k for k in self.tailer.positions if k not in seen]:
            if not os.path.exists(gone):
                self.tailer.forget(gone)
        bar.close()
        seconds = time.monotonic() - started
        summary = CatchUpSummary(
            files=len(todo),
            bytes=total.bytes,
            observations=total.observations,
            seconds=round(seconds, 3),
            mb_per_s=round(total.bytes / 1e6 / seconds, 1) if seconds > 0 else None,
        )
        if total.bytes or progress:
            log.info(
                "catch-up: %d files, %.1f MB read in %.1f s, %d observations",
                len(todo),
                total.bytes / 1e6,
                seconds,
                total.observations,
            )
        return summary

    def _drain(self) -> None:
        assert self.tailer is not None
        with self._lock:
            batch, self._dirty = self._dirty, set()
        later: set[str] = set()
        missing = []
        now = time.time()
        cutoff = self._cutoff()
        for path in sorted(batch):
            found = self.resolve(path)
            if found is None:
                continue
            p, rel, a = found
            try:
                mtime = p.stat().st_mtime
            except FileNotFoundError:
                missing.append(path)
                continue
            except OSError:
                continue
            quiet = reader_for(a).quiet
            if quiet and now - mtime < quiet:
                later.add(path)
                continue
            self.tailer.process(p, rel, a, cutoff=cutoff)
        # Deletions last: a rename's new name has adopted the old position by now.
        for path in missing:
            self.tailer.forget(path)
        if later:
            with self._lock:
                self._dirty |= later

    def _run(self) -> None:
        last_roots = last_rescan = time.monotonic()
        while not self._stop.is_set():
            with self._lock:
                pending = bool(self._dirty)
            self._wake.wait(SNAPSHOT_QUIET / 2 if pending else ROOT_CHECK)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                mono = time.monotonic()
                if mono - last_roots >= ROOT_CHECK:
                    last_roots = mono
                    if self._watch_roots():
                        self.rescan_soon = True
                if self.rescan_soon or mono - last_rescan >= RESCAN:
                    self.rescan_soon = False
                    last_rescan = mono
                    self.catch_up()
                self._drain()
                self._save_status()
            except Exception as exc:  # the tailing thread must survive anything
                self.problems.warning("files", "file collector failed: %s", exc)
                log.debug("file collector failure", exc_info=True)
                if self.store is not None:
                    self.store.count("errors", "files")

    def _save_status(self) -> None:
        if self.store is None:
            return
        roots_watched = {str(p): mode for p, mode in sorted(self.watched.items())}
        value = status.saved_record(roots_watched, self.last_catch_up)
        if value != self._saved_status:
            self.store.kv_set(status.STATUS_KEY, value)
            self._saved_status = value


def _own_sessionizer(main: Sessionizer) -> tuple[ObservationSink, Store]:
    """A sessionizer like the agent's, on a connection of its own."""
    store = Store(main.store.path)
    sink = Sessionizer(
        store,
        idle_timeout=main.idle,
        cpu_active_threshold=main.cpu_threshold,
        max_presence_step=main.max_step,
    )
    return sink, store


def create(cfg: Config, store: Store, sessionizer: Sessionizer) -> FileCollector | None:
    """Daemon factory: None when every file-based tool is disabled."""
    disabled = set(cfg.get("collectors", "disabled_tools"))
    adapters = [a for a in registry.adapters() if a.tool not in disabled]
    if not adapters:
        return None
    return FileCollector(
        cfg, sessionizer, adapters, open_sink=partial(_own_sessionizer, sessionizer)
    )
