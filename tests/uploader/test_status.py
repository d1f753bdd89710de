"""The uploader's typed status read from a real store: its JSON object and its text lines."""

from __future__ import annotations

import dataclasses
import time

import pytest

from aitally.core.store import outbox, uploads
from aitally.uploader import credentials, retry, status
from aitally.uploader.records import iso
from tests.uploader.helpers import make_segments, open_store, write_config

JSON_KEYS = {
    "last_upload",
    "last_attempt",
    "last_error",
    "retry_after",
    "paused",
    "dead_letters",
    "credential_store",
    "tls",
    "pseudonym_key",
    "recent",
}


@pytest.fixture(autouse=True)
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """No keyring daemon here: the token file is the credential store."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


def test_a_fresh_store_has_never_uploaded() -> None:
    cfg = write_config('[privacy]\norg_key = "k"\norg_key_id = "k1"\n')
    store = open_store()
    st = status.read_status(cfg, store)
    assert st.as_json() == {
        "last_upload": None,
        "last_attempt": None,
        "last_error": None,
        "retry_after": None,
        "paused": None,
        "dead_letters": 0,
        "credential_store": f"file:{credentials.token_file()}",
        "tls": "os trust store",
        "pseudonym_key": "org key",
        "recent": [],
    }
    assert st.summary_lines() == [
        ("credentials", f"file:{credentials.token_file()}"),
        ("dead letters", "0"),
        ("pseudonyms", "org key"),
        ("upload", "last never"),
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        st.dead_letters = 1  # type: ignore[misc]


def test_a_retry_wait_an_auth_pause_and_dead_letters_show() -> None:
    cfg = write_config('[upload]\nendpoint = "https://ingest.example"\n')
    store = open_store()
    ids = make_segments(store, 2)
    now = time.time()
    with store.transaction() as conn:
        uploads.log_requests(conn, 1_700_000_000.0, [("b1", 2, "http 503 retry", "HTTP 503")])
        uploads.log_requests(conn, 1_700_000_001.0, [("b2", 2, "http 401 auth", "HTTP 401")])
        outbox.dead_letter(conn, {ids[0]: "rejected: schema"}, now)
    state = retry.State(last_attempt=1_700_000_001.0, last_success=1_600_000_000.0)
    state.failed(now, "HTTP 503", 600.0)
    state.paused = {"status": 401, "at": now, "credential": "abc"}
    retry.save(store, state)

    st = status.read_status(cfg, store)
    assert st.retry_at is not None and now + 590 < st.retry_at <= now + 600
    data = st.as_json()
    assert set(data) == JSON_KEYS
    assert data["last_upload"] == "2020-09-13T12:26:40Z"
    assert data["last_attempt"] == "2023-11-14T22:13:21Z"
    assert (data["last_error"], data["paused"], data["dead_letters"]) == ("HTTP 503", 401, 1)
    assert data["retry_after"] == iso(st.retry_at)
    assert data["pseudonym_key"] == "per-install random key (no privacy.org_key)"
    assert data["recent"] == [
        {
            "at": "2023-11-14T22:13:21Z",
            "batch_id": "b2",
            "records": 2,
            "status": "http 401 auth",
            "detail": "HTTP 401",
        },
        {
            "at": "2023-11-14T22:13:20Z",
            "batch_id": "b1",
            "records": 2,
            "status": "http 503 retry",
            "detail": "HTTP 503",
        },
    ]
    upload_line = (
        f"last 2020-09-13T12:26:40Z, next try {data['retry_after']} (HTTP 503),"
        " PAUSED: server answered 401; run `aitally enroll`"
    )
    assert st.summary_lines() == [
        ("credentials", f"file:{credentials.token_file()}"),
        ("dead letters", "1"),
        ("pseudonyms", "per-install random key (no privacy.org_key)"),
        ("upload", upload_line),
    ]
