"""Turns observations into sessions and segments; closing a segment enqueues its upload record."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from aitally.core.logs import RateLimited
from aitally.core.observation import (
    TOKEN_KINDS,
    Activity,
    Observation,
    ProcessGone,
    ProcessLink,
    ProcessSeen,
    Usage,
)
from aitally.core.segment_state import OpenSegment, add_tokens, merge_segments
from aitally.core.sink import Counter, FilePosition
from aitally.core.store import Store, outbox

log = logging.getLogger(__name__)

# A tool's timestamp further ahead of the wall clock than this was written under a wrong
# clock; taken as is, its segment would stay open (and unsent) until that date.
FUTURE_SLACK = 300.0


def process_key(pid: int, create_time: float) -> str:
    return f"proc:{pid}:{round(create_time * 1000)}"


class Sessionizer:
    """Applies batches of observations to the store, one transaction per batch.

    Within a transaction (which holds SQLite's write lock, so no other connection changes
    anything) open segments and session ids are kept in memory and written once at the
    end: a catch-up of thousands of replies costs a few statements per segment, not per
    reply.
    """

    def __init__(
        self,
        store: Store,
        *,
        idle_timeout: float = 900.0,
        cpu_active_threshold: float = 0.02,
        max_presence_step: float = 60.0,
    ) -> None:
        self.store = store
        self.idle = idle_timeout
        self.cpu_threshold = cpu_active_threshold
        # A scan interval longer than this means the machine slept or the loop stalled;
        # presence is not credited across it.
        self.max_step = max_presence_step
        self._open: dict[int, OpenSegment | None] = {}
        self._sessions: dict[tuple[str, str], int] = {}
        self.problems = RateLimited(log)

    # -- public API ---------------------------------------------------------------------
    def apply(
        self,
        observations: Iterable[Observation],
        *,
        positions: Sequence[FilePosition] = (),
        counters: Iterable[Counter] = (),
        now: float | None = None,
    ) -> None:
        wall = time.time() if now is None else now
        with self._transaction() as conn:
            paused = self._pauses(conn)
            for ob in observations:
                if isinstance(ob, Usage | Activity) and ob.at > wall + FUTURE_SLACK:
                    self.problems.warning(
                        f"future:{ob.tool}",
                        "%s: a record dated %.0f s ahead of the clock is counted as of now",
                        ob.tool,
                        ob.at - wall,
                    )
                    self.store.count("drift", ob.tool, 1, conn)
                    ob = dataclasses.replace(ob, at=wall)
                if (
                    paused
                    and isinstance(ob, Usage | Activity | ProcessSeen)
                    and any(start <= ob.at < end for start, end in paused)
                ):
                    # The engineer paused collection: nothing of that time is recorded.
                    self.store.count("paused_dropped", ob.tool, 1, conn)
                    continue
                self._apply_one(conn, ob)
            conn.executemany(
                "INSERT INTO file_positions(path, tool, dev, ino, offset, size, mtime, state)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET"
                " tool=excluded.tool, dev=excluded.dev, ino=excluded.ino,"
                " offset=excluded.offset, size=excluded.size, mtime=excluded.mtime,"
                " state=excluded.state",
                [
                    (p.path, p.tool, p.dev, p.ino, p.offset, p.size, p.mtime, p.state)
                    for p in positions
                ],
            )
            for name, reason, n in counters:
                self.store.count(name, reason, n, conn)
            if now is not None:
                self._close_idle(conn, now)

    def close_idle(self, now: float) -> int:
        with self._transaction() as conn:
            return self._close_idle(conn, now)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._open.clear()
        self._sessions.clear()
        try:
            with self.store.transaction() as conn:
                yield conn
                self._flush(conn)
        finally:
            self._open.clear()
            self._sessions.clear()

    def _flush(self, conn: sqlite3.Connection) -> None:
        for seg in self._open.values():
            if seg is not None:
                seg.flush(conn)

    @staticmethod
    def _pauses(conn: sqlite3.Connection) -> list[tuple[float, float]]:
        rows = conn.execute(
            "SELECT started_at, COALESCE(ended_at, ends_at, 1e18) FROM pauses"
        ).fetchall()
        return [(float(a), float(b)) for a, b in rows]

    # -- observations -------------------------------------------------------------------
    def _apply_one(self, conn: sqlite3.Connection, ob: Observation) -> None:
        if isinstance(ob, Usage):
            self._usage(conn, ob)
        elif isinstance(ob, Activity):
            sid = self._session(
                conn, ob.tool, ob.session_key, ob.session_key, ob.surface, ob.tool_version
            )
            self._touch(conn, sid, ob.at, active=True, signal=ob.signal, turn=ob.kind == "prompt")
        elif isinstance(ob, ProcessSeen):
            self._process_seen(conn, ob)
        elif isinstance(ob, ProcessGone):
            self._process_gone(conn, ob)
        elif isinstance(ob, ProcessLink):
            self._link(conn, ob)

    def _usage(self, conn: sqlite3.Connection, ob: Usage) -> None:
        if ob.dedup_key is not None:
            cur = conn.execute(
                "INSERT OR IGNORE INTO usage_seen(tool, dedup_key, at) VALUES (?, ?, ?)",
                (ob.tool, ob.dedup_key, ob.at),
            )
            if cur.rowcount == 0:
                self.store.count("usage_duplicate", ob.tool, 1, conn)
                return
        sid = self._session(
            conn, ob.tool, ob.session_key, ob.session_key, ob.surface, ob.tool_version
        )
        seg = self._touch(conn, sid, ob.at, active=True, signal=ob.signal)
        values = [getattr(ob.tokens, k) for k in TOKEN_KINDS]
        add_tokens(seg.tokens, values)
        if ob.model:
            add_tokens(seg.models.setdefault(ob.model, [None] * len(TOKEN_KINDS)), values)

    def _process_seen(self, conn: sqlite3.Connection, ob: ProcessSeen) -> None:
        if ob.role != "session":
            return  # daemons and helpers are shown by `status`, never counted as use
        row = conn.execute(
            "SELECT session_id FROM live_processes WHERE pid = ? AND create_time = ?",
            (ob.pid, ob.create_time),
        ).fetchone()
        first_sight = row is None
        if first_sight:
            sid = self._session(
                conn, ob.tool, process_key(ob.pid, ob.create_time), None, ob.surface, None
            )
            conn.execute(
                "INSERT INTO live_processes(pid, create_time, tool, session_id, first_seen,"
                " last_seen) VALUES (?, ?, ?, ?, ?, ?)",
                (ob.pid, ob.create_time, ob.tool, sid, ob.at, ob.at),
            )
        else:
            sid = int(row[0])
            conn.execute(
                "UPDATE live_processes SET last_seen = ? WHERE pid = ? AND create_time = ?",
                (ob.at, ob.pid, ob.create_time),
            )
        active = ob.busy or (ob.interval > 0 and ob.cpu_delta >= self.cpu_threshold * ob.interval)
        if self._open_segment(conn, sid) is None and not (first_sight or active):
            return  # idle since its last segment closed: wait for evidence of use
        seg = self._touch(
            conn,
            sid,
            ob.at,
            active=active,
            signal="process",
            pid=ob.pid,
            start_at=min(ob.at, ob.create_time) if first_sight else ob.at,
        )
        if 0 < ob.interval <= self.max_step:
            seg.present += ob.interval

    def _process_gone(self, conn: sqlite3.Connection, ob: ProcessGone) -> None:
        row = conn.execute(
            "DELETE FROM live_processes WHERE pid = ? AND create_time = ? RETURNING session_id",
            (ob.pid, ob.create_time),
        ).fetchone()
        if row is None or row[0] is None:
            return
        sid = int(row[0])
        still = conn.execute("SELECT 1 FROM live_processes WHERE session_id = ?", (sid,)).fetchone()
        seg = self._open_segment(conn, sid)
        if seg is not None and still is None:
            seg.last_seen_at = max(seg.last_seen_at, ob.at)
            seg.dirty = True
            self._close(conn, sid, ob.at)

    def _link(self, conn: sqlite3.Connection, ob: ProcessLink) -> None:
        row = conn.execute(
            "SELECT lp.session_id, s.session_key FROM live_processes lp"
            " JOIN sessions s ON s.id = lp.session_id WHERE lp.pid = ? AND lp.tool = ?",
            (ob.pid, ob.tool),
        ).fetchone()
        if row is None or row["session_key"] == ob.tool_session_id:
            return
        # Merging moves rows between sessions: write the working set and start afresh.
        self._flush(conn)
        self._open.clear()
        self._sessions.clear()
        source = int(row["session_id"])
        target = self._session(conn, ob.tool, ob.tool_session_id, ob.tool_session_id, None, None)
        src_seg = self._open_segment(conn, source)
        dst_seg = self._open_segment(conn, target)
        if src_seg is not None and dst_seg is not None:
            merge_segments(conn, src_seg.id, dst_seg.id)
        elif src_seg is not None:
            idx = self._next_index(conn, target)
            conn.execute(
                "UPDATE segments SET session_id = ?, idx = ? WHERE id = ?",
                (target, idx, src_seg.id),
            )
        conn.execute(
            "UPDATE live_processes SET session_id = ? WHERE session_id = ?", (target, source)
        )
        conn.execute(
            "UPDATE sessions SET surface = COALESCE(surface, (SELECT surface FROM"
            " sessions WHERE id = ?)) WHERE id = ?",
            (source, target),
        )
        conn.execute(
            "DELETE FROM sessions WHERE id = ? AND NOT EXISTS"
            " (SELECT 1 FROM segments WHERE session_id = ?)",
            (source, source),
        )
        self._open.clear()
        self._sessions.clear()

    # -- sessions and segments ------------------------------------------------------------
    def _session(
        self,
        conn: sqlite3.Connection,
        tool: str,
        key: str,
        tool_session_id: str | None,
        surface: str | None,
        version: str | None,
    ) -> int:
        cached = self._sessions.get((tool, key))
        if cached is not None and not (surface or version):
            return cached
        row = conn.execute(
            "SELECT id, surface, tool_version FROM sessions WHERE tool = ? AND session_key = ?",
            (tool, key),
        ).fetchone()
        if row is not None:
            if (surface and not row["surface"]) or (version and row["tool_version"] != version):
                conn.execute(
                    "UPDATE sessions SET surface = COALESCE(surface, ?),"
                    " tool_version = COALESCE(?, tool_version) WHERE id = ?",
                    (surface, version, row["id"]),
                )
            sid = int(row["id"])
        else:
            cur = conn.execute(
                "INSERT INTO sessions(tool, session_key, tool_session_id, surface, tool_version,"
                " created_at) VALUES (?, ?, ?, ?, ?, strftime('%s','now'))",
                (tool, key, tool_session_id, surface, version),
            )
            sid = int(cur.lastrowid or 0)
            self._open[sid] = None  # a new session has no segment yet
        self._sessions[(tool, key)] = sid
        return sid

    def _open_segment(self, conn: sqlite3.Connection, sid: int) -> OpenSegment | None:
        if sid not in self._open:
            self._open[sid] = OpenSegment.load(conn, sid)
        return self._open[sid]

    def _next_index(self, conn: sqlite3.Connection, sid: int) -> int:
        row = conn.execute(
            "SELECT COALESCE(MAX(idx) + 1, 0) FROM segments WHERE session_id = ?", (sid,)
        ).fetchone()
        return int(row[0])

    def _touch(
        self,
        conn: sqlite3.Connection,
        sid: int,
        at: float,
        *,
        active: bool,
        signal: str,
        turn: bool = False,
        pid: int | None = None,
        start_at: float | None = None,
    ) -> OpenSegment:
        """Credits evidence at `at` to the session's open segment, cutting at idle gaps."""
        seg = self._open_segment(conn, sid)
        if seg is not None and active:
            since = seg.last_activity_at
            if since is not None and at - since > self.idle:
                self._close(conn, sid, since)
                seg = None
            elif since is None and at - seg.started_at > self.idle:
                self._close(conn, sid, at)
                seg = None
        if seg is None:
            begin = at if start_at is None else start_at
            cur = conn.execute(
                "INSERT INTO segments(session_id, idx, started_at, last_seen_at, signals, pids)"
                " VALUES (?, ?, ?, ?, '', '')",
                (sid, self._next_index(conn, sid), begin, at),
            )
            seg = OpenSegment(int(cur.lastrowid or 0), begin, None, at, set(), set())
            self._open[sid] = seg
        seg.signals.add(signal)
        if pid is not None:
            seg.pids.add(str(pid))
        last = seg.last_activity_at
        if active:
            if last is not None and 0 < at - last <= self.idle:
                seg.active += at - last
            seg.last_activity_at = at if last is None else max(last, at)
        seg.started_at = min(seg.started_at, at)
        seg.last_seen_at = max(seg.last_seen_at, at)
        seg.turns += int(turn)
        seg.dirty = True
        return seg

    def _close(self, conn: sqlite3.Connection, sid: int, at: float) -> None:
        """Closes the session's open segment and enqueues its record, in this transaction."""
        seg = self._open_segment(conn, sid)
        assert seg is not None
        seg.flush(conn)
        self._open[sid] = None
        row = conn.execute(
            "SELECT s.tool, s.session_key, g.idx FROM segments g"
            " JOIN sessions s ON s.id = g.session_id WHERE g.id = ?",
            (seg.id,),
        ).fetchone()
        end = max(at, seg.started_at)
        conn.execute(
            "UPDATE segments SET ended_at = ?, present_seconds = MIN(present_seconds, ? -"
            " started_at) WHERE id = ?",
            (end, end, seg.id),
        )
        outbox.enqueue(
            conn, seg.id, row["tool"], row["session_key"], row["idx"], seg.started_at, end
        )

    def _close_idle(self, conn: sqlite3.Connection, now: float) -> int:
        self._flush(conn)
        rows = conn.execute(
            "SELECT session_id, started_at, last_activity_at, last_seen_at FROM segments"
            " WHERE ended_at IS NULL AND COALESCE(last_activity_at, started_at) < ?",
            (now - self.idle,),
        ).fetchall()
        for r in rows:
            if r["last_activity_at"] is not None:
                end = r["last_activity_at"]
            else:  # present but never used: the presence counted up to the idle limit
                end = min(r["last_seen_at"], r["started_at"] + self.idle)
            self._close(conn, int(r["session_id"]), end)
        return len(rows)
