"""The upload thread inside the agent: its own store connection, never blocking the scan loop."""

from __future__ import annotations

import logging
import random
import threading
import time
from pathlib import Path

from aitally.core import config
from aitally.core.config import Config
from aitally.core.errors import ConfigError
from aitally.core.logs import RateLimited
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store, outbox
from aitally.uploader import retry, sinks
from aitally.uploader.delivery import Delivery

log = logging.getLogger(__name__)
# Waits are cut into slices this long (monotonic), so nothing oversleeps a changed state.
SLICE = 30.0


class UploadService:
    """The uploader as one of the agent's collectors: a thread making upload passes."""

    name = "uploader"

    def __init__(self, cfg: Config, store_path: Path) -> None:
        self.cfg = cfg
        self.path = store_path
        self.rng = random.Random()
        self._kick = threading.Event()
        self._stop = threading.Event()
        self._steps = 0
        self._final = False  # the agent stops before the first pass: make it, then end
        self._thread = threading.Thread(target=self._run, name="aitally-upload", daemon=True)
        self.problems = RateLimited(log)

    def start(self) -> None:
        """Starts the upload thread; it waits for the agent's second tick before its first pass."""
        self._thread.start()

    def step(self, now: float) -> None:
        """Called on every agent tick; from the second on, lets the upload thread run."""
        # The first pass waits for the second tick: by then the first tick has closed
        # everything it found, including what other collectors applied after this step.
        self._steps += 1
        if self._steps >= 2:
            self._kick.set()

    def interrupt(self) -> None:
        """Nothing to interrupt: start() never blocks, and stop() applies the shutdown grace."""

    def stop(self) -> None:
        """Stops the thread, waiting up to upload.shutdown_grace for a request in flight."""
        up = self.cfg.section("upload")
        grace = up["shutdown_grace"]
        if not self._kick.is_set():
            # `run --once` (or a stop before the second tick): the one pass it promises
            # runs now, whole, and may take a full request to finish.
            self._final = True
            grace += up["connect_timeout"] + up["read_timeout"]
        self._stop.set()
        self._kick.set()
        self._thread.join(grace)
        if self._thread.is_alive():
            log.info("upload in flight abandoned at shutdown; its records stay queued")

    def _run(self) -> None:
        """The thread: its own store connection, passes until stopped."""
        self._kick.wait()
        store = Store(self.path)
        try:
            with store.transaction() as conn:
                outbox.release(conn)  # claims of a killed predecessor go back to the queue
            if self._final:
                self._pass(store, threading.Event())  # not interrupted by the stop itself
                return
            while True:
                delay = self._pass(store, self._stop)
                if self._stop.is_set() or self._sleep(delay):
                    break
        except Exception:
            log.exception("upload thread failed; uploads stop until the agent restarts")
        finally:
            store.close()

    def _pass(self, store: Store, stop: threading.Event) -> float:
        """One pass; returns seconds until the next."""
        try:
            # The policy in force now, as `aitally preview` reads it: a level the engineer
            # tightened after the agent started must shape what this pass sends.
            self.cfg = config.load_default()
        except ConfigError as exc:
            self.problems.warning("config", "configuration unreadable, keeping the last: %s", exc)
        up = self.cfg.section("upload")
        interval: float = up["interval"] * self.rng.uniform(1 - up["jitter"], 1 + up["jitter"])
        try:
            targets = sinks.make_sinks(self.cfg)
            result = Delivery(self.cfg, store, targets, self.rng).run(stop)
        except sinks.NotReady as exc:
            self.problems.warning("ready", "uploads not possible: %s", exc)
            return interval
        except Exception as exc:  # one bad pass must not end uploads for good
            self.problems.warning("pass", "upload pass failed: %s", exc)
            store.count("errors", "upload")
            return interval
        if result.outcome in ("retry", "waiting"):
            return max(retry.load(store).remaining(time.time()), 0.1)
        return interval

    def _sleep(self, seconds: float) -> bool:
        """True when stopped during the wait."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self._stop.wait(min(left, SLICE)):
                return True
        return self._stop.is_set()


def create(cfg: Config, store: Store, sessionizer: Sessionizer) -> UploadService | None:
    """The agent's collector factory: an upload service when an endpoint is configured."""
    if not sinks.configured(cfg):
        return None  # nothing leaves this machine
    return UploadService(cfg, store.path)
