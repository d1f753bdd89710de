"""The four kinds of adapter (line, snapshot, SQLite, activity), each with one method to
implement, and the small value helpers adapters share (timestamps, counts, ids)."""

from __future__ import annotations

import datetime as dt
import hashlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from aitally.collectors.files.state import FileState
from aitally.core.observation import Activity, Observation

__all__ = [
    "ActivityAdapter",
    "Adapter",
    "FileState",
    "LineAdapter",
    "Row",
    "SnapshotAdapter",
    "SqliteAdapter",
    "dig",
    "minus",
    "num",
    "opaque",
    "text",
    "ts",
]


class Adapter(ABC):
    """Turns one tool's files into observations; unknown fields ignored, missing ones unknown.

    An adapter subclasses one of the four kinds below and implements `matches` and that
    kind's one method; the reader of its kind does the rest (reading, positions, errors).
    """

    tool: str = ""
    signal: str = "transcript"
    # Sub-folders of the root to walk (empty: the whole root).
    dirs: tuple[str, ...] = ()

    @abstractmethod
    def matches(self, rel: PurePosixPath) -> bool:
        """Whether a file (relative to the tool's root) is one this adapter reads."""


class LineAdapter(Adapter):
    """Append-only JSON Lines, tailed by byte offset: implement `line`."""

    # A line is parsed only if it contains one of these byte strings (content-bearing lines
    # without them are never decoded).
    markers: tuple[bytes, ...] = ()

    def decode(self, raw: bytes) -> dict[str, Any] | None:
        """The fields `line` reads, decoded faster than a whole line; None: decode it whole.

        An adapter whose lines are mostly bytes it never reads (tool output, file contents)
        overrides this to skip them; whatever it cannot decode (not JSON, not the expected
        shape) it returns None for, and the reader decodes and counts it as usual.
        """
        return None

    @abstractmethod
    def line(self, obj: Mapping[str, Any], rel: PurePosixPath, st: FileState) -> list[Observation]:
        """One line, parsed to a JSON object."""


class SnapshotAdapter(Adapter):
    """Whole-file JSON the tool rewrites, read once quiet and diffed: implement `snapshot`."""

    @abstractmethod
    def snapshot(self, obj: Any, rel: PurePosixPath, st: FileState) -> list[Observation]:
        """The whole parsed file; diff it against what `st.data` kept from the last pass."""


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a tool's database: its rowid, the adapter's `columns` in order, and the
    database file's modification time (for rows without a timestamp of their own)."""

    rowid: int
    values: tuple[Any, ...]
    file_mtime: float


class SqliteAdapter(Adapter):
    """A tool's SQLite database, opened read-only, new rows by rowid: implement `row`."""

    signal = "state-db"
    # The table and columns read; `key_prefix` (column, prefix) keeps only the rows whose
    # column starts with the prefix.
    table: str = ""
    columns: tuple[str, ...] = ()
    key_prefix: tuple[str, str] | None = None
    # (table, key prefix): key-value rows the tool rewrites in place, read whole on every
    # pass and handed to `rewritten_rows` (Cursor's daily line counts).
    rewritten: tuple[str, str] | None = None

    @abstractmethod
    def row(self, row: Row, rel: PurePosixPath, st: FileState) -> list[Observation]:
        """One new (or pending) row; `st.pend(row.rowid)` reads it again next time."""

    def rewritten_rows(
        self, rows: list[tuple[str, Any]], mtime: float, st: FileState
    ) -> list[Observation]:
        """Every (key, value) row of `rewritten`, as they are now; diff them against what
        `st.data` kept from the last pass."""
        return []


class ActivityAdapter(Adapter):
    """Files never opened (they hold conversations): a change is evidence of use.

    `activity` has a default (one "file" activity per change, keyed by a hash of the name),
    so an adapter of this kind usually implements `matches` alone.
    """

    def activity(self, rel: PurePosixPath, mtime: float) -> list[Observation]:
        """What a change of the file, at its modification time, shows."""
        return [Activity(self.tool, opaque(rel), mtime, "file", self.signal)]


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
    if type(value) is int:  # the common case first (bool is a subclass, never this type)
        return value if value >= 0 else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if value >= 0 else None


def dig(obj: Any, *keys: str) -> Any:
    """obj[k1][k2]... or None when any level is missing or not a mapping."""
    for k in keys:
        # dict first: a plain type check, where the Mapping ABC's costs a call per level.
        if not isinstance(obj, (dict, Mapping)):
            return None
        obj = obj.get(k)
    return obj


def text(value: Any, limit: int = 200) -> str | None:
    """An id or model name: a short string, or None (never free text, never a string that
    is not Unicode text: a lone surrogate, which JSON escapes can spell, cannot be stored)."""
    # The common case first (this runs several times per transcript line): an ASCII id.
    if type(value) is str and 0 < len(value) <= limit and value.isascii():
        return value
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        return None
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            return None
    return value


def opaque(rel: PurePosixPath | str) -> str:
    """A stable key for a file whose name may be content: a hash, never the name."""
    return "f-" + hashlib.blake2b(str(rel).encode(), digest_size=8).hexdigest()


def minus(a: int | None, b: int | None) -> int | None:
    """a - b for counts where a includes b (input incl. cached), never below zero."""
    if a is None:
        return None
    return max(0, a - (b or 0))
