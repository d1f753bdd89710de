"""The browser collector: visits to AI web services in the browsers' history become web sessions.

Every `browser.poll_interval` it finds the profiles of the chosen browsers, and for each whose
history changed reads the visits after the last one read from a private copy
(`history_db.snapshot`). A visit whose host is in the catalog becomes `Activity` of that tool
(surface `web`, signal `history`) at its start and, for the part of its duration up to
`MAX_VISIT` (a tab left open all night is not use), every `step` seconds up to its end, so
the sessionizer's idle rules cut segments as for any tool. Each batch commits with the
profile's position (the last visit id read) through the sink, so a crash neither loses nor
counts twice a visit.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aitally.collectors.browser import history_db, profiles, status
from aitally.collectors.browser.history_db import HistoryUnreadable, Visit
from aitally.collectors.browser.hosts import SURFACE, HostCatalog
from aitally.collectors.browser.profiles import Profile
from aitally.core.config import Config
from aitally.core.logs import RateLimited
from aitally.core.observation import Activity, Observation
from aitally.core.sink import Counter, FilePosition, ObservationSink
from aitally.core.store import Store, positions

log = logging.getLogger(__name__)

# A visit counts for at most this long, however long its tab stayed on the page.
MAX_VISIT = 600.0
# Activity points inside a visit: at most this far apart (and half the idle timeout).
STEP = 300.0
SIGNAL = "history"


@dataclass(slots=True)
class _Seen:
    """What a profile's files looked like when last read through, and whether a visit was
    held back (Chromium fills a visit's duration when the tab leaves the page)."""

    files: tuple[tuple[int, int] | None, tuple[int, int] | None]
    held: bool


class BrowserCollector:
    """Collector protocol: start() reads what is new (history on first start), step() again
    every poll interval."""

    name = "browser"

    def __init__(
        self,
        cfg: Config,
        store: Store,
        sink: ObservationSink,
        *,
        env: Mapping[str, str] | None = None,
    ) -> None:
        section = cfg.section("browser")
        self.store, self.sink, self.env = store, sink, env
        self.browsers = list(section["browsers"])
        self.extra_roots = dict(section["extra_roots"])
        self.catalog = HostCatalog.load(
            section["extra_hosts"], cfg.get("collectors", "disabled_tools")
        )
        self.interval = float(section["poll_interval"])
        self.step_seconds = min(STEP, float(cfg.get("agent", "idle_timeout")) / 2)
        self.backfill = float(cfg.get("agent", "backfill_days")) * 86400
        self.next_poll = 0.0
        self.seen: dict[str, _Seen] = {}
        self.found: list[Profile] = []
        self.last_read: dict[str, float] = {}
        self._stop = threading.Event()
        self.problems = RateLimited(log)

    # -- Collector protocol -------------------------------------------------------------
    def start(self) -> None:
        """Reads every profile's new visits once (the history of `backfill_days` at first)."""
        self.poll(time.time())

    def step(self, now: float) -> None:
        """Reads again once the poll interval has passed."""
        if now >= self.next_poll:
            self.poll(now)

    def interrupt(self) -> None:
        """Asks a running read to stop between two batches."""
        self._stop.set()

    def stop(self) -> None:
        """Stops reading; the status stays saved."""
        self._stop.set()

    # -- reading --------------------------------------------------------------------------
    def poll(self, now: float) -> None:
        """One pass over every profile found now."""
        self.next_poll = now + self.interval
        self.found = profiles.find(self.browsers, self.extra_roots, self.env)
        saved = {
            p.path: p for p in positions.load_positions(self.store.conn, positions.BROWSER_PREFIX)
        }
        for profile in self.found:
            if self._stop.is_set():
                break
            db = str(profile.db)
            files = (history_db.identity(profile.db), history_db.identity(Path(db + "-wal")))
            seen = self.seen.get(db)
            if seen is not None and seen.files == files and not seen.held:
                continue
            try:
                held = self.read(profile, saved.get(db), now)
            except HistoryUnreadable as exc:
                self.problems.warning(
                    f"browser:{db}",
                    "%s: history not read (%s); trying again in %g s",
                    profile.label,
                    exc,
                    self.interval,
                )
                self.store.count(status.SKIPPED, f"{profile.browser}/{exc.reason}")
                continue
            self.seen[db] = _Seen(files, held)
            self.last_read[db] = now
        self.store.kv_set(status.STATUS_KEY, status.saved_record(True, self._profiles_json()))

    def read(self, profile: Profile, saved: FilePosition | None, now: float) -> bool:
        """Reads one profile's new visits; True when a visit was held back for its duration."""
        state = _state(saved)
        last_id, floor = state.get("id"), 0.0
        with history_db.snapshot(profile.db) as conn:
            engine = profile.engine
            if not isinstance(last_id, int):
                after = history_db.first_id_since(conn, engine, now - self.backfill)
            elif history_db.top_id(conn, engine) < last_id:
                # Rebuilt or cleared: ids start again; what was read before stays counted.
                after, floor = 0, float(state.get("at") or 0)
            else:
                after = last_id
            last_at = float(state.get("at") or 0)
            wrote = False
            for batch in history_db.visits(conn, engine, after):
                obs: list[Observation] = []
                counts: dict[str, int] = {}
                held = False
                for visit in batch:
                    tool = self.catalog.tool_for(visit.host)
                    if tool is not None and visit.at > floor:
                        if _open(profile, visit, now):
                            held = True
                            break
                        obs += self.activity(tool, profile.key, visit)
                        counts[tool] = counts.get(tool, 0) + 1
                        last_at = max(last_at, visit.at)
                    after = visit.id
                counters: list[Counter] = (
                    [(status.VISITS, profile.browser, sum(counts.values()))] if counts else []
                )
                self.sink.apply(
                    obs, positions=[_position(profile, after, last_at)], counters=counters
                )
                wrote = True
                if held or self._stop.is_set():
                    return held
        if not wrote and after != last_id:
            # A first read of a history with nothing new: start from here next time.
            self.sink.apply([], positions=[_position(profile, after, last_at)])
        return False

    def activity(self, tool: str, key: str, visit: Visit) -> list[Observation]:
        """Activity at the visit's start and every `step_seconds` of its (capped) duration."""
        end = visit.at + min(visit.duration, MAX_VISIT)
        times = [visit.at]
        t = visit.at + self.step_seconds
        while t < end:
            times.append(t)
            t += self.step_seconds
        if end > visit.at:
            times.append(end)
        return [Activity(tool, key, at, "visit", SIGNAL, SURFACE) for at in times]

    def _profiles_json(self) -> list[dict[str, Any]]:
        return [
            {
                "browser": p.browser,
                "profile": p.db.parent.name,
                "path": str(p.db),
                "last_read": self.last_read.get(str(p.db)),
            }
            for p in self.found
        ]


def _position(profile: Profile, last_id: int, last_at: float) -> FilePosition:
    """The profile's position: the last visit id read, and the latest AI visit's time."""
    return FilePosition(
        str(profile.db),
        positions.BROWSER_PREFIX + profile.browser,
        0,
        state=json.dumps({"id": last_id, "at": last_at}),
    )


def _state(saved: FilePosition | None) -> dict[str, Any]:
    try:
        value = json.loads(saved.state) if saved is not None and saved.state else {}
    except ValueError:
        value = {}
    return value if isinstance(value, dict) else {}


def _open(profile: Profile, visit: Visit, now: float) -> bool:
    """A Chromium visit without a duration may still be on screen: it is read once its tab
    left the page (the duration is then set) or MAX_VISIT after it began."""
    return profile.engine == "chromium" and visit.duration == 0 and now - visit.at < MAX_VISIT


def create(cfg: Config, store: Store, sink: ObservationSink) -> BrowserCollector | None:
    """The collector, or None when `browser.enabled` is false (e.g. by managed policy)."""
    if not (cfg.get("browser", "enabled") and cfg.get("browser", "browsers")):
        return None
    return BrowserCollector(cfg, store, sink)
