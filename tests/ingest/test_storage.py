"""Storage of outcome counts on SQLite and PostgreSQL: stored once, NULL where not sent."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from aitally.core.wire import OUTCOME_KINDS
from aitally.ingest.migrations import render, statements
from aitally.ingest.storage import OUTCOME_COLUMNS, open_storage
from tests.ingest.builders import batch, record
from tests.ingest.conftest import Server
from tests.privacy.conftest import query

COLUMNS = ", ".join(OUTCOME_COLUMNS)


def test_outcomes_stored_once_and_absent_as_null(fresh_server: Server) -> None:
    s = fresh_server
    _, token = s.enroll(login="ada")
    counts = {kind: i + 1 for i, kind in enumerate(OUTCOME_KINDS)}
    with_outcomes = record(outcomes=counts)
    partial = record(outcomes={"commands_run": 4, "commands_failed": 1})
    older_agent = record()
    body = batch([with_outcomes, partial, older_agent])
    assert s.post(token, body).json()["accepted"] == 3
    # Resent with other counts under the same ids: duplicates, nothing changes.
    again = [dict(r, outcomes={"commits": 99}) for r in (with_outcomes, partial, older_agent)]
    answer = s.post(token, batch(again)).json()
    assert answer["accepted"] == 0 and answer["duplicate"] == 3
    sql = f"SELECT record_id, {COLUMNS} FROM records"
    rows = {r[0]: r[1:] for r in query(s.db, sql)}
    assert rows[with_outcomes["record_id"]] == tuple(range(1, len(OUTCOME_KINDS) + 1))
    expected = tuple(4 if k == "commands_run" else 1 if k == "commands_failed" else None
                     for k in OUTCOME_KINDS)  # fmt: skip
    assert rows[partial["record_id"]] == expected
    assert rows[older_agent["record_id"]] == (None,) * len(OUTCOME_KINDS)


def test_unknown_outcome_key_rejects_that_record_only(fresh_server: Server) -> None:
    s = fresh_server
    _, token = s.enroll(login="bo")
    good, bad = record(outcomes={"commits": 1}), record(outcomes={"commit": 1})
    answer = s.post(token, batch([good, bad]))
    assert answer.status_code == 200
    doc = answer.json()
    assert doc["accepted"] == 1 and [r["index"] for r in doc["rejected"]] == [1]
    assert doc["rejected"][0]["reason"].startswith("outcomes: unknown key; use only ")


def test_migration_adds_outcome_columns_to_an_older_database(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    conn = sqlite3.connect(path)
    older = render("sqlite")[:3]
    for version, script in enumerate(older, start=1):
        conn.executescript(";\n".join(statements(script)) + ";")
        if version == 1:
            conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    conn.execute(
        "INSERT INTO records (record_id, device_id, batch_id, received_at, kind, tool, "
        "started_at, ended_at, day, active_seconds, present_seconds, turns, sessions, signals, "
        "person) VALUES ('r1', 'd1', 'b1', 0, 'segment', 'codex', 0, 0, '2026-11-02', 60, 60, "
        "1, 1, '', 'p1')"
    )
    conn.commit()
    conn.close()
    storage = open_storage(f"sqlite://{path}")
    try:
        assert storage.migrate() == len(render("sqlite"))
    finally:
        storage.close()
    rows = query(f"sqlite:///{path}", f"SELECT record_id, {COLUMNS} FROM records")
    assert rows == [("r1", *[None] * len(OUTCOME_KINDS))]
