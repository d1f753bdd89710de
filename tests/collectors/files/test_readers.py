"""Every kind of reader calls its adapter behind one guard: a record the adapter fails on is
counted and skipped, and reading goes on."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from aitally.collectors.files.adapters import sqlite_source
from aitally.collectors.files.adapters.base import (
    ActivityAdapter,
    Adapter,
    FileState,
    LineAdapter,
    Row,
    SnapshotAdapter,
    SqliteAdapter,
)
from aitally.collectors.files.readers import (
    ActivityReader,
    LineReader,
    SnapshotReader,
    SqliteReader,
    reader_for,
)
from aitally.collectors.files.tailer import Tailer
from aitally.core.observation import Activity, Observation
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store

AT = time.time() - 60
TOOL = "test-tool"


def prompt(session: str) -> list[Observation]:
    return [Activity(TOOL, session, AT, "prompt")]


def fail(value: object) -> None:
    """Raises what a buggy adapter might: a RuntimeError (a bug) or ValueError (a shape)."""
    if value == "bug":
        raise RuntimeError("adapter bug")
    if value == "shape":
        raise ValueError("unexpected shape")


class Lines(LineAdapter):
    tool = TOOL
    markers = (b"{",)

    def matches(self, rel: PurePosixPath) -> bool:
        return True

    def line(self, obj: Mapping[str, Any], rel: PurePosixPath, st: FileState) -> list[Observation]:
        fail(obj["s"])
        return prompt(obj["s"])


class Snapshot(SnapshotAdapter):
    tool = TOOL

    def matches(self, rel: PurePosixPath) -> bool:
        return True

    def snapshot(self, obj: Any, rel: PurePosixPath, st: FileState) -> list[Observation]:
        fail(obj["s"])
        return prompt(obj["s"])


class Rows(SqliteAdapter):
    tool = TOOL
    table = "t"
    columns = ("s",)

    def matches(self, rel: PurePosixPath) -> bool:
        return True

    def row(self, row: Row, rel: PurePosixPath, st: FileState) -> list[Observation]:
        (s,) = row.values
        fail(s)
        return prompt(str(s))


class Touched(ActivityAdapter):
    tool = TOOL

    def matches(self, rel: PurePosixPath) -> bool:
        return True

    def activity(self, rel: PurePosixPath, mtime: float) -> list[Observation]:
        fail("bug")
        return []


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "s.db")
    yield s
    s.close()


def read(store: Store, path: Path, adapter: Adapter) -> Tailer:
    tailer = Tailer(Sessionizer(store), store)
    tailer.process(path, PurePosixPath(path.name), adapter)
    return tailer


def sessions(store: Store) -> set[str]:
    return {r[0] for r in store.conn.execute("SELECT session_key FROM sessions")}


def test_each_kind_has_its_reader() -> None:
    assert isinstance(reader_for(Lines()), LineReader)
    assert isinstance(reader_for(Snapshot()), SnapshotReader)
    assert isinstance(reader_for(Rows()), SqliteReader)
    assert isinstance(reader_for(Touched()), ActivityReader)


def test_a_line_the_adapter_fails_on_is_counted_and_skipped(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "f.jsonl"
    body = "".join(json.dumps({"s": s}) + "\n" for s in ("a", "bug", "shape", "b"))
    path.write_text(body)
    tailer = read(store, path, Lines())
    assert sessions(store) == {"a", "b"}
    assert store.counters("file_skipped") == {f"{TOOL}:adapter_error": 1}
    assert store.counters("drift") == {TOOL: 1}
    assert tailer.positions[str(path)].offset == len(body)


def test_a_snapshot_the_adapter_fails_on_is_counted_and_skipped(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps({"s": "bug"}))
    tailer = read(store, path, Snapshot())
    assert sessions(store) == set()
    assert store.counters("file_skipped") == {f"{TOOL}:adapter_error": 1}
    # Not read again until it changes.
    tailer.process(path, PurePosixPath(path.name), Snapshot())
    assert store.counters("file_skipped") == {f"{TOOL}:adapter_error": 1}
    time.sleep(0.01)
    path.write_text(json.dumps({"s": "c"}))
    tailer.process(path, PurePosixPath(path.name), Snapshot())
    assert sessions(store) == {"c"}


def test_a_row_the_adapter_fails_on_is_counted_and_skipped(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The test tool's table, allowed as every tool's is (sqlite_source.READABLE).
    readable = {**sqlite_source.READABLE, (TOOL, "t"): sqlite_source.Readable(frozenset({"s"}))}
    monkeypatch.setattr(sqlite_source, "READABLE", readable)
    path = tmp_path / "tool.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (s TEXT)")
    conn.executemany("INSERT INTO t VALUES (?)", [("a",), ("bug",), ("shape",), ("b",)])
    conn.commit()
    conn.close()
    tailer = read(store, path, Rows())
    assert sessions(store) == {"a", "b"}
    assert store.counters("file_skipped") == {f"{TOOL}:adapter_error": 1}
    assert store.counters("drift") == {TOOL: 1}
    # Every row was read past: the next poll does not fail on it again.
    assert tailer.positions[str(path)].state.high_water == 4
    tailer.process(path, PurePosixPath(path.name), Rows())
    assert store.counters("file_skipped") == {f"{TOOL}:adapter_error": 1}


def test_an_activity_the_adapter_fails_on_is_counted(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "f.pb"
    path.write_text("x")
    read(store, path, Touched())
    assert store.counters("file_skipped") == {f"{TOOL}:adapter_error": 1}


class BuggyRows(Rows):
    """A reader-level failure outside any one row: the poll itself raises."""

    @property
    def table(self) -> str:  # type: ignore[override]
        raise RuntimeError("a bug in the poll")


def test_a_poll_that_raises_is_counted_and_the_pass_goes_on(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "tool.db"
    sqlite3.connect(path).close()
    tailer = Tailer(Sessionizer(store), store)
    tailer.defer = True  # as during the first catch-up in start()
    tailer.process(path, PurePosixPath(path.name), BuggyRows())
    tailer.flush()
    assert store.counters("file_skipped") == {f"{TOOL}:read_error": 1}


def test_overflowing_and_undecodable_values_in_a_real_database_never_stop_the_agent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 17: `1e999` (OverflowError) and a value that is not UTF-8 in opencode.db; the
    agent's first catch-up reads past them to the good row after them."""
    import subprocess

    from tests.conftest import aitally_cmd

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    db = tmp_path / "xdg" / "opencode" / "opencode.db"
    db.parent.mkdir(parents=True)
    ms = int(time.time() * 1000)
    reply = '{"role":"assistant","modelID":"m","time":{"created":%d,"completed":%d},"tokens":%s}'
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE message (id TEXT, session_id TEXT, time_created INT, data TEXT)")
    rows = [
        ("u1", "O1", 1e999, '{"role":"user","time":{}}'),  # REAL inf
        ("u2", "O1", ms, '{"role":"user","time":{"created":1e999}}'),
        ("r1", "O1", ms, reply % (ms, ms, '{"input":1e999,"output":1e999}')),
        ("r2", "O1", ms, reply % (ms, ms, '{"input":-1e999,"cache":{"read":1e999}}')),
    ]
    conn.executemany("INSERT INTO message VALUES (?, ?, ?, ?)", rows)
    conn.execute("INSERT INTO message VALUES ('u3', 'O1', ?, CAST(x'7b22ff22' AS TEXT))", (ms,))
    conn.execute(
        "INSERT INTO message VALUES ('r3', 'O2', ?, ?)",
        (ms, reply % (ms, ms, '{"input":5,"output":3}')),
    )
    conn.commit()
    conn.close()
    done = subprocess.run(aitally_cmd("run", "--once"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = subprocess.run(aitally_cmd("sessions", "--json"), capture_output=True, text=True)
    by_id = {s["tool_session_id"]: s for s in json.loads(out.stdout)["sessions"]}
    assert by_id["O2"]["tokens"]["input"] == 5 and by_id["O2"]["tokens"]["output"] == 3
    status = json.loads(
        subprocess.run(aitally_cmd("status", "--json"), capture_output=True, text=True).stdout
    )
    assert status["drift"]["opencode"] >= 2 and not status["errors"]
