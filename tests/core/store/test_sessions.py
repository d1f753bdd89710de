"""Dedup keys and billed-call claims in the store: each counted once, by the first to come."""

from __future__ import annotations

import random
from pathlib import Path

from aitally.core.store import sessions
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
