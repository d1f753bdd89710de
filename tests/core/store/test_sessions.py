"""Dedup keys and billed-call claims in the store: each counted once, by the first to come."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from aitally.core.store import Store, sessions
from aitally.core.store.connection import _statements
from aitally.core.store.schema import MIGRATIONS
from tests.core.store.segment_rows import new_store


def test_a_reply_key_is_fresh_once_within_a_batch_and_across_batches(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        fresh = sessions.mark_usage_seen(
            conn,
            [("claude-code", "m1:r1", 1.0), ("claude-code", "m1:r1", 2.0), ("codex", "m1:r1", 3.0)],
        )
        assert fresh == {("claude-code", "m1:r1"), ("codex", "m1:r1")}
        assert sessions.mark_usage_seen(conn, []) == set()
    with store.transaction() as conn:
        again = sessions.mark_usage_seen(
            conn, [("claude-code", "m1:r1", 4.0), ("codex", "m2", 5.0)]
        )
    assert again == {("codex", "m2")}


def test_the_first_signal_to_claim_a_call_holds_it(tmp_path: Path) -> None:
    """Random claims against the rule: the first signal to claim a call holds it; a later
    claim is granted only to that signal (a copy of the reply in the same source)."""
    store = new_store(tmp_path)
    rng = random.Random(18)
    held: dict[tuple[str, str], str] = {}
    for batch in range(20):
        with store.transaction() as conn:
            for _ in range(rng.randrange(0, 25)):
                tool = rng.choice(("claude-code", "codex"))
                call, signal = f"req_{rng.randrange(40)}", rng.choice(("transcript", "otlp"))
                expected = held.setdefault((tool, call), signal) == signal
                assert sessions.claim_call(conn, tool, call, signal, float(batch)) == expected


def test_a_claim_is_one_row(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        assert sessions.claim_call(conn, "claude-code", "req_1", "transcript", 1.0)
        rows = conn.execute("SELECT dedup_key, signal FROM usage_seen").fetchall()
    assert [tuple(r) for r in rows] == [("call:req_1", "transcript")]


def test_claims_of_two_rows_are_carried_over_to_one(tmp_path: Path) -> None:
    """A store written before migration 5 (call:<id> and call:<id>:<signal>) keeps each
    call's claim: granted to its signal, refused to the other, one row left per call."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for script in MIGRATIONS[:4]:
        for statement in _statements(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 4")
    legacy = [
        ("claude-code", "call:req_t"),
        ("claude-code", "call:req_t:transcript"),
        ("claude-code", "call:req_o"),
        ("claude-code", "call:req_o:otlp"),
        ("claude-code", "m1:req_t"),  # a reply's dedup key, kept as it is
    ]
    conn.executemany("INSERT INTO usage_seen(tool, dedup_key, at) VALUES (?, ?, 1)", legacy)
    conn.close()
    store = Store(path)
    with store.transaction() as conn:
        keys = {r[0]: r[1] for r in conn.execute("SELECT dedup_key, signal FROM usage_seen")}
        assert keys == {"call:req_t": "transcript", "call:req_o": "otlp", "m1:req_t": None}
        assert sessions.claim_call(conn, "claude-code", "req_t", "transcript", 2.0)
        assert not sessions.claim_call(conn, "claude-code", "req_t", "otlp", 2.0)
        assert sessions.claim_call(conn, "claude-code", "req_o", "otlp", 2.0)
        assert not sessions.claim_call(conn, "claude-code", "req_o", "transcript", 2.0)
    store.close()
