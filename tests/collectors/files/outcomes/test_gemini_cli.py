"""Gemini CLI outcome parsing: only ended calls count; edits by their diff statistics, shell
calls by status and the exit code in their output."""

from __future__ import annotations

from typing import Any

from aitally.collectors.files.outcomes.gemini_cli import tool_calls
from aitally.collectors.files.state import FileState


def counts(*calls: Any) -> list[dict[str, int]]:
    msg = {"toolCalls": list(calls)}
    return [dict(o.counts) for o in tool_calls("gemini-cli", msg, "S", 1.0, FileState())]


def test_calls_of_another_shape_are_counted_as_drift_and_the_rest_kept() -> None:
    st = FileState()
    call = {"id": "x", "name": "run_shell_command", "status": "error"}
    found = tool_calls("gemini-cli", {"toolCalls": ["CANARY", call]}, "S", 1.0, st)
    assert [dict(o.counts) for o in found] == [{"commands_run": 1, "commands_failed": 1}]
    tool_calls("gemini-cli", {"toolCalls": {"CANARY": 1}}, "S", 1.0, st)
    assert st.drift == 2


def test_calls_still_running_or_awaiting_an_answer_are_not_counted_yet() -> None:
    stat = {"resultDisplay": {"diffStat": {"model_added_lines": 1}}}
    assert (
        counts({"id": "a", "status": "executing", **stat}, {"id": "b", "status": "awaiting"}) == []
    )
    assert counts({"id": "a", "status": "error", **stat}) == [{"edits_proposed": 1}]
    assert counts({"status": "success", **stat}) == []  # no id: cannot be counted once


def test_shell_exit_codes_come_from_the_output_text() -> None:
    def shell(cid: str, output: Any) -> dict[str, Any]:
        part = {"functionResponse": {"response": {"output": output}}}
        return {"id": cid, "name": "run_shell_command", "status": "success", "result": [part]}

    assert (
        counts(
            shell("1", "Output: CANARY\nExit Code: 2"),
            shell("2", "Output: CANARY\n"),
            shell("3", None),
            {"id": "4", "name": "run_shell_command", "status": "success", "result": "CANARY"},
        )
        == [{"commands_run": 1, "commands_failed": 1}] + [{"commands_run": 1}] * 3
    )
