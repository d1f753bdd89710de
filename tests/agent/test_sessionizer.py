"""Sessionizer on the real store: segments, idle cuts, presence vs activity, dedup, links."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from aitally.agent import reports
from aitally.core.observation import (
    Activity,
    OutcomeCounts,
    ProcessGone,
    ProcessLink,
    ProcessSeen,
    Tokens,
    Usage,
)
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store, segments

T0 = 1_790_000_000.0


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "s.db")


@pytest.fixture
def sz(store: Store) -> Sessionizer:
    return Sessionizer(store, idle_timeout=900, cpu_active_threshold=0.02)


def segs(store: Store) -> list[dict]:
    return list(reversed(reports.sessions(store.conn)))


def test_usage_tokens_models_and_dedup(store: Store, sz: Sessionizer) -> None:
    u = Usage("claude-code", "S1", T0, "m1", Tokens(10, 5, 100, 7, None), dedup_key="a")
    sz.apply([u, u, Usage("claude-code", "S1", T0 + 30, "m2", Tokens(1, 2, 3, 4, None), "b")])
    (s,) = segs(store)
    assert s["tokens"] == {
        "input": 11,
        "output": 7,
        "cache_read": 103,
        "cache_write": 11,
        "reasoning": None,
    }
    assert s["models"]["m1"]["input"] == 10 and s["models"]["m2"]["output"] == 2
    assert s["tool_session_id"] == "S1" and s["active_seconds"] == 30
    assert store.counters("usage_duplicate") == {"claude-code": 1}


def test_idle_gap_cuts_segments_and_enqueues_closed_ones(store: Store, sz: Sessionizer) -> None:
    obs = [Activity("codex", "X", T0 + t, kind="prompt") for t in (0, 60, 120)]
    obs += [Activity("codex", "X", T0 + 120 + 901 + t) for t in (0, 10)]
    sz.apply(obs)
    first, second = segs(store)
    assert (first["turns"], first["active_seconds"], first["open"]) == (3, 120, False)
    assert first["ended_at"] is not None and second["open"]
    assert second["active_seconds"] == 10
    assert store.conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 1
    # close_idle closes the second once the idle timeout has passed, and only once.
    assert sz.close_idle(T0 + 5000) == 1 and sz.close_idle(T0 + 6000) == 0
    assert store.conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 2


def test_record_ids_are_deterministic(tmp_path: Path) -> None:
    ids = []
    for name in ("a.db", "b.db"):
        st = Store(tmp_path / name)
        st.kv_set("device_secret", "fixed")
        Sessionizer(st).apply([Activity("codex", "X", T0)], now=T0 + 10_000)
        ids.append(st.conn.execute("SELECT record_id FROM outbox").fetchone()[0])
    assert ids[0] == ids[1]


def test_process_presence_activity_and_exit(store: Store, sz: Sessionizer) -> None:
    seen = [ProcessSeen("cursor", 42, T0 - 3, T0, surface="ide")]
    # 5 s scans: two idle, then two busy (0.5 s of CPU in 5 s is 10 % of a core).
    seen += [
        ProcessSeen("cursor", 42, T0 - 3, T0 + 5 * i, interval=5, cpu_delta=c)
        for i, c in ((1, 0.0), (2, 0.0), (3, 0.5), (4, 0.5))
    ]
    sz.apply([*seen, ProcessGone("cursor", 42, T0 - 3, T0 + 22)])
    (s,) = segs(store)
    assert s["pids"] == [42] and s["signals"] == ["process"]
    assert s["started_at"] == "2026-09-21T14:13:17Z"  # the process's own start time
    assert s["present_seconds"] == 20 and s["active_seconds"] == 5
    assert not s["open"] and s["ended_at"] == "2026-09-21T14:13:42Z"
    assert store.conn.execute("SELECT COUNT(*) FROM live_processes").fetchone()[0] == 0


def test_idle_process_closes_and_reopens_only_on_use(store: Store, sz: Sessionizer) -> None:
    sz.apply([ProcessSeen("cursor", 7, T0, T0)])
    sz.close_idle(T0 + 1000)
    sz.apply([ProcessSeen("cursor", 7, T0, T0 + 1005, interval=5)])  # idle: nothing new
    assert len(segs(store)) == 1
    sz.apply([ProcessSeen("cursor", 7, T0, T0 + 1010, interval=5, cpu_delta=1.0)])
    first, second = segs(store)
    assert first["present_seconds"] == 0 and not first["open"]
    assert second["open"]


def test_daemons_are_not_sessions(store: Store, sz: Sessionizer) -> None:
    sz.apply([ProcessSeen("ollama", 9, T0, T0, role="daemon")])
    assert segs(store) == []


def test_clock_jumps_never_give_negative_or_sleep_time(store: Store, sz: Sessionizer) -> None:
    sz.apply(
        [
            ProcessSeen("codex", 5, T0, T0),
            ProcessSeen("codex", 5, T0, T0 + 5, interval=5, cpu_delta=1),
            # wall clock jumps back an hour, then the machine sleeps 3 hours (huge interval)
            ProcessSeen("codex", 5, T0, T0 - 3600, interval=5, cpu_delta=1),
            ProcessSeen("codex", 5, T0, T0 + 3 * 3600, interval=3 * 3600, cpu_delta=1),
        ]
    )
    for s in segs(store):
        assert s["active_seconds"] >= 0 and s["present_seconds"] >= 0
        assert s["active_seconds"] <= 900 and s["present_seconds"] <= 900


def test_records_dated_far_ahead_of_the_clock_count_as_of_now(
    store: Store, sz: Sessionizer
) -> None:
    # A tool wrote under a clock set years ahead: taken as is, the segment would stay open
    # (and its tokens unsent) until 9999, and later real activity would join it.
    now = time.time()
    future = 253402300799.0  # 9999-12-31
    sz.apply([Usage("claude-code", "S", future, "m", Tokens(1, 2, None, None, None), "a")])
    sz.apply([Activity("claude-code", "S", now + 10, kind="prompt")])
    (s,) = segs(store)
    assert s["started_at"] < "2100" and s["tokens"]["output"] == 2 and s["turns"] == 1
    assert sz.close_idle(now + 2000) == 1
    assert store.conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 1
    assert store.counters("drift") == {"claude-code": 1}


def test_link_merges_process_into_tool_session(store: Store, sz: Sessionizer) -> None:
    sz.apply(
        [
            ProcessSeen("claude-code", 100, T0, T0),
            ProcessSeen("claude-code", 100, T0, T0 + 5, interval=5),
        ]
    )
    sz.apply(
        [
            Usage("claude-code", "SID", T0 + 6, "m", Tokens(1, 1), "k1"),
            ProcessLink("claude-code", 100, "SID", T0 + 6),
        ]
    )
    (s,) = segs(store)
    assert s["tool_session_id"] == "SID" and s["pids"] == [100]
    assert s["signals"] == ["process", "transcript"] and s["present_seconds"] == 5
    # later scans credit the linked session
    sz.apply(
        [
            ProcessSeen("claude-code", 100, T0, T0 + 10, interval=5),
            ProcessGone("claude-code", 100, T0, T0 + 12),
        ]
    )
    (s,) = segs(store)
    assert s["present_seconds"] == 10 and not s["open"]
    assert store.conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1


def test_link_seen_before_the_process_still_gives_one_session(
    store: Store, sz: Sessionizer
) -> None:
    # Claude Code writes sessions/<pid>.json before the agent's next scan sees the process.
    sz.apply([Usage("claude-code", "SID", T0 + 1, "m", Tokens(1, 1), "k1")])
    sz.apply([ProcessLink("claude-code", 100, "SID", T0 + 2)])
    sz.apply([ProcessSeen("claude-code", 100, T0, T0 + 3)])
    sz.apply([ProcessSeen("claude-code", 100, T0, T0 + 8, interval=5)])
    (s,) = segs(store)
    assert (s["tool_session_id"], s["pids"], s["present_seconds"]) == ("SID", [100], 5)
    sz.apply([ProcessGone("claude-code", 100, T0, T0 + 9)])
    (s,) = segs(store)
    assert not s["open"]
    assert store.conn.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 1


def test_a_stale_link_does_not_capture_a_later_process_with_its_pid(
    store: Store, sz: Sessionizer
) -> None:
    sz.apply([ProcessLink("claude-code", 100, "OLD", T0)])
    sz.apply([ProcessSeen("claude-code", 100, T0 + 50, T0 + 51)])  # started after the link
    (s,) = segs(store)
    assert s["tool_session_id"] is None and s["pids"] == [100]


def test_the_observed_process_surface_wins_over_the_files_claim(
    store: Store, sz: Sessionizer
) -> None:
    # Codex writes session_meta.source "vscode" in a terminal; the process is a terminal CLI.
    sz.apply([Usage("codex", "T1", T0 + 1, "m", Tokens(1, 1), "k1", surface="ide-extension")])
    sz.apply([ProcessSeen("codex", 7, T0, T0 + 2, surface="cli")])
    sz.apply([ProcessLink("codex", 7, "T1", T0 + 3)])
    (s,) = segs(store)
    assert (s["tool_session_id"], s["surface"], s["pids"]) == ("T1", "cli", [7])
    # and the same when the link comes first
    sz.apply([Usage("codex", "T2", T0 + 1, "m", Tokens(1, 1), "k2", surface="ide-extension")])
    sz.apply([ProcessLink("codex", 8, "T2", T0 + 3)])
    sz.apply([ProcessSeen("codex", 8, T0, T0 + 4, surface="cli")])
    by_id = {x["tool_session_id"]: x for x in segs(store)}
    assert by_id["T2"]["surface"] == "cli" and by_id["T2"]["pids"] == [8]


def test_a_process_moving_to_a_new_session_ends_the_old_one(store: Store, sz: Sessionizer) -> None:
    sz.apply([ProcessSeen("codex", 7, T0, T0 + 1), ProcessLink("codex", 7, "A", T0 + 1)])
    sz.apply([Usage("codex", "A", T0 + 2, "m", Tokens(1, 1), "k1")])
    sz.apply([ProcessLink("codex", 7, "B", T0 + 10)])  # the TUI's /new
    sz.apply([ProcessSeen("codex", 7, T0, T0 + 12, interval=11, cpu_delta=1.0)])
    by_id = {x["tool_session_id"]: x for x in segs(store)}
    assert not by_id["A"]["open"] and by_id["A"]["tokens"]["input"] == 1
    assert by_id["B"]["open"] and by_id["B"]["pids"] == [7]


@pytest.mark.parametrize("order", ["placeholder first", "complete first"])
def test_a_reply_seen_twice_with_growing_figures_counts_its_largest(
    store: Store, sz: Sessionizer, order: str
) -> None:
    # A Claude Code subagent's last reply: a placeholder in its file, complete in the parent's.
    placeholder = Usage(
        "claude-code", "S", T0, "m", Tokens(10, 1, 5, 2), "agent:a:10:5:2", merge=True
    )
    complete = Usage(
        "claude-code", "S", T0 + 1, "m", Tokens(10, 99, 5, 2), "agent:a:10:5:2", merge=True
    )
    first, second = (
        (placeholder, complete) if order == "placeholder first" else (complete, placeholder)
    )
    sz.apply([first])
    sz.apply([second, second])  # and re-read
    (s,) = segs(store)
    assert s["tokens"] == dict(input=10, output=99, cache_read=5, cache_write=2, reasoning=None)


def test_pause_drops_observations_in_window(store: Store, sz: Sessionizer) -> None:
    store.conn.execute("INSERT INTO pauses(started_at, ends_at) VALUES (?, ?)", (T0, T0 + 60))
    sz.apply([Activity("codex", "X", T0 + 10), Activity("codex", "Y", T0 + 70)])
    assert [s["tool_session_id"] for s in segs(store)] == ["Y"]
    assert store.counters("paused_dropped") == {"codex": 1}


def test_outcomes_sum_per_segment_once_per_dedup_key(store: Store, sz: Sessionizer) -> None:
    edit = OutcomeCounts(
        "claude-code", "S1", T0, {"edits_proposed": 1, "edits_accepted": 1, "lines_added": 4}, "k1"
    )
    shell = OutcomeCounts("claude-code", "S1", T0 + 5, {"commands_run": 1}, "k2")
    sz.apply([edit, shell, edit])
    sz.apply([edit, OutcomeCounts("claude-code", "S1", T0 + 9, {"lines_added": 2}, None)])
    (s,) = segs(store)
    # Absent kinds stay absent; each key counts once across batches.
    assert s["outcomes"] == {
        "edits_proposed": 1,
        "edits_accepted": 1,
        "lines_added": 6,
        "commands_run": 1,
    }
    assert store.counters("outcome_duplicate") == {"claude-code": 2}
    assert s["signals"] == ["transcript"] and s["active_seconds"] == 9


def test_outcomes_follow_idle_cuts_and_pauses(store: Store, sz: Sessionizer) -> None:
    store.conn.execute(
        "INSERT INTO pauses(started_at, ends_at) VALUES (?, ?)", (T0 + 5000, T0 + 5100)
    )
    sz.apply(
        [
            OutcomeCounts("codex", "X", T0, {"commands_run": 1}),
            OutcomeCounts("codex", "X", T0 + 1000, {"commands_run": 2, "commands_failed": 1}),
            OutcomeCounts("codex", "X", T0 + 5050, {"commands_run": 7}),
        ]
    )
    first, second = segs(store)
    assert first["outcomes"] == {"commands_run": 1} and not first["open"]
    assert second["outcomes"] == {"commands_run": 2, "commands_failed": 1}
    assert store.counters("paused_dropped") == {"codex": 1}


def test_tool_wide_outcomes_join_the_segment_in_use_else_a_day_without_active_time(
    store: Store, sz: Sessionizer
) -> None:
    """Cursor's daily line counts: onto the Cursor segment active around their time (its
    active seconds unchanged), else onto the day's session, which gains no active time."""
    lines = {"lines_suggested": 5, "lines_accepted": 2}
    sz.apply(
        [
            ProcessSeen("cursor", 9, T0, T0, surface="ide", busy=True),
            ProcessSeen("cursor", 9, T0, T0 + 60, surface="ide", interval=60, busy=True),
            Activity("claude-code", "C", T0 + 90, kind="prompt"),  # another tool: never chosen
            OutcomeCounts("cursor", "day:a", T0 + 100, lines, "d1", "state-db", tool_wide=True),
            OutcomeCounts("cursor", "day:a", T0 + 5000, lines, "d2", "state-db", tool_wide=True),
            OutcomeCounts("cursor", "day:a", T0 + 5300, lines, "d3", "state-db", tool_wide=True),
            OutcomeCounts("cursor", "day:a", T0 + 5300, lines, "d3", "state-db", tool_wide=True),
        ]
    )
    by_key = {s["tool_session_id"] or "process": s for s in segs(store) if s["tool"] == "cursor"}
    proc, day = by_key["process"], by_key["day:a"]
    assert proc["outcomes"] == lines and proc["active_seconds"] == 60
    assert "state-db" in proc["signals"]
    # Idle for over 15 minutes: the day's own session, both counts, no active time.
    assert day["outcomes"] == {"lines_suggested": 10, "lines_accepted": 4}
    assert day["active_seconds"] == 0 and day["turns"] == 0
    assert store.counters("outcome_duplicate") == {"cursor": 1}


def test_merging_segments_adds_their_outcomes(store: Store, sz: Sessionizer) -> None:
    sz.apply(
        [
            OutcomeCounts("codex", "A", T0, {"commands_run": 1, "edits_proposed": 2}),
            OutcomeCounts("codex", "B", T0, {"commands_run": 3}),
        ]
    )
    a, b = (s["id"] for s in segs(store))
    with store.transaction() as conn:
        segments.merge_segments(conn, a, b)
    (s,) = segs(store)
    assert s["id"] == b and s["outcomes"] == {"edits_proposed": 2, "commands_run": 4}
