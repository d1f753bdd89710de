"""Privacy levels shape every identifying field; preview shows the exact body; no content leaves."""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest

from aitally.uploader import policy, sinks
from aitally.uploader.delivery import Delivery
from aitally.uploader.preview import next_body
from tests.conftest import aitally_cmd
from tests.uploader.helpers import make_segments, open_store, receiver, upload_config, write_config

CANARY = "CANARY-7f3e-project-secret-name"


def body_for(level: str, extra: str = "") -> dict[str, Any]:
    cfg = write_config(f'[privacy]\nlevel = "{level}"\n{extra}')
    store = open_store()
    make_segments(store, 2, project=f"/home/alice/{CANARY}")
    raw, _ = next_body(cfg, store)
    assert CANARY.encode() not in raw
    data: dict[str, Any] = json.loads(raw)
    return data


def test_pseudonymous_sends_no_identity_and_hashes_projects():
    # The ingest makes the pseudonym from the enrollment with a key only it holds: nothing
    # the laptop sends or stores names the person (docs/privacy.md).
    batch = body_for("pseudonymous", 'org_key = "s3cret"\norg_key_id = "k2026"')
    rec = batch["records"][0]
    assert rec["user"] is None and rec["device"] is None
    assert rec["privacy_level"] == "pseudonymous"
    assert rec["project"].startswith("hmac:k2026:") and len(rec["project"].split(":")[2]) == 32
    assert rec["started_at"].endswith(":00Z") and rec["ended_at"] >= rec["started_at"]
    assert rec["tokens"] == {
        "input": 10,
        "output": 20,
        "cache_read": 30,
        "cache_write": 40,
        "reasoning": None,
    }


def test_same_org_key_gives_the_same_project_on_another_laptop(tmp_path, monkeypatch):
    a = body_for("pseudonymous", 'org_key = "s3cret"')["records"][0]
    monkeypatch.setenv("AITALLY_DATA_DIR", str(tmp_path / "laptop2"))
    b = body_for("pseudonymous", 'org_key = "s3cret"')["records"][0]
    assert a["project"] == b["project"] and a["user"] is None is b["user"]


def test_without_org_key_a_per_install_key_is_used():
    rec = body_for("pseudonymous")["records"][0]
    assert rec["project"].startswith("hmac:local-")


def test_identified_sends_login_and_hostname_but_still_hashes_projects():
    import getpass
    import socket

    rec = body_for("identified")["records"][0]
    assert rec["user"] == getpass.getuser() and rec["device"] == socket.gethostname()
    assert rec["project"].startswith("hmac:")


def test_anonymous_has_no_people_and_day_rounded_times():
    rec = body_for("anonymous")["records"][0]
    assert rec["user"] is None and rec["device"] is None
    assert rec["started_at"].endswith("T00:00:00Z") and rec["ended_at"].endswith("T00:00:00Z")


def test_aggregate_sends_daily_totals_of_completed_days_only():
    cfg = write_config('[privacy]\nlevel = "aggregate"')
    store = open_store()
    day = 86400
    yesterday = (time.time() // day - 1) * day + 3600
    make_segments(store, 3, start=yesterday)
    make_segments(store, 2)  # today (or late yesterday): maybe not complete
    batch = json.loads(next_body(cfg, store)[0])
    totals = [r for r in batch["records"] if r["kind"] == "daily_total"]
    assert all(r["kind"] == "daily_total" for r in batch["records"])
    assert sum(r["sessions"] for r in totals) >= 3
    first = totals[0]
    assert first["user"] is None and first["project"] is None
    assert first["tokens"]["input"] == 10 * first["sessions"]
    assert first["started_at"].endswith("T00:00:00Z")


def test_ended_pause_is_reported_once():
    cfg = write_config("")
    store = open_store()
    now = time.time()
    store.conn.execute("INSERT INTO pauses(started_at, ended_at) VALUES (?, ?)", (now - 600, now))
    store.conn.execute("INSERT INTO pauses(started_at, ends_at) VALUES (?, ?)", (now, now + 999))
    for _ in range(2):
        pauses = [
            r for r in json.loads(next_body(cfg, store)[0])["records"] if r["kind"] == "pause"
        ]
        assert len(pauses) == 1 and pauses[0]["tool"] == "aitally"


@pytest.mark.parametrize("level", ["pseudonymous", "anonymous"])
def test_preview_json_is_byte_for_byte_what_the_sender_posts(level):
    with receiver() as server:
        cfg = upload_config(server.url, f'[privacy]\nlevel = "{level}"')
        store = open_store()
        make_segments(store, 4, project=CANARY)
        shown = subprocess.run(
            aitally_cmd("preview", "--json"), capture_output=True, check=True, timeout=60
        ).stdout
        Delivery(cfg, store, sinks.make_sinks(cfg)).run()
        sent = server.bodies[0]
        sent_at = json.loads(sent)["sent_at"]
        shown_at = json.loads(shown)["sent_at"]
        assert shown.rstrip(b"\n").replace(shown_at.encode(), sent_at.encode()) == sent
        assert CANARY.encode() not in sent


def test_policy_rounding_never_inverts_an_interval():
    cfg = write_config("")
    store = open_store()
    pol = policy.load(cfg, store.conn)
    t = 1_700_000_030.0
    assert pol.round_start(t) <= t <= pol.round_end(t)
