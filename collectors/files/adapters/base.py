"""What every adapter implements, and the small value helpers they share (timestamps, counts)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from aitally.core.observation import Observation

# lines: append-only JSONL tailed by byte offset; snapshot: whole-file JSON the tool rewrites,
# debounced and diffed by ids; sqlite: a database opened read-only; activity: stat() only.
Kind = Literal["lines", "snapshot", "sqlite", "activity"]


@dataclass(slots=True)
class FileState:
    """Per-file adapter state, saved as JSON with the read position: numbers and ids only."""

    data: dict[str, Any] = field(default_factory=dict)
    drift: int = 0

    def drifted(self, n: int = 1) -> None:
        """The file did not look as expected (a missing field, an unknown shape)."""
        self.drift += n


class Adapter:
    """Turns one tool's files into observations; unknown fields ignored, missing ones unknown."""

    tool: str = ""
    kind: Kind = "lines"
    # A line is parsed only if it contains one of these byte strings (content-bearing lines
    # without them are never decoded).
    markers: tuple[bytes, ...] = ()
    signal: str = "transcript"
    # Sub-folders of the root to walk (empty: the whole root).
    dirs: tuple[str, ...] = ()

    def matches(self, rel: PurePosixPath) -> bool:
        """Whether a file (relative to the tool's root) is one this adapter reads."""
        raise NotImplementedError

    def line(self, obj: Mapping[str, Any], rel: PurePosixPath, st: FileState) -> list[Observation]:
        """One parsed JSONL record (kind "lines")."""
        raise NotImplementedError

    def snapshot(self, obj: Any, rel: PurePosixPath, st: FileState) -> list[Observation]:
        """The whole parsed file (kind "snapshot"); diff against st.data."""
        raise NotImplementedError

    def poll(self, path: Path, rel: PurePosixPath, st: FileState) -> list[Observation]:
        """New rows of a database (kind "sqlite"), opened read-only."""
        raise NotImplementedError


def ts(value: Any) -> float | None:
    """Epoch seconds from an ISO 8601 string or epoch seconds/milliseconds; None if unusable."""
    if isinstance(value, str):
        try:
            d = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
        if d.tzinfo is None:
            d = d.replace(tzinfo=dt.UTC)
        return d.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        # Milliseconds since the epoch are > 1e11 for any date after 1973.
        return float(value) / 1000.0 if value > 1e11 else float(value)
    return None


def num(value: Any) -> int | None:
    """A non-negative token count, or None when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if value >= 0 else None


def dig(obj: Any, *keys: str) -> Any:
    """obj[k1][k2]... or None when any level is missing or not a mapping."""
    for k in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(k)
    return obj


def text(value: Any, limit: int = 200) -> str | None:
    """An id or model name: a short string, or None (never free text)."""
    return value if isinstance(value, str) and 0 < len(value) <= limit else None


def opaque(rel: PurePosixPath | str) -> str:
    """A stable key for a file whose name may be content: a hash, never the name."""
    return "f-" + hashlib.blake2b(str(rel).encode(), digest_size=8).hexdigest()


def minus(a: int | None, b: int | None) -> int | None:
    """a - b for counts where a includes b (input incl. cached), never below zero."""
    if a is None:
        return None
    return max(0, a - (b or 0))
