"""Storage on SQLite and PostgreSQL: outcome counts stored once, NULL where not sent; an
upload's token lookup and batch on one connection (one transaction on PostgreSQL)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from aitally.core.wire import OUTCOME_KINDS
from aitally.ingest.auth import new_device, token_hash
from aitally.ingest.identity import Enrollment, KeyRing, attribute, owner_tags
from aitally.ingest.migrations import render, statements
from aitally.ingest.storage import BATCH_DEADLINE, OUTCOME_COLUMNS, StorageBusy, open_storage
from aitally.ingest.wire import parse_batch
from tests.ingest.builders import batch, record
from tests.ingest.conftest import PgCluster, Server
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


def _upload_one(db: str, revoke: bool = False) -> tuple[list[Any], list[Any], int]:
    """One upload through Storage.upload: the transactions open on db right after the token
    lookup and right after the store (pg_stat_activity's xact_start), and records stored."""
    storage = open_storage(db)
    try:
        device_id, token = new_device()
        who = Enrollment(device_id, f"enrolled:{device_id}", "pseudonymous", "eng", None)
        storage.enroll(who, token_hash(token), "t", "0.1", time.time())
        if revoke:
            storage.revoke(device_id, time.time())
        now = time.time()
        parsed = parse_batch(batch([record(), record()]), now)
        keys = KeyRing((("k1", b"s" * 40),))
        who_of = [attribute(keys, who, "pseudonymous", parsed.batch_id, now)] * 2
        with storage.upload(token_hash(token)) as upload:
            if upload.device is None:
                return [], [], _records(db)
            assert upload.device.device_id == device_id
            after_lookup = _open_transactions(db)
            stored = upload.store(parsed, who_of, owner_tags(keys, device_id), now)
            assert stored.accepted == 2
            after_store = _open_transactions(db)
        assert not _open_transactions(db)
        return after_lookup, after_store, _records(db)
    finally:
        storage.close()


def _records(db: str) -> int:
    return int(query(db, "SELECT COUNT(*) FROM records")[0][0])


def _open_transactions(db: str) -> list[Any]:
    if not db.startswith("postgresql://"):
        return []
    return query(
        db,
        "SELECT xact_start FROM pg_stat_activity "
        "WHERE datname = current_database() AND state = 'idle in transaction'",
    )


@pytest.mark.postgres
def test_upload_checks_the_token_in_the_batch_transaction(pg_cluster: PgCluster) -> None:
    db = pg_cluster.new_database()
    after_lookup, after_store, stored = _upload_one(db)
    # One transaction from the token lookup to the last insert (bench/README.md, Fleet).
    assert len(after_lookup) == 1 and after_store == after_lookup
    assert stored == 2


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_upload_of_a_revoked_token_finds_no_device(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "postgres":
        db = request.getfixturevalue("pg_cluster").new_database()
    else:
        db = f"sqlite:///{tmp_path / 'u.db'}"
    assert _upload_one(db, revoke=True)[2] == 0
    assert _upload_one(db)[2] == 2  # the same path stores on SQLite too


def test_a_batch_stored_past_its_deadline_is_rolled_back(tmp_path: Path) -> None:
    """The report cache's change detection counts on BATCH_DEADLINE (report_refresh)."""
    storage = open_storage(f"sqlite:///{tmp_path / 'late.db'}")
    try:
        device_id, token = new_device()
        who = Enrollment(device_id, f"enrolled:{device_id}", "pseudonymous", "eng", None)
        storage.enroll(who, token_hash(token), "t", "0.1", time.time())
        keys = KeyRing((("k1", b"s" * 40),))
        received = time.time() - BATCH_DEADLINE - 1  # as if it waited that long for the lock
        parsed = parse_batch(batch([record()]), received)
        who_of = [attribute(keys, who, "pseudonymous", parsed.batch_id, received)]
        with pytest.raises(StorageBusy, match="waited over"):
            storage.store_batch(device_id, parsed, who_of, owner_tags(keys, device_id), received)
        assert storage.received_days(0.0) == {}
        now = time.time()
        storage.store_batch(device_id, parsed, who_of, owner_tags(keys, device_id), now)
        assert storage.received_days(0.0)
    finally:
        storage.close()
