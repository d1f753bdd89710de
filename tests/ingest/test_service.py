"""The real service on loopback, SQLite and PostgreSQL: enrollment, batches, limits, errors."""

from __future__ import annotations

import functools
import gzip
import json
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.ingest.builders import batch, record
from tests.ingest.conftest import ADMIN_TOKEN, Server, ingest_cmd
from tests.ingest.test_metrics import samples


def test_enroll_and_revoke(shared_server: Server) -> None:
    s = shared_server
    bad = s.http.post(s.url + "/v1/enroll", json={"enroll_secret": "guess"})
    assert bad.status_code == 401
    device, token = s.enroll("alice-laptop", login="alice", level="identified")
    assert s.post(token, batch([record()])).status_code == 200
    assert s.post("not-a-token", batch([record()])).status_code == 401
    missing = s.http.post(s.url + "/v1/batches", json=batch([]))
    assert missing.status_code == 401 and "Bearer" in missing.headers["WWW-Authenticate"]
    # Only the admin sees devices, never the token nor anything that derives it cheaply.
    assert (
        s.http.get(s.url + "/v1/devices", headers={"Authorization": "Bearer " + token}).status_code
        == 401
    )
    listed = s.admin("GET", "/v1/devices").json()["devices"]
    mine = next(d for d in listed if d["device_id"] == device)
    assert mine["label"] == "alice-laptop" and not mine["revoked"]
    assert token not in json.dumps(listed)
    assert mine["health"]["queue_depth"] == 12 and mine["health"]["parse_errors"] == {"codex": 1}
    assert s.admin("DELETE", f"/v1/devices/{device}").status_code == 204
    assert s.post(token, batch([record()])).status_code == 401
    assert s.admin("DELETE", f"/v1/devices/{device}").status_code == 404


def test_cli_devices_list_and_revoke(shared_server: Server) -> None:
    s = shared_server
    device, token = s.enroll("cli-laptop")
    listed = subprocess.run(
        ingest_cmd("devices", "list", "--db", s.db, "--json"),
        capture_output=True,
        text=True,
        check=True,
    )
    assert device in listed.stdout
    subprocess.run(
        ingest_cmd("devices", "revoke", device, "--db", s.db), check=True, capture_output=True
    )
    assert s.post(token, batch([record()])).status_code == 401
    again = subprocess.run(
        ingest_cmd("devices", "revoke", device, "--db", s.db), capture_output=True, text=True
    )
    assert again.returncode == 2 and again.stderr.count("\n") == 1 and device in again.stderr


def test_duplicate_batch_changes_nothing(shared_server: Server) -> None:
    s = shared_server
    _, token = s.enroll()
    doc = batch([record() for _ in range(20)])
    first = s.post(token, doc).json()
    assert (first["accepted"], first["duplicate"], first["rejected"]) == (20, 0, [])
    for _ in range(2):
        again = s.post(token, doc).json()
        assert (again["accepted"], again["duplicate"]) == (0, 20)
    # The same records in a new batch, plus one new and one repeated inside the batch.
    fresh = record()
    mixed = s.post(token, batch([*doc["records"][:5], fresh, fresh])).json()
    assert (mixed["accepted"], mixed["duplicate"]) == (1, 6)


def test_bad_records_rejected_good_ones_kept(shared_server: Server) -> None:
    s = shared_server
    _, token = s.enroll()
    good = [record(), record()]
    bad: list[Any] = [
        record(tokens={"input": -1}),
        record(project="/home/bob/acme"),
        ["not", "a", "dict"],
    ]
    answer = s.post(token, batch([good[0], *bad, good[1]])).json()
    assert answer["accepted"] == 2 and answer["duplicate"] == 0
    assert [r["index"] for r in answer["rejected"]] == [1, 2, 3]
    assert answer["rejected"][0]["reason"] == "tokens.input: must be an integer >= 0 or null"
    assert answer["rejected"][1]["record_id"] == bad[1]["record_id"]
    # Nothing of what was rejected echoes content back.
    assert "/home/bob" not in json.dumps(answer)
    assert s.post(token, batch(good)).json()["duplicate"] == 2


def test_unstorable_values_are_rejected_not_500(shared_server: Server) -> None:
    s = shared_server
    _, token = s.enroll()
    # Raw JSON: json.dumps cannot write a lone surrogate the way a broken agent can.
    surrogate = json.dumps(batch([record(user="X")])).replace('"X"', '"\\ud800"').encode()
    answer = s.post(token, surrogate)
    assert answer.status_code == 200, answer.text
    assert answer.json()["rejected"][0]["reason"].startswith("user: must be 1..256 printable")
    huge = [record(turns=10**30), record(tokens={"input": 2**62}), record(tokens={"input": 2**62})]
    doc = batch(huge, health={"queue_depth": 2**64})
    answer = s.post(token, doc)
    assert answer.status_code == 200, answer.text
    assert [r["index"] for r in answer.json()["rejected"]] == [0, 1, 2]
    # Reports and the device list still answer for everyone.
    assert s.admin("GET", "/v1/reports/usage?granularity=day").status_code == 200
    assert s.admin("GET", "/v1/devices").status_code == 200


def test_whole_batch_errors(shared_server: Server) -> None:
    s = shared_server
    _, token = s.enroll()
    cases = [
        (b"{not json", {}, 400),
        (b"[]", {}, 400),
        (json.dumps(batch([], schema="aitally.batch.v2")).encode(), {}, 422),
        (json.dumps(batch([record() for _ in range(501)])).encode(), {}, 413),
        (json.dumps(batch([])).encode(), {"Content-Encoding": "br"}, 415),
        (b"\x1f\x8b not really gzip", {"Content-Encoding": "gzip"}, 400),
    ]
    for body, headers, status in cases:
        r = s.post(token, body, **headers)
        assert r.status_code == status, (body[:40], r.text)
        assert r.json()["error"]


def test_a_bad_token_is_answered_401_whatever_its_body(shared_server: Server) -> None:
    """The token is checked in the batch's transaction, after the body is read; its answer
    still comes first, as when the check ran before the body was read."""
    s = shared_server
    device, token = s.enroll()
    assert s.admin("DELETE", f"/v1/devices/{device}").status_code == 204
    bodies = [
        (b"{not json", {}),
        (b" " * ((5 << 20) + 1), {}),  # over the wire cap
        (json.dumps(batch([])).encode(), {"Content-Encoding": "br"}),
        (b"\x1f\x8b not really gzip", {"Content-Encoding": "gzip"}),
    ]
    for bad in ("not-a-token", token):  # unknown, revoked
        for body, headers in bodies:
            r = s.post(bad, body, **headers)
            assert r.status_code == 401, (bad, body[:20], r.text)
            assert r.json()["error"] == "unknown or revoked device token; enroll again"
            assert "Bearer" in r.headers["WWW-Authenticate"]


def _rss(server: Server) -> int:
    return int(psutil.Process(server.proc.pid).memory_info().rss)


@functools.cache
def _bomb() -> bytes:
    """256 MiB of zeros inside a valid envelope prefix: about 256 KiB gzipped."""
    squeezer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [squeezer.compress(b'{"schema":"aitally.batch.v1","batch_id":"x","pad":"')]
    zeros = b"0" * (1 << 20)
    parts += [squeezer.compress(zeros) for _ in range(256)]
    return b"".join([*parts, squeezer.flush()])


def test_gzip_bomb_costs_no_memory(shared_server: Server) -> None:
    s = shared_server
    _, token = s.enroll()
    bomb = _bomb()
    assert len(bomb) < 1 << 20
    before = _rss(s)
    r = s.post(token, bomb, **{"Content-Encoding": "gzip"})
    assert r.status_code == 413 and "decompression" in r.json()["error"]
    # The cap (20 MiB) bounds what is inflated, never the 256 MiB.
    assert _rss(s) - before < 120 << 20
    # Just under the cap decompressed is fine.
    ok = gzip.compress(json.dumps(batch([record()])).encode())
    assert s.post(token, ok, **{"Content-Encoding": "gzip"}).json()["accepted"] == 1


def test_oversized_and_chunked_bodies(shared_server: Server) -> None:
    s = shared_server
    _, token = s.enroll()
    big = b" " * ((5 << 20) + 1)
    assert s.post(token, big).status_code == 413  # refused on Content-Length

    def chunks(data: bytes, size: int = 65536) -> Iterator[bytes]:
        for i in range(0, len(data), size):
            yield data[i : i + size]

    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    # A chunked body carries no length: the server counts while reading.
    r = s.http.post(s.url + "/v1/batches", data=chunks(big), headers=headers)
    assert r.status_code == 413
    good = json.dumps(batch([record() for _ in range(50)])).encode()
    r = s.http.post(s.url + "/v1/batches", data=chunks(good, 1000), headers=headers)
    assert r.status_code == 200 and r.json()["accepted"] == 50


def test_health_and_metrics(shared_server: Server) -> None:
    s = shared_server
    assert s.http.get(s.url + "/healthz").json()["status"] == "ok"
    _, token = s.enroll()
    s.post(token, batch([record(), record(turns=-1)]))
    r = s.http.get(s.url + "/metrics")
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    got = samples(r.text)
    assert "# TYPE aitally_ingest_requests_total counter" in r.text
    assert got[("aitally_ingest_requests_total", (("route", "/v1/batches"), ("status", "200")))]
    assert got[("aitally_ingest_records_total", (("result", "rejected"),))] >= 1
    assert got[("aitally_ingest_rejects_total", (("field", "turns"),))] >= 1
    inf = (("le", "+Inf"), ("route", "/v1/batches"))
    assert got[("aitally_ingest_request_duration_seconds_bucket", inf)] >= 1


def test_structured_logs(shared_server: Server) -> None:
    lines = [json.loads(x) for x in shared_server.log.read_text().splitlines() if x.strip()]
    requests_logged = [x for x in lines if x.get("event") == "request"]
    assert requests_logged and {"ts", "level", "route", "status", "ms"} <= requests_logged[0].keys()
    assert ADMIN_TOKEN not in shared_server.log.read_text()


def test_device_over_its_rate_gets_429(tmp_path: Path) -> None:
    server = Server(
        f"sqlite:///{tmp_path / 'r.db'}", tmp_path, "--device-rate", "0.5", "--device-burst", "2"
    )
    try:
        _, token = server.enroll()
        codes = [server.post(token, batch([record()])) for _ in range(3)]
        assert [c.status_code for c in codes] == [200, 200, 429]
        assert int(codes[2].headers["Retry-After"]) >= 1
        # Over its rate, a device's batch is refused before its body is looked at.
        assert server.post(token, b"{not json").status_code == 429
        _, other = server.enroll()  # another device has its own budget
        assert server.post(other, batch([record()])).status_code == 200
    finally:
        server.stop()


def test_overload_gets_503(tmp_path: Path) -> None:
    server = Server(f"sqlite:///{tmp_path / 'o.db'}", tmp_path, "--max-inflight", "1")
    try:
        _, token = server.enroll()
        import concurrent.futures as cf

        doc = json.dumps(batch([record() for _ in range(500)])).encode()
        with cf.ThreadPoolExecutor(8) as pool:
            codes = list(pool.map(lambda _: server.post(token, doc), range(16)))
        statuses = {c.status_code for c in codes}
        assert statuses <= {200, 503} and 200 in statuses
        if 503 in statuses:
            assert next(c for c in codes if c.status_code == 503).headers["Retry-After"]
    finally:
        server.stop()


def test_bad_db_url_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        ingest_cmd("migrate", "--db", "postgresql://nobody@127.0.0.1:1/x"),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("aitally-ingest: cannot connect to PostgreSQL")


@pytest.mark.parametrize("args", [["serve"], ["report", "adoption", "--granularity", "year"]])
def test_cli_usage_errors(args: list[str]) -> None:
    done = subprocess.run(ingest_cmd(*args), capture_output=True, text=True, env={})
    assert done.returncode == 2 and done.stderr.count("\n") == 1
