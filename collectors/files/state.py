"""Per-file read state: the position reached in a file and what its reader keeps between passes.

Saved as JSON in `file_positions.state`, numbers and ids only. The format names its fields
(`{"data": ..., "skipping": true, "high_water": 42, "pending": [7]}`, defaults left out); the
previous format (`{"a": {..., "hw": 42, "pending": [7]}, "skip": true}`) is still read, so an
upgraded agent neither reads a file again nor loses what it kept about it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

from aitally.core.sink import FilePosition

# Rows of a database read again on later passes at most (replies still streaming).
MAX_PENDING = 500


@dataclass(slots=True)
class FileState:
    """What is kept about one file between passes; adapters read and write `data`."""

    # The adapter's own numbers and ids (cumulative totals, recent message ids, ...).
    data: dict[str, Any] = field(default_factory=dict)
    # Line files: the position is inside a line too long to read, skipped up to its end.
    skipping: bool = False
    # Databases: the highest rowid read, and rows to read again (figures not final yet).
    high_water: int = 0
    pending: list[int] = field(default_factory=list)
    # Records that did not look as expected since the last commit (counted, never saved).
    drift: int = 0

    def drifted(self, n: int = 1) -> None:
        """The file did not look as expected (a missing field, an unknown shape)."""
        self.drift += n

    def pend(self, rowid: int) -> None:
        """Read this database row again next time (its figures are not final yet)."""
        if len(self.pending) < MAX_PENDING:
            self.pending.append(rowid)

    def copy(self) -> FileState:
        """A copy whose top-level fields can change without touching this one."""
        return FileState(
            dict(self.data), self.skipping, self.high_water, list(self.pending), self.drift
        )

    def to_json(self) -> str | None:
        """The saved form; None when there is nothing to keep."""
        saved: dict[str, Any] = {}
        if self.data:
            saved["data"] = self.data
        if self.skipping:
            saved["skipping"] = True
        if self.high_water:
            saved["high_water"] = self.high_water
        if self.pending:
            saved["pending"] = self.pending
        return json.dumps(saved, separators=(",", ":")) if saved else None

    @classmethod
    def from_json(cls, raw: str | None) -> FileState:
        """The state saved by this version or the previous one; unreadable parts are dropped."""
        try:
            saved = json.loads(raw) if raw else {}
        except (ValueError, RecursionError):
            saved = {}
        if not isinstance(saved, dict):
            return cls()
        if "a" in saved or "skip" in saved:
            saved = _previous_format(saved)
        data = saved.get("data")
        return cls(
            data=data if isinstance(data, dict) else {},
            skipping=saved.get("skipping") is True,
            high_water=_int(saved.get("high_water")),
            pending=[r for r in _list(saved.get("pending")) if _int(r)][:MAX_PENDING],
        )


def _previous_format(saved: dict[str, Any]) -> dict[str, Any]:
    """The previous version kept the adapter's data under "a", with a database's rowids in it
    ("hw", "pending"), and "skip" for a line being skipped."""
    data = dict(saved.get("a") or {}) if isinstance(saved.get("a"), dict) else {}
    return {
        "data": data,
        "skipping": bool(saved.get("skip")),
        "high_water": data.pop("hw", 0),
        "pending": data.pop("pending", []),
    }


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


@dataclass(slots=True)
class Position:
    """How far one file was read, what it looked like then (size, mtime), and its state."""

    tool: str
    dev: int | None
    ino: int | None
    offset: int = 0
    # Size and mtime when the file was last read to its end; None in the middle of a file.
    size: int | None = None
    mtime: float | None = None
    state: FileState = field(default_factory=FileState)

    def copy(self) -> Position:
        """A working copy for one pass: the committed position stays as it was on an error."""
        return replace(self, state=self.state.copy())

    @classmethod
    def from_saved(cls, saved: FilePosition) -> Position:
        """A position as the store holds it."""
        return cls(
            saved.tool,
            saved.dev,
            saved.ino,
            saved.offset,
            saved.size,
            saved.mtime,
            FileState.from_json(saved.state),
        )

    def to_saved(self, path: str) -> FilePosition:
        """The row the sink commits for this position."""
        return FilePosition(
            path,
            self.tool,
            self.offset,
            self.dev,
            self.ino,
            self.size,
            self.mtime,
            self.state.to_json(),
        )
