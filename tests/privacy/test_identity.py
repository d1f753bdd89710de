"""Attacks on who a record counts for: forged identities, sybils, pseudonym dictionaries.

Each test is an attack a works council or a red team would try against the real service
(SQLite and PostgreSQL); each must fail to isolate or misattribute one person's figures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path

from tests.ingest.builders import record
from tests.ingest.conftest import ENROLL_SECRET, PSEUDONYM_KEYS, Server
from tests.privacy.conftest import query

YESTERDAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
VICTIM_SECONDS = 4321.0


def _usage_day(server: Server) -> list[dict[str, object]]:
    r = server.admin("GET", f"/v1/reports/usage?granularity=day&since={YESTERDAY}")
    assert r.status_code == 200, r.text
    return list(r.json()["rows"])


def test_one_device_posting_fake_people_cannot_unsuppress_a_colleague(fresh_server: Server) -> None:
    # The victim works alone on codex that day. The attacker's one enrolled device posts
    # records claiming four other users at 1 s each: before, the group reached 5 people
    # and the victim's exact seconds were the shown total minus 4.
    fresh_server.post_as("victim", [record(day=YESTERDAY, tool="codex", active=VICTIM_SECONDS)])
    fakes = [
        record(day=YESTERDAY, tool="codex", active=1.0, user=f"hmac:k1:{i:032x}", org_unit="x")
        for i in range(4)
    ]
    fresh_server.post_as("mallory", fakes)
    rows = _usage_day(fresh_server)
    assert not rows, f"a group of 2 real people was shown: {rows}"
    people = {r[0] for r in query(fresh_server.db, "SELECT DISTINCT person FROM records")}
    assert len(people) == 2  # the claimed users were not believed


def test_records_cannot_pose_as_a_named_colleague(fresh_server: Server) -> None:
    fresh_server.post_as("alice", [record(day=YESTERDAY)], level="identified")
    forged = [record(day=YESTERDAY, user="alice", device="alice-laptop", org_unit="board")]
    fresh_server.post_as("mallory", forged, org_unit="eng", level="identified")
    stored = query(fresh_server.db, "SELECT user_id, org_unit FROM records ORDER BY user_id")
    assert stored == [("alice", "eng"), ("mallory", "eng")]


def test_a_login_on_a_new_device_is_the_same_person(fresh_server: Server) -> None:
    for label in ("laptop", "desktop", "vm"):
        _, token = fresh_server.enroll(label=label, login="bob")
        from tests.ingest.builders import batch

        assert fresh_server.post(token, batch([record(day=YESTERDAY)])).status_code == 200
    assert len(query(fresh_server.db, "SELECT DISTINCT person FROM records")) == 1


def test_sybil_enrollments_are_capped_per_login_and_throttled_per_source(
    fresh_server: Server, tmp_path: Path
) -> None:
    answers = [fresh_server.enroll_raw(login="carol").status_code for _ in range(6)]
    assert answers == [200] * 5 + [403]
    throttled = Server(fresh_server.db, tmp_path, "--enroll-burst", "3", "--enroll-rate", "0.001")
    try:
        codes = [throttled.enroll_raw(login=f"sybil{i}").status_code for i in range(5)]
        assert codes[:3] == [200] * 3 and codes[3:] == [429, 429]
        assert "Retry-After" in throttled.enroll_raw(login="sybil9").headers
    finally:
        throttled.stop()


def test_pseudonyms_resist_a_dictionary_attack_from_a_laptops_files(fresh_server: Server) -> None:
    # Everything a laptop holds: the managed policy's org key (world-readable 0644 before)
    # and what its agent sends. Before, the stored user was HMAC(org_key, login): hashing a
    # list of the company's logins with that key named everyone.
    org_key = b"k3y-from-etc-aitally-managed-toml"
    logins = [f"user{i:05d}" for i in range(2000)] + ["dave"]

    def laptop_pseudonym(login: str) -> str:
        digest = hmac.new(org_key, f"user\x1f{login}".encode(), hashlib.sha256).hexdigest()
        return f"hmac:default:{digest[:32]}"

    fresh_server.post_as("dave", [record(day=YESTERDAY, user=laptop_pseudonym("dave"))])
    stored = {
        p for row in query(fresh_server.db, "SELECT person, user_id FROM records") for p in row
    }
    guesses = {laptop_pseudonym(login) for login in logins} | set(logins)
    assert not stored & guesses, "a laptop's key or a login list names a stored person"
    # The server's pseudonym is keyed with a secret only the ingest holds.
    server_key = PSEUDONYM_KEYS.split(":", 1)[1].encode()
    digest = hmac.new(server_key, b"user\x1fdave", hashlib.sha256).hexdigest()
    assert f"hmac:k1:{digest[:32]}" in stored
    assert not query(fresh_server.db, "SELECT 1 FROM devices WHERE person = 'dave'")


def test_anonymous_records_are_not_linked_to_their_enrollment(fresh_server: Server) -> None:
    device, token = fresh_server.enroll(login="erin", level="anonymous")
    from tests.ingest.builders import batch

    assert fresh_server.post(token, batch([record(day=YESTERDAY, user=None)])).status_code == 200
    rows = query(fresh_server.db, "SELECT device_id, batch_id, received_at, user_id FROM records")
    (owner, batch_id, received_at, user), *_ = rows
    assert owner != device and batch_id == "" and user is None
    assert float(received_at) % 86400 == 0  # arrival coarsened to the day
    enrolled = query(fresh_server.db, "SELECT person FROM devices")[0][0]
    assert enrolled not in {r[0] for r in query(fresh_server.db, "SELECT person FROM records")}


def test_admin_token_guessing_is_throttled(shared_server: Server) -> None:
    r = None
    for i in range(12):
        r = shared_server.http.get(
            shared_server.url + "/v1/devices", headers={"Authorization": f"Bearer guess{i}"}
        )
    assert r is not None and r.status_code == 429 and r.headers["Retry-After"]


def test_weak_or_shared_secrets_are_refused_at_start(tmp_path: Path) -> None:
    import subprocess

    from tests.ingest.conftest import ingest_cmd

    for enroll_secret, admin in (("short", "a-long-enough-admin-token"), (ENROLL_SECRET,) * 2):
        env = {
            "PATH": "/usr/bin:/bin",
            "AITALLY_INGEST_ENROLL_SECRET": enroll_secret,
            "AITALLY_INGEST_ADMIN_TOKEN": admin,
            "AITALLY_INGEST_PSEUDONYM_KEYS": PSEUDONYM_KEYS,
        }
        done = subprocess.run(
            ingest_cmd("serve", "--db", f"sqlite:///{tmp_path / 'w.db'}", "--port", "0"),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2 and "AITALLY_INGEST_" in done.stderr
