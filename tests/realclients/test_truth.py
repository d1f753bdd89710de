"""The truth computation: replies to sessions, tokens by kind and model, turns, only-billed."""

from __future__ import annotations

from typing import Any

from tests.realclients.truth import StepRecord, compute_truth


def entry(seq: int, phase: str, rid: str, model: str = "m", **headers: str) -> dict[str, Any]:
    wire = {"input": seq, "output": 10 * seq, "cache_read": 100, "cache_write": 1, "reasoning": 0}
    return {"seq": seq, "phase": phase, "id": rid, "model": model, "wire": wire, "headers": headers}


def test_replies_go_to_the_session_their_request_named_else_their_step() -> None:
    steps = [
        StepRecord("parent", "S1", 1),
        StepRecord("fork", "S2", 1, parent="S1", relation="fork"),
    ]
    log = [
        entry(1, "parent", "r1"),
        entry(2, "fork", "r2", **{"x-claude-code-session-id": "S1"}),  # named: the parent
        entry(3, "fork", "r3", model="n"),
        entry(4, "other", "r4"),
    ]
    truth = compute_truth(log, steps, "r1 r2 r3")
    s1, s2 = truth["sessions"]["S1"], truth["sessions"]["S2"]
    assert s1["billed"] == {
        "input": 3,
        "output": 30,
        "cache_read": 200,
        "cache_write": 2,
        "reasoning": 0,
    }
    assert s2["models"] == {
        "n": {"input": 3, "output": 30, "cache_read": 100, "cache_write": 1, "reasoning": 0}
    }
    assert (s2["parent"], s2["relation"], s2["turns"]) == ("S1", "fork", 1)
    assert truth["unattributed"] == [4]


def test_resumed_steps_add_turns_to_one_session_and_only_billed_is_by_id() -> None:
    steps = [StepRecord("first", "S", 1), StepRecord("again", "S", 2, "S", "resume")]
    log = [entry(1, "first", "r1"), entry(2, "first", "title"), entry(3, "again", "r3")]
    truth = compute_truth(log, steps, "... r1 ... r3 ...")
    session = truth["sessions"]["S"]
    assert (
        session["turns"] == 3
        and session["replies"] == 3
        and session["phases"] == ["first", "again"]
    )
    assert session["only_billed"] == ["title"]
    assert session["recorded"]["input"] == 4 and session["billed"]["input"] == 6


def test_a_client_that_writes_no_reply_ids_has_unknown_only_billed() -> None:
    truth = compute_truth([entry(1, "one", "r1")], [StepRecord("one", "S", 1)], "no ids here")
    assert truth["records_reply_ids"] is False
    assert (
        truth["sessions"]["S"]["only_billed"] is None and truth["sessions"]["S"]["recorded"] is None
    )
