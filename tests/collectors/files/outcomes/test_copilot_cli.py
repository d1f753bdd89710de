"""Copilot CLI outcome parsing: edits proposed at their start and answered by the person's
permission decision or by their completion; shell runs by exit code; commits by their command.
The events are shaped as Copilot CLI 1.0.102 writes them (the recorded `outcomes` scenario) with
planted markers where content goes."""

from __future__ import annotations

import json
from typing import Any

from aitally.collectors.files.outcomes.copilot_cli import PENDING, observe
from aitally.collectors.files.state import FileState

TRAILER = "Co-authored-by: Copilot <223556219+Copilot@users.noreply.github.com>"


def start(cid: str, tool: str, **arguments: Any) -> dict[str, Any]:
    data = {"toolCallId": cid, "toolName": tool, "arguments": arguments}
    return {"type": "tool.execution_start", "data": data}


def decided(cid: str, kind: str) -> dict[str, Any]:
    data = {"requestId": "r", "toolCallId": cid, "result": {"kind": kind}}
    return {"type": "permission.completed", "data": data}


def ended(cid: str, success: bool, exit_code: int | None = None, **metrics: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "toolCallId": cid,
        "success": success,
        "result": {"content": "CANARY output", "detailedContent": "-CANARY\n+CANARY\n"},
        "toolTelemetry": {"properties": {"command": "CANARY"}, "metrics": metrics},
    }
    if exit_code is not None:
        data["shellExecution"] = {"exitCode": exit_code}
    return {"type": "tool.execution_complete", "data": data}


def run(*events: dict[str, Any], st: FileState | None = None) -> list[tuple[str | None, dict]]:
    st = st or FileState()
    out = []
    for event in events:
        out += [(o.dedup_key, dict(o.counts)) for o in observe("copilot-cli", event, "S", 1.0, st)]
    return out


def test_an_accepted_edit_counts_its_lines_from_the_tool_telemetry() -> None:
    found = run(
        start("e1", "edit", path="/CANARY/notes.txt", old_str="CANARY", new_str="CANARY"),
        decided("e1", "approved"),
        ended("e1", True, linesAdded=1, linesRemoved=1),
        start("e2", "create", path="/CANARY/new.txt", file_text="CANARY\nCANARY\n"),
        ended("e2", True, linesAdded=2, linesRemoved=0),  # allowed without asking
    )
    assert found == [
        ("o:use:S:e1", {"edits_proposed": 1}),
        ("o:answer:S:e1", {"edits_accepted": 1, "lines_added": 1, "lines_removed": 1}),
        ("o:use:S:e2", {"edits_proposed": 1}),
        ("o:answer:S:e2", {"edits_accepted": 1, "lines_added": 2, "lines_removed": 0}),
    ]


def test_the_persons_refusal_is_a_rejection_and_other_denials_are_not() -> None:
    found = run(
        start("no", "create", path="/CANARY"),
        decided("no", "denied-interactively-by-user"),
        ended("no", False),  # the call's end after the refusal: not counted again
        start("esc", "edit", path="/CANARY"),
        decided("esc", "cancelled"),  # the turn stopped (Esc) at the dialog
        start("rule", "edit", path="/CANARY"),
        decided("rule", "denied-by-rules"),
        ended("rule", False),
    )
    answers = [counts for key, counts in found if key and key.startswith("o:answer")]
    assert answers == [{"edits_rejected": 1}, {"edits_rejected": 1}]
    assert sum(c.get("edits_proposed", 0) for _, c in found) == 3


def test_an_edit_the_tool_could_not_apply_is_proposed_only() -> None:
    found = run(start("e", "edit", path="/CANARY"), ended("e", False))
    assert found == [("o:use:S:e", {"edits_proposed": 1})]


def test_shell_runs_fail_by_exit_code_and_commit_only_when_they_succeed() -> None:
    commit = f"git add -A && git commit -m 'CANARY' -m '{TRAILER}'"
    found = run(
        start("ls", "bash", command="ls /CANARY"),
        ended("ls", True, exit_code=2),  # the tool call succeeded, the command did not
        start("ok", "bash", command="echo CANARY"),
        ended("ok", True, exit_code=0),
        start("gone", "bash", command="sleep 1"),
        ended("gone", False),
        start("c1", "bash", command=commit),
        decided("c1", "approved"),
        ended("c1", True, exit_code=0),
        start("c2", "bash", command="git commit -m CANARY"),
        ended("c2", True, exit_code=1),
        start("c3", "bash", command="git commit -m CANARY"),
        ended("c3", True),  # no exit code written: ran, not known to fail
    )
    assert [c for _, c in found] == [
        {"commands_run": 1, "commands_failed": 1},
        {"commands_run": 1},
        {"commands_run": 1, "commands_failed": 1},
        {"commands_run": 1, "commits": 1, "commits_with_ai": 1},
        {"commands_run": 1, "commands_failed": 1},
        {"commands_run": 1, "commits": 1},
    ]


def test_a_refused_command_never_ran() -> None:
    found = run(
        start("c", "bash", command=f"git commit -m CANARY -m '{TRAILER}'"),
        decided("c", "denied-interactively-by-user"),
        ended("c", False),
    )
    assert found == []


def test_other_tools_and_unknown_calls_count_nothing() -> None:
    assert run(start("v", "view", path="/CANARY"), ended("v", True), ended("zz", True)) == []


def test_events_of_another_shape_are_drift_and_nothing_of_them_is_kept() -> None:
    st = FileState()
    run(
        {"type": "tool.execution_start", "data": "CANARY"},
        {"type": "tool.execution_complete", "data": {"success": True}},
        # A permission prompt not tied to a tool call (a folder, a URL) is no drift.
        {"type": "permission.completed", "data": {"requestId": "r", "result": {"kind": "x"}}},
        st=st,
    )
    assert st.drift == 2
    run(start("c", "bash", command="git commit -m CANARY"), start("e", "edit"), st=st)
    assert "CANARY" not in json.dumps(st.data)  # ids and counts only


def test_calls_awaiting_their_end_are_bounded() -> None:
    st = FileState()
    run(*(start(f"e{i}", "edit") for i in range(PENDING + 10)), st=st)
    assert len(st.data["edits"]) == PENDING and "e0" not in st.data["edits"]
