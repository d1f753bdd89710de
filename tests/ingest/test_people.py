"""Erasure, audit, retention and key rotation through the real service and CLI."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

from tests.ingest.builders import batch, record
from tests.ingest.conftest import Server, ingest_cmd
from tests.privacy.conftest import query

YESTERDAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


def test_erase_by_login_audit_and_purge(fresh_server: Server) -> None:
    _, token = fresh_server.enroll(login="alice")
    old = YESTERDAY - dt.timedelta(days=120)
    assert fresh_server.post(token, batch([record(day=YESTERDAY), record(day=old)])).ok
    fresh_server.post_as("bob", [record(day=YESTERDAY)])
    assert fresh_server.admin("GET", "/v1/reports/usage").ok
    bad = fresh_server.admin("POST", "/v1/erase", json={})
    assert bad.status_code == 400 and bad.json()["error"].startswith("login")
    erased = fresh_server.admin("POST", "/v1/erase", json={"login": "alice"})
    assert erased.json() == {"erased": 2}
    assert fresh_server.post(token, batch([record(day=YESTERDAY)])).status_code == 401
    assert len(query(fresh_server.db, "SELECT person FROM records")) == 1  # bob's
    entries = fresh_server.admin("GET", "/v1/audit").json()["entries"]
    actions = [e["action"] for e in entries]
    assert "report.usage" in actions and "erase" in actions
    # The service's own retention runs at start; every other line names the admin's source.
    assert all(e["actor"].startswith("admin@") for e in entries if e["actor"] != "retention")
    assert "alice" not in json.dumps(entries)  # the audit names the pseudonym only
    purge = subprocess.run(
        ingest_cmd("purge", "--db", fresh_server.db, "--months", "1"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert purge.stdout.startswith("deleted 0 records")  # alice's old record was erased
    lines = subprocess.run(
        ingest_cmd("audit", "--db", fresh_server.db), capture_output=True, text=True, check=True
    ).stdout.splitlines()
    # Reading the audit log is itself audited.
    assert [json.loads(line)["action"] for line in lines[-2:]] == ["retention.purge", "audit.read"]


def test_key_rotation_keeps_a_person_whole(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("k1:" + "a" * 40 + "\n")
    keys.chmod(0o600)
    db = f"sqlite:///{tmp_path / 'r.db'}"
    server = Server(db, tmp_path, "--pseudonym-key-file", str(keys))
    try:
        server.post_as("bob", [record(day=YESTERDAY)])
    finally:
        server.stop()
    keys.write_text("k2:" + "b" * 40 + "\nk1:" + "a" * 40 + "\n")
    server = Server(db, tmp_path, "--pseudonym-key-file", str(keys))
    try:
        server.post_as("bob", [record(day=YESTERDAY)])
    finally:
        server.stop()
    people = {r[0] for r in query(db, "SELECT person FROM records")}
    assert len(people) == 1 and next(iter(people)).startswith("hmac:k2:")
    keys.chmod(0o644)
    done = subprocess.run(
        ingest_cmd("serve", "--db", db, "--pseudonym-key-file", str(keys)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "chmod 600" in done.stderr
