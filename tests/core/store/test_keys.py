"""Per-install random secrets: made once, kept, and distinct from one another."""

from __future__ import annotations

from pathlib import Path

from aitally.core.store import Store, keys, outbox
from tests.core.store.segment_rows import new_store


def test_a_secret_is_made_once_and_survives_reopening(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        first = keys.random_secret(conn, "some_secret")
        assert keys.random_secret(conn, "some_secret") == first
        assert len(first) == 64 and int(first, 16) >= 0
    store.close()
    again = Store(tmp_path / "store.db")
    assert again.kv_get("some_secret") == first


def test_the_pseudonym_key_is_not_the_device_secret(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        key = keys.pseudonym_key(conn)
        assert key == keys.pseudonym_key(conn) != outbox.device_secret(conn)
    assert store.kv_get(keys.PSEUDONYM_KEY) == key
