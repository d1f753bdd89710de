"""Codex outcome parsing: file changes with or without a proposal seen, their statuses, and
command executions in either spelling of the exit code."""

from __future__ import annotations

from typing import Any

from aitally.collectors.files.outcomes.codex import event, proposal
from aitally.collectors.files.state import FileState


def item(**fields: Any) -> dict[str, Any]:
    return {"type": "item_completed", "item": fields}


def counts(st: FileState, *payloads: dict[str, Any]) -> list[dict[str, int]]:
    out = []
    for p in payloads:
        parse = proposal if p.get("type") == "custom_tool_call" else event
        out += [dict(o.counts) for o in parse("codex", p, "S", 1.0, st)]
    return out


def test_a_change_applied_without_a_proposal_seen_is_also_proposed() -> None:
    st = FileState()
    change = {"a": {"type": "delete", "content": "x\ny\n"}, "b": {"type": "rename"}}
    assert counts(st, item(type="FileChange", id="f1", status="completed", changes=change)) == [
        {"edits_proposed": 1, "edits_accepted": 1, "lines_added": 0, "lines_removed": 2}
    ]


def test_declined_and_failed_changes_and_unknown_diffs() -> None:
    st = FileState()
    patch = {"type": "custom_tool_call", "name": "apply_patch", "call_id": "c1"}
    assert counts(
        st,
        patch,
        item(type="FileChange", id="c1", status="declined"),
        item(type="FileChange", id="c2", status="failed"),
        item(type="FileChange", id="c3", status="completed", changes={"p": {"type": "update"}}),
    ) == [
        {"edits_proposed": 1},
        {"edits_rejected": 1},
        {"edits_proposed": 1},
        {"edits_proposed": 1, "edits_accepted": 1},
    ]
    assert st.data["open_patches"] == [] and st.drift == 0
    counts(st, item(type="FileChange", id="c4", status="completed", changes=["CANARY"]))
    assert st.drift == 1


def test_commands_by_status_and_exit_code() -> None:
    st = FileState()
    assert counts(
        st,
        item(type="CommandExecution", id="x1", status="completed", exitCode=2),
        item(type="CommandExecution", id="x2", status="completed", exit_code=0),
        item(type="CommandExecution", id="x3", status="declined"),
        {"type": "turn_aborted"},
    ) == [{"commands_run": 1, "commands_failed": 1}, {"commands_run": 1}]
