"""Billed calls claimed for a whole batch: the same answers as one claim after another."""

from __future__ import annotations

import random
from pathlib import Path

from aitally.core.store import sessions
from tests.core.store.segment_rows import new_store

Claim = tuple[str, str, str, float]


def one_by_one(held: dict[tuple[str, str], str], claims: list[Claim]) -> list[bool]:
    """The rule, one claim at a time: the first signal to claim a call holds it; a later
    claim is granted only to that signal. `held` (tool, call) -> signal is updated."""
    out = []
    for tool, cid, signal, _ in claims:
        owner = held.setdefault((tool, cid), signal)
        out.append(owner == signal)
    return out


def test_the_first_signal_holds_a_call_within_a_batch_and_across_batches(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    with store.transaction() as conn:
        first = sessions.claim_calls(
            conn,
            [
                ("claude-code", "req_1", "transcript", 1.0),
                ("claude-code", "req_1", "otlp", 2.0),  # the same call from telemetry: doubled
                ("claude-code", "req_1", "transcript", 3.0),  # a later copy of the reply
                ("codex", "req_1", "otlp", 4.0),  # another tool's id space
            ],
        )
    assert first == [True, False, True, True]
    with store.transaction() as conn:
        again = sessions.claim_calls(
            conn,
            [
                ("claude-code", "req_1", "otlp", 5.0),
                ("claude-code", "req_1", "transcript", 6.0),
                ("codex", "req_1", "transcript", 7.0),
                ("codex", "req_2", "transcript", 8.0),
            ],
        )
        assert sessions.claim_calls(conn, []) == []
    assert again == [False, True, False, True]


def test_random_batches_answer_as_claims_one_after_another(tmp_path: Path) -> None:
    store = new_store(tmp_path)
    rng = random.Random(18)
    held: dict[tuple[str, str], str] = {}
    for batch in range(30):
        claims = [
            (
                rng.choice(("claude-code", "codex")),
                f"req_{rng.randrange(40)}",
                rng.choice(("transcript", "otlp")),
                float(batch),
            )
            for _ in range(rng.randrange(0, 25))
        ]
        expected = one_by_one(held, claims)
        with store.transaction() as conn:
            assert sessions.claim_calls(conn, claims) == expected
