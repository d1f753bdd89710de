"""The tailing engine: byte positions per file, complete lines only, committed with observations."""

from __future__ import annotations

import errno
import json
import logging
import os
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from aitally.collectors.files.adapters.base import Adapter, FileState, opaque
from aitally.core.logs import RateLimited
from aitally.core.observation import Activity, Observation
from aitally.core.sessionizer import Sessionizer
from aitally.core.sink import FilePosition

log = logging.getLogger(__name__)

CHUNK = 1 << 20
# A line longer than this is skipped and counted, never held in memory whole: real transcript
# lines reach a few MB (pasted files, big tool results); 100 MB ones exist (ccusage#873).
MAX_LINE = 16 << 20
# Lines or bytes per transaction: large enough to amortise the commit, small enough that a
# crash re-reads little and a live append is not held up behind a long backfill batch.
BATCH_LINES = 2000
BATCH_BYTES = 8 << 20
BATCH_FILES = 200
# Whole-file formats bigger than this are skipped (counted) rather than parsed.
MAX_SNAPSHOT = 64 << 20

LINE, SKIP, RESUME, TOO_LONG = 0, 1, 2, 3
# Non-blocking, so that a FIFO swapped in after the stat() cannot block the open forever.
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)


def open_regular(path: Path) -> BinaryIO:
    """Opens a regular file for reading; anything else (a FIFO, a device) raises OSError."""
    fd = os.open(path, OPEN_FLAGS)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    return os.fdopen(fd, "rb")


def complete_lines(
    fh: BinaryIO, offset: int, skipping: bool, max_line: int = MAX_LINE, chunk: int = CHUNK
) -> Iterator[tuple[int, bytes, int]]:
    """(LINE, line, end) per \\n-terminated line from offset; the unterminated rest waits.

    An over-long line yields TOO_LONG when it lies in one read, else SKIP (with the offset
    reached) until its end, then RESUME; `skipping` continues a skip left unfinished.
    """
    fh.seek(offset)
    pos = offset  # file offset of buf[0]
    buf = b""
    while True:
        data = fh.read(chunk)
        if not data:
            return
        if skipping:
            nl = data.find(b"\n")
            if nl < 0:
                pos += len(data)
                yield SKIP, b"", pos
                continue
            pos += nl + 1
            data = data[nl + 1 :]
            skipping = False
            yield RESUME, b"", pos
        buf = buf + data if buf else data
        start = 0
        find = buf.find
        while True:
            nl = find(b"\n", start)
            if nl < 0:
                break
            if nl - start > max_line:
                yield TOO_LONG, b"", pos + nl + 1
            else:
                yield LINE, buf[start:nl], pos + nl + 1
            start = nl + 1
        pos += start
        buf = buf[start:]
        if len(buf) > max_line:
            pos += len(buf)
            buf = b""
            skipping = True
            yield SKIP, b"", pos


@dataclass(slots=True)
class Position:
    tool: str
    dev: int | None
    ino: int | None
    offset: int
    size: int | None
    mtime: float | None
    state: dict[str, object] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    """What one pass over one file did, for counters, progress and the backfill summary."""

    bytes: int = 0
    observations: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str, n: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + n


class Tailer:
    """Reads changed files through their adapter and applies what it finds, position included."""

    def __init__(
        self,
        sessionizer: Sessionizer,
        *,
        max_line: int = MAX_LINE,
        stop: threading.Event | None = None,
    ) -> None:
        self.sessionizer = sessionizer
        # Set on shutdown: a long file is left between two batches, its position committed.
        self.stop = stop
        self.conn = sessionizer.store.conn
        self.max_line = max_line
        self.problems = RateLimited(log)
        self.positions: dict[str, Position] = {}
        self._ident: set[tuple[int | None, int | None]] = set()
        self._ident_stale = True
        # Paths that are not regular files (FIFOs, devices), counted once each.
        self._irregular: set[str] = set()
        # Observations, positions and counters not yet committed (deferred: many small
        # files share one transaction during a catch-up).
        self.defer = False
        self._obs: list[Observation] = []
        self._pos: list[FilePosition] = []
        self._counters: list[tuple[str, str, int]] = []
        self._load()

    def _load(self) -> None:
        """The committed positions: what is in memory may run ahead of a failed commit."""
        self.positions.clear()
        self._ident_stale = True
        for r in self.conn.execute("SELECT * FROM file_positions"):
            try:
                state = json.loads(r["state"]) if r["state"] else {}
            except ValueError:
                state = {}
            self.positions[r["path"]] = Position(
                r["tool"], r["dev"], r["ino"], r["offset"], r["size"], r["mtime"], state
            )

    # -- bookkeeping --------------------------------------------------------------------
    def _identities(self) -> set[tuple[int | None, int | None]]:
        # Kept up to date as positions are added, rebuilt only after one went away: adoption
        # is checked for every new file.
        if self._ident_stale:
            self._ident = {(p.dev, p.ino) for p in self.positions.values()}
            self._ident_stale = False
        return self._ident

    def forget(self, path: str) -> None:
        """A deleted file: its position goes (a new file at that path starts from zero)."""
        if self.positions.pop(path, None) is not None:
            self.flush()
            self._ident_stale = True
            with self.sessionizer.store.transaction() as conn:
                conn.execute("DELETE FROM file_positions WHERE path = ?", (path,))

    def _adopt(self, path: str, dev: int, ino: int, size: int) -> Position | None:
        """A renamed or rotated file keeps its position: same identity, old path gone."""
        for old, p in self.positions.items():
            if (p.dev, p.ino) == (dev, ino) and p.offset <= size and not os.path.exists(old):
                self.flush()
                del self.positions[old]
                self._ident_stale = True
                with self.sessionizer.store.transaction() as conn:
                    conn.execute("UPDATE file_positions SET path = ? WHERE path = ?", (path, old))
                return p
        return None

    def _save(
        self,
        path: str,
        pos: Position,
        obs: list[Observation],
        out: Outcome,
        drift: int,
        cutoff: float | None,
    ) -> None:
        if cutoff is not None:
            kept = [o for o in obs if getattr(o, "at", cutoff) >= cutoff]
            if len(kept) < len(obs):
                # Older than backfill_days (or a clock reset to 1970): not counted, but
                # never silently.
                out.skipped["older_than_backfill"] = (
                    out.skipped.get("older_than_backfill", 0) + len(obs) - len(kept)
                )
            obs = kept
        counters = [("file_skipped", f"{pos.tool}:{r}", n) for r, n in out.skipped.items() if n]
        parse_errors = sum(n for r, n in out.skipped.items() if r in ("bad_json", "invalid_utf8"))
        if parse_errors:
            counters.append(("parse_error", pos.tool, parse_errors))
        if drift:
            counters.append(("drift", pos.tool, drift))
        state = json.dumps(pos.state, separators=(",", ":")) if pos.state else None
        fp = FilePosition(path, pos.tool, pos.offset, pos.dev, pos.ino, pos.size, pos.mtime, state)
        self._obs += obs
        self._pos.append(fp)
        self._counters += counters
        out.observations += len(obs)
        out.skipped.clear()
        if not self.defer or len(self._obs) >= BATCH_LINES or len(self._pos) >= BATCH_FILES:
            self.flush()

    def flush(self) -> None:
        """Commit what is pending: observations together with the positions that produced them."""
        if self._pos or self._obs or self._counters:
            obs, pos, counters = self._obs, self._pos, self._counters
            self._obs, self._pos, self._counters = [], [], []
            try:
                self.sessionizer.apply(obs, positions=pos, counters=counters)
            except Exception:
                # A full disk, a store locked too long: the lines are read again, not lost.
                self._load()
                raise

    # -- one file -----------------------------------------------------------------------
    def process(
        self,
        path: Path,
        rel: PurePosixPath,
        adapter: Adapter,
        *,
        cutoff: float | None = None,
    ) -> Outcome:
        """Catch up on one file. `cutoff`: an unseen file older than this starts at its end."""
        out = Outcome()
        key = str(path)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            self.forget(key)
            return out
        except OSError as exc:
            self.problems.warning(
                f"stat:{adapter.tool}", "%s: cannot stat a file: %s", adapter.tool, exc.strerror
            )
            return out
        if not stat.S_ISREG(st.st_mode):
            # Opening a FIFO blocks until a writer comes, and a device may never end.
            if key not in self._irregular:
                self._irregular.add(key)
                self.problems.warning(
                    f"irregular:{adapter.tool}",
                    "%s: skipped a data file that is not a regular file (a FIFO or device)",
                    adapter.tool,
                )
                self._counters.append(("file_skipped", f"{adapter.tool}:not_a_file", 1))
                if not self.defer:
                    self.flush()
            return out
        pos = self.positions.get(key)
        if pos is None and (st.st_dev, st.st_ino) in self._identities():
            pos = self._adopt(key, st.st_dev, st.st_ino, st.st_size)
        if pos is not None and (pos.dev, pos.ino) != (st.st_dev, st.st_ino):
            pos = None  # replaced by a new file under the same name: read it from the start
        elif pos is not None and st.st_size < pos.offset and adapter.kind == "lines":
            pos = None  # truncated
        if pos is None:
            pos = Position(adapter.tool, st.st_dev, st.st_ino, 0, None, None, {})
            if (
                cutoff is not None
                and st.st_mtime < cutoff
                and adapter.kind in ("lines", "activity")
            ):
                pos.offset, pos.size, pos.mtime = st.st_size, st.st_size, st.st_mtime
                self.positions[key] = pos
                self._ident.add((pos.dev, pos.ino))
                self._save(key, pos, [], out, 0, None)
                return out
        elif pos.size == st.st_size and pos.mtime == st.st_mtime and adapter.kind != "sqlite":
            return out  # unchanged
        self.positions[key] = pos
        self._ident.add((pos.dev, pos.ino))
        try:
            if adapter.kind == "lines":
                self._lines(key, path, rel, adapter, pos, st.st_size, st.st_mtime, out, cutoff)
            elif adapter.kind == "activity":
                pos.size, pos.mtime, pos.offset = st.st_size, st.st_mtime, st.st_size
                obs: list[Observation] = [
                    Activity(adapter.tool, opaque(rel), st.st_mtime, "file", adapter.signal)
                ]
                self._save(key, pos, obs, out, 0, cutoff)
            else:
                self._whole(key, path, rel, adapter, pos, st.st_size, st.st_mtime, out, cutoff)
        except OSError as exc:
            self.problems.warning(
                f"read:{adapter.tool}",
                "%s: cannot read a data file: %s",
                adapter.tool,
                exc.strerror,
            )
        return out

    def _lines(
        self,
        key: str,
        path: Path,
        rel: PurePosixPath,
        adapter: Adapter,
        pos: Position,
        size: int,
        mtime: float,
        out: Outcome,
        cutoff: float | None,
    ) -> None:
        fst = FileState(dict(pos.state.get("a") or {}))  # type: ignore[call-overload]
        markers = adapter.markers
        obs: list[Observation] = []
        lines = 0
        start = pos.offset
        dirty = False
        with open_regular(path) as fh:
            for event, raw, end in complete_lines(
                fh, pos.offset, bool(pos.state.get("skip")), self.max_line
            ):
                dirty = True
                if event == SKIP:
                    if not pos.state.get("skip"):
                        out.skip("line_too_long")
                    pos.state["skip"] = True
                elif event == RESUME:
                    pos.state.pop("skip", None)
                elif event == TOO_LONG:
                    out.skip("line_too_long")
                elif any(m in raw for m in markers):
                    lines += 1
                    obs.extend(self._parse(raw, rel, adapter, fst, out))
                pos.offset = end
                if lines >= BATCH_LINES or end - start >= BATCH_BYTES:
                    self._commit(
                        key, pos, fst, obs, out, cutoff, end, mtime if end >= size else None
                    )
                    out.bytes += end - start
                    start, lines, obs, dirty = end, 0, [], False
                    if self.stop is not None and self.stop.is_set():
                        return  # the rest on the next pass (size stays None: not unchanged)
        if dirty or pos.size != size or pos.mtime != mtime:
            self._commit(key, pos, fst, obs, out, cutoff, size, mtime)
            out.bytes += pos.offset - start

    def _commit(
        self,
        key: str,
        pos: Position,
        fst: FileState,
        obs: list[Observation],
        out: Outcome,
        cutoff: float | None,
        size: int,
        mtime: float | None,
    ) -> None:
        # size/mtime record what the file looked like when fully read; mid-file commits keep
        # None so the next pass does not mistake the file for unchanged.
        pos.size, pos.mtime = size, mtime
        if fst.data:
            pos.state["a"] = fst.data
        drift, fst.drift = fst.drift, 0
        self._save(key, pos, obs, out, drift, cutoff)

    def _parse(
        self, raw: bytes, rel: PurePosixPath, adapter: Adapter, fst: FileState, out: Outcome
    ) -> list[Observation]:
        try:
            obj = json.loads(raw)
        except UnicodeDecodeError:
            out.skip("invalid_utf8")
            return []
        except (ValueError, RecursionError):
            out.skip("bad_json")
            return []
        if not isinstance(obj, dict):
            fst.drifted()
            return []
        try:
            return adapter.line(obj, rel, fst)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError):
            fst.drifted()
            return []

    def _whole(
        self,
        key: str,
        path: Path,
        rel: PurePosixPath,
        adapter: Adapter,
        pos: Position,
        size: int,
        mtime: float,
        out: Outcome,
        cutoff: float | None,
    ) -> None:
        fst = FileState(dict(pos.state.get("a") or {}))  # type: ignore[call-overload]
        obs: list[Observation] = []
        if adapter.kind == "sqlite":
            obs = adapter.poll(path, rel, fst)
        elif size > MAX_SNAPSHOT:
            out.skip("file_too_large")
        else:
            with open_regular(path) as fh:
                raw = fh.read(MAX_SNAPSHOT + 1)
            out.bytes += len(raw)
            try:
                obj = json.loads(raw)
            except UnicodeDecodeError:
                out.skip("invalid_utf8")
            except (ValueError, RecursionError):
                out.skip("bad_json")
            else:
                try:
                    obs = adapter.snapshot(obj, rel, fst)
                except (
                    KeyError,
                    TypeError,
                    ValueError,
                    AttributeError,
                    OverflowError,
                    RecursionError,
                ):
                    fst.drifted()
        pos.offset = size
        self._commit(key, pos, fst, obs, out, cutoff, size, mtime)
