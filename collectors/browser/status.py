"""The browser collector's part of `aitally status` and the Sources page: which profiles are
read, when last, how many AI visits each gave, and what was skipped.

The collector saves the profiles it found in the store's kv table; `read_status` adds the
counters, so a command line reads it without the agent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aitally.core.store import Store

STATUS_KEY = "browser_status"
# Counters: AI visits read by browser, and histories not read by "browser/reason".
VISITS = "browser_visits"
SKIPPED = "browser_skipped"
# What the Sources page and the README say is kept.
KEPT = (
    "for visits to the hosts of AI web services only: the service, the time and duration of "
    "each visit (at most 10 minutes a visit), as web sessions. Never the rest of the address "
    "(path, query, fragment), the page title, anything typed, or visits to other hosts; "
    "visits synced from other devices are skipped."
)


@dataclass(frozen=True, slots=True)
class BrowserStatus:
    """Profiles read (browser, profile folder, history file, last read), AI visits read by
    browser, and histories skipped by "browser/reason"."""

    enabled: bool = False
    profiles: Sequence[Mapping[str, Any]] = ()
    visits: Mapping[str, int] = field(default_factory=dict)
    skipped: Mapping[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """What `aitally status --json` prints under "browser"."""
        return {
            "enabled": self.enabled,
            "profiles": [dict(p) for p in self.profiles],
            "visits": dict(self.visits),
            "skipped": dict(self.skipped),
            "kept": KEPT,
        }


def saved_record(enabled: bool, profiles: Sequence[Mapping[str, Any]]) -> str:
    """The JSON the collector keeps under STATUS_KEY."""
    return json.dumps({"enabled": enabled, "profiles": list(profiles)}, sort_keys=True)


def read_status(store: Store) -> BrowserStatus | None:
    """The status as the store holds it now; None when the collector never ran."""
    raw = store.kv_get(STATUS_KEY)
    try:
        saved = json.loads(raw) if raw else None
    except ValueError:
        saved = None
    if not isinstance(saved, dict):
        return None
    profiles = saved.get("profiles")
    return BrowserStatus(
        enabled=saved.get("enabled") is True,
        profiles=[p for p in profiles if isinstance(p, dict)] if isinstance(profiles, list) else [],
        visits=store.counters(VISITS),
        skipped=store.counters(SKIPPED),
    )
