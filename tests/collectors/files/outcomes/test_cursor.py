"""Cursor outcomes: the daily line counts of state.vscdb and the scored commits of
ai-code-tracking.db, from hand-made databases (tests/fixtures/cursor) through the real tailer
and store: exactly the fixtures' truth, once however often and however the files are read,
and nothing of the other tables or keys read into memory or kept."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

import pytest

from aitally.agent import reports
from aitally.collectors.files.adapters import sqlite_source
from aitally.collectors.files.adapters.cursor import Cursor, CursorScoredCommits
from aitally.collectors.files.outcomes import cursor as outcomes
from aitally.collectors.files.state import FileState
from aitally.collectors.files.tailer import Tailer
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store
from tests.collectors.files.helpers import env_for, run, scan_for
from tests.conftest import FIXTURES, aitally_cmd

CURSOR = FIXTURES / "cursor"
AT = time.time() - 3600
TODAY = dt.date.today()
YESTERDAY = TODAY - dt.timedelta(days=1)
COMMITS = {"commits": 2, "commits_with_ai": 2, "lines_added": 43, "lines_removed": 7}


def fixture_sql(name: str) -> str:
    """A fixture script with its dates filled in."""
    sql = (CURSOR / name).read_text()
    for key, value in {
        "TODAY": TODAY.isoformat(),
        "YESTERDAY": YESTERDAY.isoformat(),
        "AT_ISO": dt.datetime.fromtimestamp(AT, dt.UTC).isoformat(timespec="milliseconds"),
        "AT_MS": str(int(AT * 1000)),
    }.items():
        sql = sql.replace("{" + key + "}", value)
    return sql


def build(path: Path, name: str, *, wal: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(fixture_sql(name))
    conn.commit()
    conn.close()
    return path


CHAT = "cccccccc-0000-4000-8000-000000000001"


def truth(chat_read_first: bool = True) -> dict[str, dict[str, int]]:
    """Outcomes by Cursor session: each day's line counts on the day's own session (no Cursor
    segment was in use when they were written); the commits on the chat in use at their time,
    else (the chat not read yet) on their day's session."""
    want = {
        outcomes.day_key(YESTERDAY): {"lines_suggested": 180, "lines_accepted": 75},
        outcomes.day_key(TODAY): {"lines_suggested": 65, "lines_accepted": 32},
    }
    if chat_read_first:
        return {**want, CHAT: dict(COMMITS)}
    commit_day = outcomes.day_key(dt.datetime.fromtimestamp(AT).date())
    want[commit_day] = {**COMMITS, **want[commit_day]}
    return want


@pytest.fixture
def tailer(tmp_path: Path) -> Iterator[Tailer]:
    """A tailer on a store whose every byte is scanned for the planted markers at the end:
    its WAL while open, then the file with its free pages once closed."""
    store = Store(tmp_path / "s.db")
    yield Tailer(Sessionizer(store), store)
    for closing_it in (False, True):
        if closing_it:
            store.close()
        assert scan_for(tmp_path, b"CANARY", only="s.db") == []


@pytest.fixture
def dbs(tmp_path: Path) -> tuple[Path, Path]:
    return (
        build(tmp_path / "globalStorage" / "state.vscdb", "state.vscdb.sql"),
        build(tmp_path / "ai-tracking" / "ai-code-tracking.db", "ai-code-tracking.db.sql"),
    )


def read(tailer: Tailer, *paths: Path) -> None:
    for path in paths:
        adapter = Cursor() if path.name == "state.vscdb" else CursorScoredCommits()
        assert adapter.matches(PurePosixPath(path.name))
        tailer.process(path, PurePosixPath(path.name), adapter)


def summed(segments: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Outcomes by Cursor session, summed over its segments (the day's session gets one each
    time its previous one was closed)."""
    out: dict[str, dict[str, int]] = {}
    for s in segments:
        if s["tool"] == "cursor" and s["outcomes"]:
            acc = out.setdefault(s["tool_session_id"], {})
            for kind, n in s["outcomes"].items():
                acc[kind] = acc.get(kind, 0) + n
    return out


def by_session(tailer: Tailer) -> dict[str, dict[str, int]]:
    return summed(reports.sessions(tailer.store.conn, tool="cursor"))


def test_fixtures_equal_the_truth_once_however_often_read(
    tailer: Tailer, dbs: tuple[Path, Path]
) -> None:
    read(tailer, *dbs)
    read(tailer, *dbs)
    assert by_session(tailer) == truth()
    assert tailer.store.counters("drift") == {}
    chat = {s["tool_session_id"]: s for s in reports.sessions(tailer.store.conn, tool="cursor")}
    assert chat[CHAT]["tokens"]["input"] == 1200


def test_an_update_counts_only_what_grew(tailer: Tailer, dbs: tuple[Path, Path]) -> None:
    state, tracking = dbs
    read(tailer, *dbs)
    conn = sqlite3.connect(state)
    key = f"aiCodeTracking.dailyStats.v1.5.{TODAY.isoformat()}"
    conn.execute(  # Cursor rewrites the day's row in place (a REPLACE, as its schema says)
        "INSERT INTO ItemTable VALUES (?, ?)",
        (
            key,
            '{"tabSuggestedLines": 50, "tabAcceptedLines": 15, "composerSuggestedLines": 25,'
            ' "composerAcceptedLines": 21}',
        ),
    )
    conn.commit()
    conn.close()
    conn = sqlite3.connect(tracking)
    conn.execute(  # commit a1 scored again on another branch, and a new commit d4
        "INSERT INTO scored_commits (commitHash, branchName, scoredAt, tabLinesAdded,"
        " composerLinesAdded, commitMessage) VALUES (?, 'other', ?, 10, 25, 'CANARY-x'),"
        " (?, 'main', ?, 3, 0, 'CANARY-y')",
        ("a1" * 20, int(AT * 1000), "d4" * 20, int(AT * 1000)),
    )
    conn.commit()
    conn.close()
    read(tailer, *dbs)
    read(tailer, *dbs)
    want = truth()
    today = want[outcomes.day_key(TODAY)]
    today["lines_suggested"] += 10
    today["lines_accepted"] += 4
    want[CHAT].update(commits=3, commits_with_ai=3, lines_added=46)
    assert by_session(tailer) == want


def test_a_replaced_file_counts_nothing_twice(tailer: Tailer, dbs: tuple[Path, Path]) -> None:
    """The same databases as new files (a restore, a copy): positions start afresh, the
    dedup keys of the counts already counted keep them from being counted again."""
    read(tailer, *dbs)
    for path in dbs:
        copy = path.with_suffix(".copy")
        shutil.copyfile(path, copy)
        os.replace(copy, path)
    read(tailer, *dbs)
    assert by_session(tailer) == truth()
    # Commit a1 on its second branch, then again: the two snapshots, a1 twice and c3.
    assert tailer.store.counters("outcome_duplicate") == {"cursor": 6}


def test_daily_counts_that_went_down_are_a_new_base() -> None:
    st = FileState()
    day = "2026-11-30"

    def row(ts: int, ta: int) -> list[tuple[str, Any]]:
        value = f'{{"date": "{day}", "tabSuggestedLines": {ts}, "tabAcceptedLines": {ta}}}'
        return [(f"aiCodeTracking.dailyStats.v1.5.{day}", value)]

    first = outcomes.daily_outcomes(row(10, 4), 0.0, st)
    assert [o.counts for o in first] == [{"lines_suggested": 10, "lines_accepted": 4}]
    assert outcomes.daily_outcomes(row(10, 4), 0.0, st) == []
    assert outcomes.daily_outcomes(row(3, 1), 0.0, st) == []  # rewritten lower: nothing
    grown = outcomes.daily_outcomes(row(5, 1), 0.0, st)
    assert [o.counts for o in grown] == [{"lines_suggested": 2, "lines_accepted": 0}]
    # Dated within its own (local) day, whatever the file's time.
    start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time()).timestamp()
    assert grown[0].at == start and grown[0].tool_wide and grown[0].session_key == f"day:{day}"


def test_an_unreadable_day_keeps_what_was_counted() -> None:
    st = FileState()
    key = "aiCodeTracking.dailyStats.v1.5.2026-11-30"
    outcomes.daily_outcomes([(key, '{"tabSuggestedLines": 10}')], 0.0, st)
    assert outcomes.daily_outcomes([(key, "{not json")], 0.0, st) == []
    assert outcomes.daily_outcomes([(key, None)], 0.0, st) == []  # too large to read
    assert st.drift == 2
    again = outcomes.daily_outcomes([(key, '{"tabSuggestedLines": 12}')], 0.0, st)
    assert [o.counts for o in again] == [{"lines_suggested": 2, "lines_accepted": 0}]
    assert outcomes.daily_outcomes([("aiCodeTracking.dailyStats.v1.5.x", "{}")], 0.0, st) == []
    assert st.drift == 3  # no day in the value nor the key


def test_a_scored_commit_counts_its_ai_lines_only() -> None:
    st = FileState()
    human = outcomes.scored_commit(("b2" * 20, 1, None, 0, 0, 0, 0), 5.0, st)
    assert human == []
    (ai,) = outcomes.scored_commit(("a1" * 20, 1_790_000_000_000, None, 3, 1, None, None), 5.0, st)
    assert ai.counts == {"commits": 1, "commits_with_ai": 1, "lines_added": 3, "lines_removed": 1}
    assert ai.at == 1_790_000_000.0 and "a1" not in (ai.dedup_key or "")
    assert outcomes.scored_commit((None, 1, None, 3, 0, 0, 0), 5.0, st) == [] and st.drift == 1


# -- what is read, and what never is ---------------------------------------------------------


class Recording:
    """A connection that keeps every value fetched through it (what reached memory)."""

    fetched: ClassVar[list[Any]] = []

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Any = ()) -> _Rows:
        rows = _Rows(self.conn.execute(sql, params).fetchall())
        Recording.fetched += [v for r in rows for v in r]
        return rows

    def close(self) -> None:
        self.conn.close()


class _Rows(list[Any]):
    def fetchone(self) -> Any:
        return self[0] if self else None


def test_no_value_of_another_table_column_or_key_is_read_into_memory(
    tailer: Tailer, dbs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = sqlite_source.open_ro
    Recording.fetched = []
    monkeypatch.setattr(sqlite_source, "open_ro", lambda p, tool: Recording(real(p, tool)))
    read(tailer, *dbs)
    assert by_session(tailer) == truth()
    values = [v.encode() if isinstance(v, str) else v for v in Recording.fetched]
    assert len(values) > 10
    # Bubbles hold content and are read (their figures kept, their text dropped); nothing
    # else that holds content is ever fetched.
    never_read = [
        b"CANARY-cursor-" + name
        for name in (
            b"access-token",
            b"refresh-token",
            b"item-prompt",
            b"repo-name",
            b"recent-branch",
            b"start",
            b"chat-title",
            b"file-name",
            b"summary-title",
            b"tldr",
            b"overview",
            b"bullet",
            b"tracked-name",
            b"code",
            b"branch",
            b"commit-message",
            b"human-commit",
            b"third-message",
        )
    ]
    for marker in never_read:
        assert marker in b"".join(p.read_bytes() for p in dbs)  # planted, not vacuous
        assert not any(isinstance(v, bytes) and marker in v for v in values), marker


def test_sqlite_refuses_any_column_the_allowlist_does_not_name(dbs: tuple[Path, Path]) -> None:
    state, tracking = dbs
    conn = sqlite_source.open_ro(tracking, "cursor")
    for sql in (
        "SELECT content FROM tracked_file_content",
        "SELECT commitMessage FROM scored_commits",
        "SELECT branchName FROM scored_commits",
        "SELECT title FROM conversation_summaries",
        "SELECT fileName FROM ai_code_hashes",
    ):
        with pytest.raises(sqlite3.DatabaseError, match="prohibited"):
            conn.execute(sql)
    conn.close()
    with pytest.raises(sqlite_source.NotReadable):
        sqlite_source.check("cursor", "ItemTable", ("key", "value"), None)
    with pytest.raises(sqlite_source.NotReadable):
        sqlite_source.rewritten(state, "cursor", "ItemTable", "cursorAuth/")
    with pytest.raises(sqlite_source.NotReadable):
        sqlite_source.check("cursor", "tracked_file_content", ("content",), None)
    # Exact prefixes, case included (LIKE would ignore it): a key that only looks like the
    # daily counts is not read.
    with sqlite3.connect(state) as writer:
        writer.execute(
            "INSERT INTO ItemTable VALUES ('AICODETRACKING.DAILYSTATS.v1.5.2026-01-02', 'x')"
        )
    writer.close()
    found = sqlite_source.rewritten(state, "cursor", "ItemTable", "aiCodeTracking.dailyStats")
    assert [k.rsplit(".", 1)[1] for k, _ in found] == [YESTERDAY.isoformat(), TODAY.isoformat()]


# -- databases that cannot be read (whole or in part) ------------------------------------------


def test_a_locked_database_is_reported_counted_and_read_in_full_later(
    tailer: Tailer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = build(tmp_path / "globalStorage" / "state.vscdb", "state.vscdb.sql", wal=False)
    tracking = build(tmp_path / "ai-tracking" / "ai-code-tracking.db", "ai-code-tracking.db.sql")
    holder = sqlite3.connect(state, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    with caplog.at_level(logging.WARNING):
        read(tailer, state, tracking)
    assert "database is locked" in caplog.text
    assert tailer.store.counters("file_skipped") == {"cursor:unreadable": 1}
    holder.execute("ROLLBACK")
    holder.close()
    read(tailer, state, tracking)
    assert by_session(tailer) == truth(chat_read_first=False)


def test_a_corrupt_database_is_reported_once_and_the_other_still_read(
    tailer: Tailer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "globalStorage" / "state.vscdb"
    state.parent.mkdir()
    state.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 64)
    tracking = build(tmp_path / "ai-tracking" / "ai-code-tracking.db", "ai-code-tracking.db.sql")
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            read(tailer, state, tracking)
    assert caplog.text.count("cursor: cannot read a data file") == 1  # rate-limited
    assert tailer.store.counters("file_skipped") == {"cursor:unreadable": 3}
    commit_day = outcomes.day_key(dt.datetime.fromtimestamp(AT).date())
    assert by_session(tailer) == {commit_day: COMMITS}


def test_a_huge_value_or_table_is_not_read_and_loses_nothing_else(
    tailer: Tailer, dbs: tuple[Path, Path]
) -> None:
    state, _ = dbs
    conn = sqlite3.connect(state)
    conn.execute(
        "INSERT INTO ItemTable VALUES ('aiCodeTracking.dailyStats.v1.5.2026-01-01', ?)",
        ('{"tabSuggestedLines": 9, "pad": "' + "x" * (sqlite_source.MAX_VALUE + 1) + '"}',),
    )
    conn.executemany(  # a large table of code beside them, never read
        "INSERT INTO ItemTable VALUES (?, ?)",
        ((f"workbench.code.{i}", "CANARY-cursor-code " * 500) for i in range(2000)),
    )
    conn.commit()
    conn.close()
    read(tailer, *dbs)
    assert by_session(tailer) == truth()
    assert tailer.store.counters("drift") == {"cursor": 1}


def test_uncheckpointed_writes_in_the_wal_are_read(tailer: Tailer, dbs: tuple[Path, Path]) -> None:
    state, _ = dbs
    writer = sqlite3.connect(state)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute(
        "INSERT INTO ItemTable VALUES (?, ?)",
        (f"aiCodeTracking.dailyStats.v1.5.{TODAY.isoformat()}", '{"tabSuggestedLines": 100}'),
    )
    writer.commit()  # in state.vscdb-wal only, the writer still open
    assert state.with_name("state.vscdb-wal").stat().st_size > 0
    read(tailer, *dbs)
    writer.close()
    want = truth()
    want[outcomes.day_key(TODAY)].update(lines_suggested=100, lines_accepted=0)
    assert by_session(tailer) == want


# -- the running agent -------------------------------------------------------------------------


def _today_counts(home: Path) -> dict[str, int] | None:
    out = run(home, "sessions", "--json", "--tool", "cursor")
    if out.returncode != 0:
        return None
    return summed(json.loads(out.stdout)["sessions"]).get(outcomes.day_key(TODAY), {})


def test_a_running_agent_counts_what_cursor_adds_within_seconds(tmp_path: Path) -> None:
    home = tmp_path / "home"
    state = build(home / ".config/Cursor/User/globalStorage/state.vscdb", "state.vscdb.sql")
    agent = subprocess.Popen(
        aitally_cmd("run"), env=env_for(home), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        _wait_for(home, {"lines_suggested": 65, "lines_accepted": 32}, 20.0)
        writer = sqlite3.connect(state)  # as Cursor does: through the WAL, left open
        writer.execute(
            "INSERT INTO ItemTable VALUES (?, ?)",
            (
                f"aiCodeTracking.dailyStats.v1.5.{TODAY.isoformat()}",
                '{"tabSuggestedLines": 47, "tabAcceptedLines": 13, "composerSuggestedLines": 25,'
                ' "composerAcceptedLines": 20}',
            ),
        )
        writer.commit()
        seconds = _wait_for(home, {"lines_suggested": 72, "lines_accepted": 33}, 10.0)
        writer.close()
        assert seconds < 5.0
    finally:
        agent.send_signal(signal.SIGTERM)
        _, err = agent.communicate(timeout=30)
    assert agent.returncode == 0, err.decode()[-2000:]


def _wait_for(home: Path, want: dict[str, int], limit: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if _today_counts(home) == want:
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"{_today_counts(home)} != {want}")


def test_daily_counts_that_cannot_be_read_leave_the_bubbles_read(
    tailer: Tailer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An ItemTable that reads another table (here a view of one): SQLite refuses it, the
    failure is reported and counted, and the chat bubbles of the same database are read."""
    state = tmp_path / "globalStorage" / "state.vscdb"
    state.parent.mkdir()
    sql = fixture_sql("state.vscdb.sql").replace("INSERT INTO ItemTable", "INSERT INTO other")
    sql = sql.replace(
        "CREATE TABLE ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB);",
        "CREATE TABLE other (key TEXT, value BLOB);"
        " CREATE VIEW ItemTable AS SELECT key, value FROM other;",
    )
    with sqlite3.connect(state) as conn:
        conn.executescript(sql)
    conn.close()
    with caplog.at_level(logging.WARNING):
        read(tailer, state)
        read(tailer, state)
    assert caplog.text.count("cannot read the ItemTable rows of its database") == 1
    assert "prohibited" in caplog.text
    assert tailer.store.counters("file_skipped") == {"cursor:rewritten_unreadable": 2}
    (chat,) = reports.sessions(tailer.store.conn, tool="cursor")
    assert chat["tool_session_id"] == CHAT and chat["tokens"]["output"] == 300
    assert chat["outcomes"] == {}
