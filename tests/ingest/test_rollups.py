"""The report rollups (ingest/rollups.py) always equal a rebuild from the records: kept by each
insert (once per record, pauses left out), by erasure, retention and a person's re-keying, on
SQLite and PostgreSQL; built by the migration for a database that already holds records."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

from aitally.ingest.migrations import render, statements
from aitally.ingest.rollups import FIGURES, TOKENS, delete_statements, upsert_statements
from aitally.ingest.storage import open_storage
from tests.ingest.builders import batch, record
from tests.ingest.conftest import Server
from tests.privacy.conftest import query

DAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=3)
_DAYS = f"SELECT person, day, tool, org_unit, {', '.join(FIGURES)} FROM person_days"
_MODELS = f"SELECT person, day, tool, model, {', '.join(TOKENS)} FROM person_day_models"


def rollups(db: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Both rollups' rows, sorted, figures rounded (float sums may differ in the last bit)."""

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return sorted(
            tuple(round(float(v), 6) if isinstance(v, float) else v for v in r)
            for r in query(db, sql)
        )

    return rows(_DAYS), rows(_MODELS)


def rebuilt(db: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rollups as the migration builds them from the records now stored."""
    storage = open_storage(db)
    try:
        with storage.transaction() as cur:
            for stmt in [*delete_statements("1 = 1"), *upsert_statements("1 = 1")]:
                cur.execute(stmt)
    finally:
        storage.close()
    return rollups(db)


def test_rollups_follow_inserts_erasure_retention_and_rekeying(fresh_server: Server) -> None:
    s = fresh_server
    _, ada = s.enroll(login="ada", org_unit="eng")
    _, bo = s.enroll(login="bo", org_unit="ops")
    first = [
        record(
            day=DAY, active=600, outcomes={"edits_accepted": 3, "commands_run": 1, "commits": 1}
        ),
        record(day=DAY, tool="codex", model="gpt-5", active=100),
        record(day=DAY, kind="pause", active=0),
        record(day=DAY - dt.timedelta(days=1), active=0, turns=0, n_tokens=0),  # presence only
    ]
    assert s.post(ada, batch(first)).json()["accepted"] == 4
    later = record(day=DAY, active=900, outcomes={"lines_added": 40})
    assert s.post(ada, batch([later, *first])).json()["accepted"] == 1  # the rest: duplicates
    assert s.post(bo, batch([record(day=DAY, tool="cursor", model="gpt-5")])).json()["accepted"]
    days, models = rollups(s.db)
    assert (days, models) == rebuilt(s.db)
    claude = [r for r in days if r[1] == DAY.isoformat() and r[2] == "claude-code"]
    assert len(claude) == 1 and claude[0][4] == 1500.0  # two records, added once each
    figures = dict(zip(FIGURES, claude[0][4:], strict=True))
    assert figures["active_records"] == 2 and figures["agentic_segments"] == 1
    assert figures["lines_kept"] == 40 and figures["edits_accepted"] == 3
    assert len({r[0] for r in days}) == 2 and len(days) == 4  # pause: no row of its own

    assert s.admin("POST", "/v1/erase", json={"login": "bo"}).status_code == 200
    after_erase = rollups(s.db)
    assert after_erase == rebuilt(s.db)
    assert len({r[0] for r in after_erase[0]}) == 1
    assert all(r[2] != "cursor" for r in after_erase[0])

    storage = open_storage(s.db)
    try:
        ada_key = after_erase[0][0][0]
        storage.rename_person([(ada_key, "hmac:k2:" + "0" * 32)])
        renamed = rollups(s.db)
        assert {r[0] for r in renamed[0]} == {"hmac:k2:" + "0" * 32}
        assert renamed == rebuilt(s.db)
        storage.purge_before(DAY.isoformat())
        purged = rollups(s.db)
        assert purged == rebuilt(s.db)
        assert {r[1] for r in purged[0]} == {DAY.isoformat()}
    finally:
        storage.close()


def test_migration_builds_rollups_of_records_already_stored(tmp_path: Path) -> None:
    path = tmp_path / "v4.db"
    conn = sqlite3.connect(path)
    for version, script in enumerate(render("sqlite")[:4], start=1):
        conn.executescript(";\n".join(statements(script)) + ";")
        if version == 1:
            conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    for rid, kind, seconds in (("r1", "segment", 60), ("r2", "segment", 30), ("r3", "pause", 99)):
        conn.execute(
            "INSERT INTO records (record_id, device_id, batch_id, received_at, kind, tool, "
            "started_at, ended_at, day, active_seconds, present_seconds, turns, sessions, "
            "signals, person, org_unit, out_commands_run) VALUES (?, 'd1', 'b1', 0, ?, 'codex', "
            "0, 0, '2026-11-02', ?, 60, 1, 1, '', 'p1', NULL, 2)",
            (rid, kind, seconds),
        )
    conn.execute("INSERT INTO record_models VALUES ('r1', 'gpt-5', 10, 5, NULL, NULL, NULL)")
    conn.commit()
    conn.close()
    open_storage(f"sqlite://{path}").close()
    db = f"sqlite:///{path}"
    days, models = rollups(db)
    assert [r[:5] for r in days] == [("p1", "2026-11-02", "codex", "", 90.0)]
    assert dict(zip(FIGURES, days[0][4:], strict=True))["commands_run"] == 4
    assert models == [("p1", "2026-11-02", "codex", "gpt-5", 10, 5, 0, 0, 0)]


def test_migration_6_refills_person_days_from_the_records(tmp_path: Path) -> None:
    # A database at version 5 summed lines of records without active time too: migration 6
    # rebuilds person_days from the records with the current sums.
    path = tmp_path / "v5.db"
    db = f"sqlite:///{path}"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    for version, script in enumerate(render("sqlite")[:5], start=1):
        for stmt in statements(script):
            conn.execute(stmt)
        conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
    conn.execute(
        "INSERT INTO records (record_id, device_id, batch_id, received_at, kind, tool, "
        "started_at, ended_at, day, active_seconds, present_seconds, turns, sessions, "
        "signals, person, org_unit, out_lines_accepted) VALUES (?, 'd1', 'b1', 0, 'segment', "
        "'cursor', 0, 0, '2026-11-02', ?, 60, 0, 1, '', 'p1', NULL, ?)",
        ("r1", 0.0, 100),
    )
    conn.execute(
        "INSERT INTO person_days (person, day, tool, org_unit, "
        f"{', '.join(FIGURES)}) VALUES ('p1', '2026-11-02', 'cursor', '', "
        f"{', '.join('100' if f == 'lines_kept' else '0' for f in FIGURES)})"
    )
    conn.commit()
    conn.close()
    open_storage(db).close()
    days, _ = rollups(db)
    assert [dict(zip(FIGURES, r[4:], strict=True))["lines_kept"] for r in days] == [0]
    assert rollups(db) == rebuilt(db)
