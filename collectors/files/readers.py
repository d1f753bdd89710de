"""One reader per kind of adapter: how a changed file is read and handed to its adapter.

The tailer picks the reader by the adapter's base class (`reader_for`), gives it a
`ReadContext` (the file, its position, where results go) and the reader calls the adapter's
one method for each line, file or row, always through `ReadContext.guard`: a record the
adapter cannot handle is counted and skipped, never stops the pass or the agent.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar, Generic, ParamSpec, TypeVar

from aitally.collectors.files.adapters import sqlite_source
from aitally.collectors.files.adapters.base import (
    ActivityAdapter,
    Adapter,
    LineAdapter,
    SnapshotAdapter,
    SqliteAdapter,
)
from aitally.collectors.files.lines import (
    LINE,
    MAX_LINE,
    RESUME,
    SKIP,
    complete_lines,
    open_regular,
)
from aitally.collectors.files.state import Position
from aitally.core.logs import RateLimited
from aitally.core.observation import Observation

log = logging.getLogger(__name__)

# Lines or bytes per transaction: large enough to amortise the commit, small enough that a
# crash re-reads little and a live append is not held up behind a long backfill batch.
BATCH_LINES = 2000
BATCH_BYTES = 8 << 20
# Whole-file formats bigger than this are skipped (counted) rather than parsed.
MAX_SNAPSHOT = 64 << 20
# Whole-file formats are rewritten in bursts (LM Studio on every token): read them once quiet.
SNAPSHOT_QUIET = 1.0
# What an adapter raises on a record shaped unlike its tool's: counted as drift.
SHAPE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError)

A = TypeVar("A", bound=Adapter)
P = ParamSpec("P")
problems = RateLimited(log)


@dataclass(slots=True)
class ReadTally:
    """What one pass over one file did, for counters, progress and the catch-up summary."""

    bytes: int = 0
    observations: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, n: int = 1) -> None:
        """Counts n records (or a file) left out, by reason (bad_json, line_too_long, ...)."""
        self.skipped[reason] = self.skipped.get(reason, 0) + n


@dataclass(slots=True)
class ReadContext:
    """One pass over one file: where it is, how far it was read, and where results go."""

    path: Path
    rel: PurePosixPath
    tool: str
    # A working copy of the file's position, advanced as the reader goes.
    position: Position
    size: int
    mtime: float
    out: ReadTally
    # Observations dated before this are counted as skipped, not applied.
    cutoff: float | None
    # Takes the observations read up to `position`: committed with it (or batched).
    on_commit: Callable[[ReadContext, list[Observation]], None]
    max_line: int = MAX_LINE
    # Set on shutdown: a long file is left between two batches, its position committed.
    stop: threading.Event | None = None

    def commit(self, obs: list[Observation], size: int, mtime: float | None) -> None:
        """Hands over what was read up to the position; size and mtime record what the file
        looked like when read to its end (None mid-file, so it is not taken as unchanged)."""
        self.position.size, self.position.mtime = size, mtime
        self.on_commit(self, obs)

    def stopping(self) -> bool:
        """Whether the agent is shutting down."""
        return self.stop is not None and self.stop.is_set()

    def guard(
        self, call: Callable[P, list[Observation]], *args: P.args, **kwargs: P.kwargs
    ) -> list[Observation]:
        """Calls the adapter; a record it cannot handle is counted and yields nothing."""
        try:
            return call(*args, **kwargs)
        except SHAPE_ERRORS:
            self.position.state.drifted()
        except Exception as exc:  # an adapter's bug must not stop the agent
            self.out.skip("adapter_error")
            # The type only: a message could quote the record's content.
            problems.warning(
                f"adapter:{self.tool}",
                "%s: the adapter failed on a record (%s); skipped it",
                self.tool,
                type(exc).__name__,
            )
        return []


def parse_json(raw: bytes, out: ReadTally) -> tuple[bool, Any]:
    """(True, value), or (False, None) with the reason counted (invalid_utf8, bad_json)."""
    try:
        return True, json.loads(raw)
    except UnicodeDecodeError:
        out.skip("invalid_utf8")
    except (ValueError, RecursionError):
        out.skip("bad_json")
    return False, None


@functools.lru_cache(maxsize=64)
def marker_search(markers: tuple[bytes, ...]) -> Callable[[bytes], object]:
    """A test of whether a line contains any of the markers: one regular expression, about
    3x faster than testing each marker in turn on transcript lines (bench/README.md)."""
    if not markers:
        return lambda raw: None
    return re.compile(b"|".join(re.escape(m) for m in markers)).search


class Reader(Generic[A]):
    """Reads the files of one kind of adapter; the class attributes tell the tailer how to
    treat those files."""

    # A file shorter than its position is a new file (rewritten from the start).
    restarts_when_truncated: ClassVar[bool] = False
    # A file first seen older than the catch-up cutoff starts at its end.
    skips_old_history: ClassVar[bool] = False
    # Read even when size and mtime did not change (a database written through its WAL).
    polls_unchanged: ClassVar[bool] = False
    # Seconds a changed file must stay unchanged before it is read (0: at once).
    quiet: ClassVar[float] = 0.0

    def read(self, ctx: ReadContext, adapter: A) -> None:
        """Reads what is new in the file and commits it through `ctx.commit`."""
        raise NotImplementedError


class LineReader(Reader[LineAdapter]):
    """Complete lines from the position on, in batches; over-long lines skipped in pieces."""

    restarts_when_truncated = True
    skips_old_history = True

    def read(self, ctx: ReadContext, adapter: LineAdapter) -> None:
        pos, st = ctx.position, ctx.position.state
        marked, decode = marker_search(adapter.markers), adapter.decode
        obs: list[Observation] = []
        lines = 0
        start = pos.offset
        dirty = False
        with open_regular(ctx.path) as fh:
            for event, raw, end in complete_lines(fh, pos.offset, st.skipping, ctx.max_line):
                dirty = True
                if event == LINE:  # the common case first
                    if marked(raw):
                        lines += 1
                        obj = decode(raw)
                        ok = True
                        if obj is None:
                            ok, obj = parse_json(raw, ctx.out)
                        if ok and not isinstance(obj, dict):
                            st.drifted()
                        elif ok:
                            obs += ctx.guard(adapter.line, obj, ctx.rel, st)
                elif event == SKIP:
                    if not st.skipping:
                        ctx.out.skip("line_too_long")
                    st.skipping = True
                elif event == RESUME:
                    st.skipping = False
                else:  # TOO_LONG
                    ctx.out.skip("line_too_long")
                pos.offset = end
                if lines >= BATCH_LINES or end - start >= BATCH_BYTES:
                    ctx.commit(obs, end, ctx.mtime if end >= ctx.size else None)
                    ctx.out.bytes += end - start
                    start, lines, obs, dirty = end, 0, [], False
                    if ctx.stopping():
                        return  # the rest on the next pass (size stays None: not unchanged)
        if dirty or pos.size != ctx.size or pos.mtime != ctx.mtime:
            ctx.commit(obs, ctx.size, ctx.mtime)
            ctx.out.bytes += pos.offset - start


class SnapshotReader(Reader[SnapshotAdapter]):
    """The whole file, parsed once it is quiet; too large a file is counted, not parsed."""

    quiet = SNAPSHOT_QUIET

    def read(self, ctx: ReadContext, adapter: SnapshotAdapter) -> None:
        obs: list[Observation] = []
        if ctx.size > MAX_SNAPSHOT:
            ctx.out.skip("file_too_large")
        else:
            with open_regular(ctx.path) as fh:
                raw = fh.read(MAX_SNAPSHOT + 1)
            ctx.out.bytes += len(raw)
            ok, obj = parse_json(raw, ctx.out)
            if ok:
                obs = ctx.guard(adapter.snapshot, obj, ctx.rel, ctx.position.state)
        ctx.position.offset = ctx.size
        ctx.commit(obs, ctx.size, ctx.mtime)


class SqliteReader(Reader[SqliteAdapter]):
    """New and pending rows of a database, polled on every change of it or its WAL."""

    polls_unchanged = True

    def read(self, ctx: ReadContext, adapter: SqliteAdapter) -> None:
        st = ctx.position.state
        obs: list[Observation] = []
        for row in sqlite_source.rows(ctx.path, adapter, st, ctx.mtime):
            obs += ctx.guard(adapter.row, row, ctx.rel, st)
        if adapter.rewritten is not None:
            obs += self._rewritten(ctx, adapter, adapter.rewritten)
        ctx.position.offset = ctx.size
        ctx.commit(obs, ctx.size, ctx.mtime)

    @staticmethod
    def _rewritten(
        ctx: ReadContext, adapter: SqliteAdapter, source: tuple[str, str]
    ) -> list[Observation]:
        """The rewritten rows' observations; a failure to read them (a damaged page, a
        lock) is reported and counted, and the rows read above are kept."""
        try:
            found = sqlite_source.rewritten(ctx.path, adapter.tool, *source)
        except OSError as exc:
            ctx.out.skip("rewritten_unreadable")
            problems.warning(
                f"rewritten:{adapter.tool}",
                "%s: cannot read the %s rows of its database (%s); read again on the next pass",
                adapter.tool,
                source[0],
                exc,
            )
            return []
        return ctx.guard(adapter.rewritten_rows, found, ctx.mtime, ctx.position.state)


class ActivityReader(Reader[ActivityAdapter]):
    """stat() only: the file is never opened."""

    skips_old_history = True

    def read(self, ctx: ReadContext, adapter: ActivityAdapter) -> None:
        obs = ctx.guard(adapter.activity, ctx.rel, ctx.mtime)
        ctx.position.offset = ctx.size
        ctx.commit(obs, ctx.size, ctx.mtime)


READERS: tuple[tuple[type[Adapter], Reader[Any]], ...] = (
    (LineAdapter, LineReader()),
    (SnapshotAdapter, SnapshotReader()),
    (SqliteAdapter, SqliteReader()),
    (ActivityAdapter, ActivityReader()),
)


def reader_for(adapter: Adapter) -> Reader[Any]:
    """The reader of the adapter's kind (its base class)."""
    for kind, reader in READERS:
        if isinstance(adapter, kind):
            return reader
    raise TypeError(f"{type(adapter).__name__} is not a line, snapshot, SQLite or activity adapter")
