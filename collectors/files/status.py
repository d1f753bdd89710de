"""The file collectors' part of `aitally status`: roots watched, files tracked, skips, catch-up.

The agent saves what only it knows (the roots it watches and how, its last catch-up) in the
store's kv table; `read_status` adds what the store holds (files by tool, skip counters), so
a command line reads it without the agent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aitally.core.store import Store, positions

STATUS_KEY = "files_status"


@dataclass(frozen=True, slots=True)
class CatchUpSummary:
    """What one catch-up over every root read, and how fast."""

    files: int
    bytes: int
    observations: int
    seconds: float
    mb_per_s: float | None

    def as_json(self) -> dict[str, Any]:
        """The summary as `aitally status --json` prints it."""
        return {
            "files": self.files,
            "bytes": self.bytes,
            "observations": self.observations,
            "seconds": self.seconds,
            "mb_per_s": self.mb_per_s,
        }

    @classmethod
    def from_json(cls, value: Any) -> CatchUpSummary | None:
        """A saved summary, or None when absent or unreadable."""
        if not isinstance(value, Mapping):
            return None
        try:
            rate = value.get("mb_per_s")
            return cls(
                int(value["files"]),
                int(value["bytes"]),
                int(value["observations"]),
                float(value["seconds"]),
                None if rate is None else float(rate),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True, slots=True)
class FileCollectorStatus:
    """The file collectors' status: roots (path -> "native" or "polling"), files with a read
    position by tool, files and records skipped by "tool:reason", and the last catch-up."""

    roots: Mapping[str, str] = field(default_factory=dict)
    files_by_tool: Mapping[str, int] = field(default_factory=dict)
    skipped: Mapping[str, int] = field(default_factory=dict)
    catch_up: CatchUpSummary | None = None

    def as_json(self) -> dict[str, Any]:
        """What `aitally status --json` prints under "file_collectors"."""
        return {
            "roots": dict(self.roots),
            "files_by_tool": dict(self.files_by_tool),
            "skipped": dict(self.skipped),
            "catch_up": None if self.catch_up is None else self.catch_up.as_json(),
        }


def saved_record(roots: Mapping[str, str], catch_up: CatchUpSummary | None) -> str:
    """The JSON the agent keeps under STATUS_KEY (written only when it changed)."""
    backfill = None if catch_up is None else catch_up.as_json()
    return json.dumps({"roots": dict(roots), "backfill": backfill}, sort_keys=True)


def read_status(store: Store) -> FileCollectorStatus:
    """The status as the store holds it now (the agent need not be running)."""
    raw = store.kv_get(STATUS_KEY)
    try:
        saved = json.loads(raw) if raw else {}
    except ValueError:
        saved = {}
    if not isinstance(saved, dict):
        saved = {}
    roots = saved.get("roots")
    return FileCollectorStatus(
        roots={str(k): str(v) for k, v in roots.items()} if isinstance(roots, dict) else {},
        files_by_tool=positions.files_by_tool(store.conn),
        skipped=store.counters("file_skipped"),
        catch_up=CatchUpSummary.from_json(saved.get("backfill")),
    )
