"""Per-file state saved with the position: named fields, and the previous format still read."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from pathlib import Path, PurePosixPath

from aitally.agent import reports
from aitally.collectors.files.adapters.claude_code import ClaudeCode
from aitally.collectors.files.adapters.opencode import OpenCode
from aitally.collectors.files.state import FileState, Position
from aitally.collectors.files.tailer import Tailer
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store, positions

T = "2026-11-25T10:00:00.000Z"


def test_round_trip_and_empty_state() -> None:
    st = FileState({"cum": [1, None]}, skipping=True, high_water=7, pending=[3])
    assert FileState.from_json(st.to_json()) == st
    assert FileState().to_json() is None
    assert FileState.from_json(None) == FileState()
    assert FileState.from_json("not json") == FileState()
    assert FileState.from_json("[1]") == FileState()


def test_the_previous_format_is_read() -> None:
    line = FileState.from_json('{"a":{"recent":{"m:r":[1,2,null,null]}},"skip":true}')
    assert line == FileState({"recent": {"m:r": [1, 2, None, None]}}, skipping=True)
    db = FileState.from_json('{"a":{"hw":12,"pending":[4,9]}}')
    assert db == FileState({}, high_water=12, pending=[4, 9])


def reply(out: int) -> str:
    msg = {"id": "msg_1", "model": "m", "usage": {"input_tokens": 1, "output_tokens": out}}
    obj = {"type": "assistant", "timestamp": T, "sessionId": "S", "message": msg}
    return json.dumps({**obj, "requestId": "req_1"}) + "\n"


def output(store: Store) -> int:
    return sum((s["tokens"] or {}).get("output") or 0 for s in reports.sessions(store.conn))


def resave_in_previous_format(store: Store) -> None:
    """Rewrites the saved state as the previous version wrote it."""
    (saved,) = positions.load_positions(store.conn)
    st = FileState.from_json(saved.state)
    old: dict[str, object] = {"a": {**st.data, "hw": st.high_water, "pending": st.pending}}
    if st.skipping:
        old["skip"] = True
    with store.transaction() as conn:
        positions.save(conn, [dataclasses.replace(saved, state=json.dumps(old))])


def test_an_upgraded_agent_keeps_a_line_files_state(tmp_path: Path) -> None:
    # A streamed reply's first copy carried placeholder figures; the final copy comes after
    # the upgrade and must add only the difference, which needs the saved figures.
    store = Store(tmp_path / "s.db")
    f = tmp_path / "S.jsonl"
    rel = PurePosixPath("projects", "p", f.name)
    f.write_text(reply(2))
    Tailer(Sessionizer(store), store).process(f, rel, ClaudeCode())
    resave_in_previous_format(store)
    with f.open("a") as fh:
        fh.write(reply(187))
    tailer = Tailer(Sessionizer(store), store)
    assert tailer.positions[str(f)].state.data["recent"] == {"msg_1:req_1": [1, 2, None, None]}
    tailer.process(f, rel, ClaudeCode())
    assert output(store) == 187
    (saved,) = positions.load_positions(store.conn)
    assert saved.state is not None and json.loads(saved.state).keys() == {"data"}


def test_an_upgraded_agent_keeps_a_databases_rowids(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    db = tmp_path / "opencode.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE message (id TEXT, session_id TEXT, time_created INT, data TEXT)")
    ms = int((time.time() - 60) * 1000)
    reply = {"role": "assistant", "time": {"created": ms}, "tokens": {"input": 0}}
    conn.execute("INSERT INTO message VALUES ('r', 'O1', ?, ?)", (ms, json.dumps(reply)))
    conn.commit()
    rel = PurePosixPath("opencode.db")
    Tailer(Sessionizer(store), store).process(db, rel, OpenCode())
    resave_in_previous_format(store)
    tailer = Tailer(Sessionizer(store), store)
    assert tailer.positions[str(db)] == Position(
        "opencode",
        tailer.positions[str(db)].dev,
        tailer.positions[str(db)].ino,
        db.stat().st_size,
        db.stat().st_size,
        db.stat().st_mtime,
        FileState({}, high_water=1, pending=[1]),
    )
    # The pending reply completes after the upgrade: it is read again and counted.
    reply["time"] = {"created": ms, "completed": ms + 5}
    reply["tokens"] = {"input": 7, "output": 3}
    conn.execute("UPDATE message SET data = ?", (json.dumps(reply),))
    conn.commit()
    conn.close()
    tailer.process(db, rel, OpenCode())
    (s,) = reports.sessions(store.conn)
    assert s["tokens"]["input"] == 7 and s["tokens"]["output"] == 3
