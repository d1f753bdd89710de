"""Turns observations into sessions and segments; closing a segment enqueues its upload record."""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import attrgetter

from aitally.core.logs import RateLimited
from aitally.core.observation import (
    Activity,
    Observation,
    OutcomeCounts,
    ProcessGone,
    ProcessLink,
    ProcessSeen,
    Usage,
)
from aitally.core.outcomes import add_outcomes
from aitally.core.segment_state import OpenSegment, add_tokens
from aitally.core.sink import Counter, FilePosition
from aitally.core.store import Store, outbox, pauses, segments, sessions
from aitally.core.store import positions as positions_table
from aitally.core.wire import TOKEN_KINDS

log = logging.getLogger(__name__)

# A tool's timestamp further ahead of the wall clock than this was written under a wrong
# clock; taken as is, its segment would stay open (and unsent) until that date.
FUTURE_SLACK = 300.0
# Links kept for processes not seen yet (a registry file written before the next scan); more
# than this many pending means something links pids that never show up: the oldest go.
PENDING_LINKS = 256


PROCESS_KEY_PREFIX = "proc:"
# A reply's figures in TOKEN_KINDS order, read in one call (once per reply in a backfill).
_token_values = attrgetter(*TOKEN_KINDS)
# The observations dated by the tool's own clock (a tuple: `A | B` would build a union type
# for every observation of a catch-up).
_DATED = (Usage, Activity, OutcomeCounts)


def process_key(pid: int, create_time: float) -> str:
    """The session key of a process not (yet) linked to a session of the tool's own."""
    return f"{PROCESS_KEY_PREFIX}{pid}:{round(create_time * 1000)}"


def _relabels(
    have_surface: str | None, have_version: str | None, surface: str | None, version: str | None
) -> bool:
    """Whether an observation's labels change its session's (`sessions.label_session`)."""
    return bool((surface and not have_surface) or (version and have_version != version))


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
        # (tool, session key) -> (session id, its surface, its tool version) as in the store.
        self._sessions: dict[tuple[str, str], tuple[int, str | None, str | None]] = {}
        # (tool, pid) -> (the tool's session id, when the link was seen): whichever of a
        # process and its link comes first, the process joins the tool session, with no
        # process-only session beside it (docs/architecture.md, "One session per use").
        self._links: dict[tuple[str, int], tuple[str, float]] = {}
        self.problems = RateLimited(log)

    # -- public API ---------------------------------------------------------------------
    def apply(
        self,
        observations: Iterable[Observation],
        *,
        positions: Sequence[FilePosition] = (),
        counters: Iterable[Counter] = (),
        state: Mapping[str, str] | None = None,
        now: float | None = None,
    ) -> None:
        """Applies one batch in one transaction: observations, file positions, counters and
        `state` (kv rows, e.g. the OTLP receiver's last batch time) land together or not at all."""
        wall = time.time() if now is None else now
        future = wall + FUTURE_SLACK
        with self._transaction() as conn:
            paused = pauses.windows(conn)
            kept: list[Observation] = []
            for ob in observations:
                if isinstance(ob, _DATED) and ob.at > future:
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
                    and isinstance(ob, (*_DATED, ProcessSeen))
                    and any(start <= ob.at < end for start, end in paused)
                ):
                    # The engineer paused collection: nothing of that time is recorded.
                    self.store.count("paused_dropped", ob.tool, 1, conn)
                    continue
                kept.append(ob)
            # Replies' and outcomes' dedup keys in one statement for the batch, not one each.
            fresh = sessions.mark_usage_seen(
                conn,
                [
                    (ob.tool, ob.dedup_key, ob.at)
                    for ob in kept
                    if (isinstance(ob, OutcomeCounts) or (isinstance(ob, Usage) and not ob.merge))
                    and ob.dedup_key is not None
                ],
            )
            for ob in kept:
                self._apply_one(conn, ob, fresh)
            positions_table.save(conn, positions)
            for name, reason, n in counters:
                self.store.count(name, reason, n, conn)
            for key, value in (state or {}).items():
                self.store.kv_set(key, value, conn)
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

    # -- observations -------------------------------------------------------------------
    def _apply_one(
        self, conn: sqlite3.Connection, ob: Observation, fresh: set[tuple[str, str]]
    ) -> None:
        """One observation; `fresh`: the replies' (tool, dedup key) not counted before, each
        taken out as its first reply is counted."""
        if isinstance(ob, Usage):
            self._usage(conn, ob, fresh)
        elif isinstance(ob, OutcomeCounts):
            self._outcomes(conn, ob, fresh)
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

    def _first(
        self,
        conn: sqlite3.Connection,
        tool: str,
        key: str | None,
        fresh: set[tuple[str, str]],
        repeat: str,
    ) -> bool:
        """Whether an observation with this dedup key is counted now (no key: always); a key
        already counted is taken as a repeat and counted under the `repeat` counter."""
        if key is None:
            return True
        try:
            fresh.remove((tool, key))
        except KeyError:
            self.store.count(repeat, tool, 1, conn)
            return False
        return True

    def _usage(self, conn: sqlite3.Connection, ob: Usage, fresh: set[tuple[str, str]]) -> None:
        if ob.call_id is not None and not sessions.claim_call(
            conn, ob.tool, ob.call_id, ob.signal, ob.at
        ):
            # The same billed call, already counted from another signal (docs/architecture.md).
            self.store.count("usage_reconciled", f"{ob.tool}/{ob.signal}", 1, conn)
            return
        values: list[int | None] = list(_token_values(ob.tokens))
        if ob.merge and ob.dedup_key is not None:
            grown = sessions.grow_usage(conn, ob.tool, ob.dedup_key, values, ob.at)
            if grown is None:
                self.store.count("usage_duplicate", ob.tool, 1, conn)
                return
            values = grown
        elif not self._first(conn, ob.tool, ob.dedup_key, fresh, "usage_duplicate"):
            return
        sid = self._session(
            conn, ob.tool, ob.session_key, ob.session_key, ob.surface, ob.tool_version
        )
        seg = self._touch(conn, sid, ob.at, active=True, signal=ob.signal)
        add_tokens(seg.tokens, values)
        if ob.model:
            add_tokens(seg.models.setdefault(ob.model, [None] * len(TOKEN_KINDS)), values)

    def _outcomes(
        self, conn: sqlite3.Connection, ob: OutcomeCounts, fresh: set[tuple[str, str]]
    ) -> None:
        if not self._first(conn, ob.tool, ob.dedup_key, fresh, "outcome_duplicate"):
            return
        if ob.tool_wide:
            seg = self._segment_in_use(conn, ob)
            seg.signals.add(ob.signal)
            seg.dirty = True
        else:
            sid = self._session(conn, ob.tool, ob.session_key, ob.session_key, None, None)
            seg = self._touch(conn, sid, ob.at, active=True, signal=ob.signal)
        add_outcomes(seg.outcomes, ob.counts)

    def _segment_in_use(self, conn: sqlite3.Connection, ob: OutcomeCounts) -> OpenSegment:
        """The open segment of the tool's session active last within the idle timeout of
        `ob.at`; else the segment of the session `ob.session_key`, opened at `ob.at` without
        activity: counts the tool keeps per day must not add active time beside the segments
        that measure it."""
        self._flush(conn)  # the working set's activity, so that the query sees it
        sid = segments.session_in_use(conn, ob.tool, ob.at, self.idle)
        if sid is not None:
            seg = self._open_segment(conn, sid)
            if seg is not None:
                return seg
        sid = self._session(conn, ob.tool, ob.session_key, ob.session_key, None, None)
        return self._touch(conn, sid, ob.at, active=False, signal=ob.signal)

    def _process_seen(self, conn: sqlite3.Connection, ob: ProcessSeen) -> None:
        if ob.role != "session":
            return  # daemons and helpers are shown by `status`, never counted as use
        known = sessions.live_process_session(conn, ob.pid, ob.create_time)
        first_sight = known is None
        if known is None:
            link = self._links.get((ob.tool, ob.pid))
            if link is not None and link[1] >= ob.create_time:
                # Linked before its first scan: straight into the tool's session, labelled
                # with the surface observed here (the process), not the one its files claim.
                sid = self._session(conn, ob.tool, link[0], link[0], None, None)
                sessions.set_surface(conn, sid, ob.surface)
                self._sessions.pop((ob.tool, link[0]), None)
            else:
                sid = self._session(
                    conn, ob.tool, process_key(ob.pid, ob.create_time), None, ob.surface, None
                )
            sessions.insert_live_process(conn, ob.pid, ob.create_time, ob.tool, sid, ob.at)
        else:
            sid = known
            sessions.touch_live_process(conn, ob.pid, ob.create_time, ob.at)
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
        sid = sessions.remove_live_process(conn, ob.pid, ob.create_time)
        if sid is None:
            return
        seg = self._open_segment(conn, sid)
        if seg is not None and not sessions.session_has_live_process(conn, sid):
            seg.last_seen_at = max(seg.last_seen_at, ob.at)
            seg.dirty = True
            self._close(conn, sid, ob.at)

    def _link(self, conn: sqlite3.Connection, ob: ProcessLink) -> None:
        self._links.pop((ob.tool, ob.pid), None)
        self._links[(ob.tool, ob.pid)] = (ob.tool_session_id, ob.at)
        while len(self._links) > PENDING_LINKS:
            del self._links[next(iter(self._links))]
        found = sessions.process_session(conn, ob.pid, ob.tool)
        if found is None or found[1] == ob.tool_session_id:
            return
        # Merging moves rows between sessions: write the working set and start afresh.
        self._flush(conn)
        self._open.clear()
        self._sessions.clear()
        source = found[0]
        target = self._session(conn, ob.tool, ob.tool_session_id, ob.tool_session_id, None, None)
        if not found[1].startswith(PROCESS_KEY_PREFIX):
            # The process moved on to another of the tool's sessions (Codex's `/new`): it
            # leaves the one it worked on, which ends now unless another process remains.
            self._move_process(conn, ob, source, target)
            return
        src_seg = self._open_segment(conn, source)
        dst_seg = self._open_segment(conn, target)
        if src_seg is not None and dst_seg is not None:
            segments.merge_segments(conn, src_seg.id, dst_seg.id)
        elif src_seg is not None:
            segments.move_segment(conn, src_seg.id, target)
        sessions.move_live_processes(conn, source, target)
        sessions.adopt_surface(conn, source, target)
        sessions.delete_if_empty(conn, source)
        self._open.clear()
        self._sessions.clear()

    def _move_process(
        self, conn: sqlite3.Connection, ob: ProcessLink, source: int, target: int
    ) -> None:
        sessions.move_live_process(conn, ob.pid, ob.tool, target)
        sessions.adopt_surface(conn, source, target)
        if not sessions.session_has_live_process(conn, source):
            seg = self._open_segment(conn, source)
            if seg is not None:
                self._close(conn, source, ob.at)
        self._flush(conn)
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
        # `_relabels` spelled out: this runs once per observation.
        if (
            cached is not None
            and (cached[1] or not surface)
            and (not version or cached[2] == version)
        ):
            return cached[0]
        row = sessions.find_session(conn, tool, key)
        if row is not None:
            have_surface, have_version = row.surface, row.tool_version
            if _relabels(have_surface, have_version, surface, version):
                sessions.label_session(conn, row.id, surface, version)
                have_surface = surface if have_surface is None else have_surface  # COALESCE
                have_version = have_version if version is None else version
            sid = row.id
        else:
            sid = sessions.insert_session(conn, tool, key, tool_session_id, surface, version)
            have_surface, have_version = surface, version
            self._open[sid] = None  # a new session has no segment yet
        self._sessions[(tool, key)] = (sid, have_surface, have_version)
        return sid

    def _open_segment(self, conn: sqlite3.Connection, sid: int) -> OpenSegment | None:
        if sid not in self._open:
            self._open[sid] = OpenSegment.load(conn, sid)
        return self._open[sid]

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
            seg = OpenSegment(
                segments.insert_segment(conn, sid, begin, at), begin, None, at, set(), set()
            )
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
        end = max(at, seg.started_at)
        tool, session_key, idx = segments.close_segment(conn, seg.id, end)
        outbox.enqueue(conn, seg.id, tool, session_key, idx, seg.started_at, end)

    def _close_idle(self, conn: sqlite3.Connection, now: float) -> int:
        self._flush(conn)
        idle = segments.idle_open_segments(conn, now - self.idle)
        for seg in idle:
            if seg.last_activity_at is not None:
                end = seg.last_activity_at
            else:  # present but never used: the presence counted up to the idle limit
                end = min(seg.last_seen_at, seg.started_at + self.idle)
            self._close(conn, seg.session_id, end)
        return len(idle)
