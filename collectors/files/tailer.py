"""The tailing engine: a read position per file, committed together with what it produced.

`Tailer.process` looks at one file (stat() only), decides whether it is new, renamed,
replaced, truncated or unchanged, and lets the reader of its adapter's kind read what is new.
Observations, positions and skip counters go to an `ObservationSink` in one batch, so that a
crash neither loses nor counts twice a line.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
from pathlib import Path, PurePosixPath

from aitally.collectors.files.adapters.base import Adapter
from aitally.collectors.files.lines import MAX_LINE
from aitally.collectors.files.readers import BATCH_LINES, ReadContext, ReadTally, reader_for
from aitally.collectors.files.state import Position
from aitally.core.logs import RateLimited
from aitally.core.observation import Observation
from aitally.core.sink import Counter, FilePosition, ObservationSink
from aitally.core.store import Store, positions

log = logging.getLogger(__name__)

# Files per transaction during a catch-up (many small files share one commit).
BATCH_FILES = 200
# Skip reasons that are parse errors too (the file held bytes that are not JSON).
PARSE_ERRORS = ("bad_json", "invalid_utf8")
# An appended-to file first seen bigger than this, or grown by more since it was last read,
# starts (again) at its end, counted as `file_too_large`: a 5 GiB sparse file or a runaway
# log is never read whole. Real transcripts stay far below (the largest seen are a few
# hundred MB, with single lines up to 100 MB, collectors/files/lines.py).
MAX_UNREAD = 1 << 30


class Tailer:
    """Reads changed files through their adapter and hands what it finds, position included,
    to the sink. `store` is the connection positions are loaded, moved and deleted through."""

    def __init__(
        self,
        sink: ObservationSink,
        store: Store,
        *,
        max_line: int = MAX_LINE,
        stop: threading.Event | None = None,
    ) -> None:
        self.sink = sink
        self.store = store
        # Set on shutdown: a long file is left between two batches, its position committed.
        self.stop = stop
        self.max_line = max_line
        self.problems = RateLimited(log)
        self.positions: dict[str, Position] = {}
        self._ident: set[tuple[int | None, int | None]] = set()
        self._ident_stale = True
        # Paths never opened (FIFOs, devices, symlinks out of their root), counted once each.
        self._refused: set[str] = set()
        # Observations, positions and counters not yet committed (deferred: many small
        # files share one transaction during a catch-up).
        self.defer = False
        self._obs: list[Observation] = []
        self._pos: list[FilePosition] = []
        self._counters: list[Counter] = []
        self._load()

    def _load(self) -> None:
        """The committed positions: what is in memory may run ahead of a failed commit."""
        self.positions = {
            p.path: Position.from_saved(p)
            for p in positions.load_positions(self.store.conn)
            if not p.tool.startswith(positions.BROWSER_PREFIX)  # the browser collector's
        }
        self._ident_stale = True

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
            with self.store.transaction() as conn:
                positions.forget(conn, path)

    def _adopt(self, path: str, dev: int, ino: int, size: int) -> Position | None:
        """A renamed or rotated file keeps its position: same identity, old path gone."""
        for old, p in self.positions.items():
            if (p.dev, p.ino) == (dev, ino) and p.offset <= size and not os.path.exists(old):
                self.flush()
                del self.positions[old]
                self._ident_stale = True
                with self.store.transaction() as conn:
                    positions.rename(conn, old, path)
                return p
        return None

    def _commit(self, ctx: ReadContext, obs: list[Observation]) -> None:
        """A reader's batch: its position becomes the committed one, then goes to the sink."""
        key = str(ctx.path)
        state = ctx.position.state
        drift, state.drift = state.drift, 0
        pos = ctx.position.copy()
        self.positions[key] = pos
        self._save(key, pos, obs, ctx.out, drift, ctx.cutoff)

    def _save(
        self,
        path: str,
        pos: Position,
        obs: list[Observation],
        out: ReadTally,
        drift: int,
        cutoff: float | None,
    ) -> None:
        if cutoff is not None:
            kept = [o for o in obs if getattr(o, "at", cutoff) >= cutoff]
            if len(kept) < len(obs):
                # Older than backfill_days (or a clock reset to 1970): not counted, but
                # never silently.
                out.skip("older_than_backfill", len(obs) - len(kept))
            obs = kept
        counters = [("file_skipped", f"{pos.tool}:{r}", n) for r, n in out.skipped.items() if n]
        parse_errors = sum(n for r, n in out.skipped.items() if r in PARSE_ERRORS)
        if parse_errors:
            counters.append(("parse_error", pos.tool, parse_errors))
        if drift:
            counters.append(("drift", pos.tool, drift))
        self._obs += obs
        self._pos.append(pos.to_saved(path))
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
                self.sink.apply(obs, positions=pos, counters=counters)
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
    ) -> ReadTally:
        """Catch up on one file. `cutoff`: an unseen file older than this starts at its end."""
        out = ReadTally()
        key = str(path)
        reader = reader_for(adapter)
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
            self.skip_path(key, adapter.tool, "not_a_file")
            return out
        pos = self.positions.get(key)
        if pos is None and (st.st_dev, st.st_ino) in self._identities():
            pos = self._adopt(key, st.st_dev, st.st_ino, st.st_size)
        if pos is not None and (pos.dev, pos.ino) != (st.st_dev, st.st_ino):
            pos = None  # replaced by a new file under the same name: read it from the start
        elif pos is not None and st.st_size < pos.offset and reader.restarts_when_truncated:
            pos = None  # truncated
        if pos is None:
            pos = Position(adapter.tool, st.st_dev, st.st_ino)
            if cutoff is not None and st.st_mtime < cutoff and reader.skips_old_history:
                pos.offset, pos.size, pos.mtime = st.st_size, st.st_size, st.st_mtime
                self.positions[key] = pos
                self._ident.add((pos.dev, pos.ino))
                self._save(key, pos, [], out, 0, None)
                return out
        elif pos.size == st.st_size and pos.mtime == st.st_mtime and not reader.polls_unchanged:
            return out  # unchanged
        if reader.skips_old_history and st.st_size - pos.offset > MAX_UNREAD:
            out.skip("file_too_large")
            pos.offset, pos.size, pos.mtime = st.st_size, st.st_size, st.st_mtime
            self.positions[key] = pos
            self._ident.add((pos.dev, pos.ino))
            self._save(key, pos, [], out, 0, None)
            return out
        self.positions[key] = pos
        self._ident.add((pos.dev, pos.ino))
        ctx = ReadContext(
            path,
            rel,
            adapter.tool,
            pos.copy(),
            st.st_size,
            st.st_mtime,
            out,
            cutoff,
            self._commit,
            self.max_line,
            self.stop,
        )
        try:
            reader.read(ctx, adapter)
        except OSError as exc:
            self.problems.warning(
                f"read:{adapter.tool}",
                "%s: cannot read a data file: %s",
                adapter.tool,
                exc.strerror or exc,
            )
            # Read again on its next change or poll, from the position last committed.
            self._counters.append(("file_skipped", f"{adapter.tool}:unreadable", 1))
        except sqlite3.Error:
            raise  # our own store failed a commit: the caller reloads, the lines are read again
        except Exception as exc:  # a reader's bug: the pass (and the catch-up) goes on
            self.problems.warning(
                f"read:{adapter.tool}",
                "%s: reading a data file failed (%s); skipped it",
                adapter.tool,
                type(exc).__name__,  # the type only: a message could quote content
            )
            self._counters.append(("file_skipped", f"{adapter.tool}:read_error", 1))
            if not self.defer:
                self.flush()
        return out

    def skip_path(self, key: str, tool: str, reason: str) -> None:
        """A path never opened (`not_a_file`: a FIFO or device; `outside_root`: a symlink out
        of its tool folder), warned about and counted once each."""
        if key in self._refused:
            return
        self._refused.add(key)
        self.problems.warning(
            f"{reason}:{tool}", "%s: skipped a data file (%s), never opened", tool, reason
        )
        self._counters.append(("file_skipped", f"{tool}:{reason}", 1))
        if not self.defer:
            self.flush()
