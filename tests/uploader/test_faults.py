"""Fault injection: after each scripted misbehaviour the receiver holds every record once."""

from __future__ import annotations

import email.utils
import ssl
import time
from typing import Any

import pytest

from aitally.uploader import retry, sinks
from aitally.uploader.delivery import Delivery
from tests.uploader.helpers import (
    Receiver,
    make_segments,
    open_store,
    receiver,
    self_signed,
    upload_config,
)


def drain(cfg, store, limit: float = 10.0) -> list[str]:
    """Runs passes as the agent would (honouring waits) until the outbox is empty."""
    outcomes: list[str] = []
    deadline = time.monotonic() + limit
    while store.conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]:
        assert time.monotonic() < deadline, f"not drained: {outcomes}"
        result = Delivery(cfg, store, sinks.make_sinks(cfg)).run()
        outcomes.append(result.outcome)
        if result.outcome == "waiting":
            time.sleep(min(result.wait, 0.5))
    return outcomes


def exactly_once(server: Receiver, ids: list[str]) -> None:
    assert sorted(server.records) == sorted(ids)


SCRIPTS: dict[str, list[Any]] = {
    "429": [("status", 429, {})],
    "500": [("status", 500, {})] * 2,
    "502": [("status", 502, {})],
    "503": [("status", 503, {})],
    "504": [("status", 504, {})],
    "timeout": ["timeout"],
    "trickle": ["trickle"],
    "reset_after_commit": ["reset_after_commit"],
    "captive_portal_html": ["html200"],
    "redirect": [("status", 302, {"Location": "http://127.0.0.1:1/login"})],
    "mixed": [("status", 503, {}), "reset_after_commit", "html200", ("status", 429, {})],
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_script_delivers_every_record_once(name):
    with receiver() as server:
        cfg = upload_config(server.url, "batch_max_records = 7")
        store = open_store()
        ids = make_segments(store, 20)
        server.script = list(SCRIPTS[name])
        outcomes = drain(cfg, store)
        exactly_once(server, ids)
        assert "retry" in outcomes, outcomes
        state = retry.load(store)
        assert state.failures == 0 and state.last_success


def test_retry_after_seconds_is_a_minimum_kept_as_wall_clock():
    with receiver() as server:
        cfg = upload_config(server.url)
        store = open_store()
        ids = make_segments(store, 3)
        server.script = [("status", 429, {"Retry-After": "2"})]
        first = Delivery(cfg, store, sinks.make_sinks(cfg)).run()
        assert first.outcome == "retry"
        state = retry.load(store)
        assert state.from_server and 1.5 < state.not_before - time.time() <= 2.1
        # Even a person's `aitally upload` honours the server's wait.
        again = Delivery(cfg, store, sinks.make_sinks(cfg)).run(force=True)
        assert again.outcome == "waiting" and server.requests == 1
        drain(cfg, store)
        exactly_once(server, ids)


def test_retry_after_http_date():
    with receiver() as server:
        cfg = upload_config(server.url)
        store = open_store()
        ids = make_segments(store, 3)
        when = email.utils.formatdate(time.time() + 2, usegmt=True)
        server.script = [("status", 503, {"Retry-After": when})]
        Delivery(cfg, store, sinks.make_sinks(cfg)).run()
        assert retry.load(store).not_before - time.time() > 0.5
        drain(cfg, store)
        exactly_once(server, ids)


def test_413_splits_until_batches_fit():
    with receiver() as server:
        cfg = upload_config(server.url)
        store = open_store()
        ids = make_segments(store, 10)
        server.max_records = 3
        assert drain(cfg, store) == ["done"]
        exactly_once(server, ids)
        assert not store.conn.execute("SELECT COUNT(*) FROM dead_letter").fetchone()[0]


@pytest.mark.parametrize("whole_batch", [False, True])
def test_poison_record_is_dead_lettered_and_blocks_nothing(whole_batch):
    with receiver() as server:
        cfg = upload_config(server.url)
        store = open_store()
        ids = make_segments(store, 9)
        server.poison = {ids[4]}
        server.poison_whole_batch = whole_batch
        drain(cfg, store)
        exactly_once(server, [i for i in ids if i != ids[4]])
        dead = [r[0] for r in store.conn.execute("SELECT record_id FROM dead_letter")]
        assert dead == [ids[4]]
        assert store.counters("dead_letter") == {"rejected": 1}


def test_a_server_refusing_every_record_loses_none():
    # A proxy or broken server answering 400 to everything must not dead-letter the queue.
    with receiver() as server:
        cfg = upload_config(server.url)
        store = open_store()
        ids = make_segments(store, 6)
        server.poison = set(ids)
        server.poison_whole_batch = True
        result = Delivery(cfg, store, sinks.make_sinks(cfg)).run()
        assert result.outcome == "retry" and "every record refused" in result.detail
        assert not store.conn.execute("SELECT COUNT(*) FROM dead_letter").fetchone()[0]
        assert store.conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 6
        server.poison = set()
        retry.save(store, retry.State())  # the server is mended: no need to wait out the backoff
        drain(cfg, store)
        exactly_once(server, ids)


def test_401_pauses_until_the_token_changes():
    from aitally.uploader import credentials, status

    with receiver() as server:
        cfg = upload_config(server.url)
        store = open_store()
        ids = make_segments(store, 4)
        server.script = [("status", 401, {})]
        assert Delivery(cfg, store, sinks.make_sinks(cfg)).run().outcome == "paused"
        assert Delivery(cfg, store, sinks.make_sinks(cfg)).run().outcome == "paused"
        assert server.requests == 1
        assert status.read_status(cfg, store).auth_paused == 401
        credentials.set_token("device-token-2")  # re-enrolled
        drain(cfg, store)
        exactly_once(server, ids)
        assert status.read_status(cfg, store).auth_paused is None


def test_untrusted_certificate_fails_until_its_ca_is_configured(tmp_path):
    cert, key = self_signed(tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    with receiver(tls=ctx) as server:
        cfg = upload_config(server.url)
        store = open_store()
        ids = make_segments(store, 5)
        result = Delivery(cfg, store, sinks.make_sinks(cfg)).run()
        assert result.outcome == "retry" and "TLS verification failed" in result.detail
        assert server.records == {}
        cfg = upload_config(server.url, f'ca_bundle = "{cert}"')
        time.sleep(0.06)
        drain(cfg, store)
        exactly_once(server, ids)


def test_every_upload_is_logged_locally():
    with receiver() as server:
        cfg = upload_config(server.url)
        store = open_store()
        make_segments(store, 3)
        server.script = [("status", 500, {})]
        drain(cfg, store)
        rows = store.conn.execute("SELECT batch_id, records, status FROM upload_log").fetchall()
        assert [r["status"] for r in rows] == ["http 500 retry", "http 200 ok"]
        assert all(r["records"] == 3 and r["batch_id"] for r in rows)
