"""Claude Code outcome parsing on single lines: answers, lines, commits and odd shapes."""

from __future__ import annotations

from typing import Any

from aitally.collectors.files.outcomes.claude_code import PENDING, observe
from aitally.collectors.files.state import FileState


def use(tid: str, name: str) -> dict[str, Any]:
    block = {"type": "tool_use", "id": tid, "name": name, "input": {"x": "CANARY"}}
    return {"type": "assistant", "message": {"content": [block]}}


def result(tid: str, tur: Any, *, is_error: bool | None = None, **extra: Any) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tid, "content": "CANARY"}
    if is_error is not None:
        block["is_error"] = is_error
    return {"type": "user", "message": {"content": [block]}, "toolUseResult": tur, **extra}


def counts(st: FileState, *lines: dict[str, Any]) -> list[dict[str, int]]:
    return [dict(o.counts) for line in lines for o in observe("claude-code", line, "S", 1.0, st)]


def test_an_edit_without_a_patch_is_answered_without_lines() -> None:
    st = FileState()
    assert counts(st, use("t1", "NotebookEdit"), result("t1", {"cell_id": "c"})) == [
        {"edits_proposed": 1},
        {"edits_accepted": 1},
    ]
    # A malformed patch (not a list) says nothing of lines either: absent, never 0, and the
    # shape is counted as format drift.
    assert counts(st, use("t2", "Edit"), result("t2", {"structuredPatch": "CANARY"}))[1] == {
        "edits_accepted": 1
    }
    assert st.drift == 1


def test_a_commit_counts_whatever_call_made_it_and_its_sha_is_not_kept() -> None:
    st = FileState()
    commit = {"gitOperation": {"commit": {"sha": "4f2a9c1d", "kind": "committed"}}}
    assert counts(st, result("unknown", commit)) == [{"commits": 1}]
    assert "4f2a9c1d" not in repr(st.data)


def test_reads_and_other_tools_count_nothing_and_odd_shapes_are_skipped() -> None:
    st = FileState()
    assert counts(st, use("r1", "Read"), result("r1", {"type": "text"})) == []
    assert counts(st, {"type": "user", "message": {"content": "CANARY prompt"}}) == []
    assert counts(st, {"type": "assistant", "message": {"content": [1, None, {"id": 3}]}}) == []
    assert counts(st, result("b9", None, is_error=True)) == []


def test_pending_calls_are_bounded() -> None:
    st = FileState()
    for i in range(PENDING + 50):
        counts(st, use(f"t{i}", "Bash"))
    assert len(st.data["calls"]) == PENDING
    # The newest are kept: a result right after its call is still matched.
    assert counts(st, result(f"t{PENDING + 49}", {"stdout": "CANARY"})) == [{"commands_run": 1}]


def test_a_commit_is_with_ai_only_when_its_command_carries_an_ai_trailer() -> None:
    st = FileState()

    def bash(tid: str, command: str) -> dict[str, Any]:
        line = use(tid, "Bash")
        line["message"]["content"][0]["input"] = {"command": command}
        return line

    commit = {"gitOperation": {"commit": {"sha": "4f2a9c1d", "kind": "committed"}}}
    trailer = "git commit -m 'CANARY fix' -m 'Co-Authored-By: Claude <noreply@anthropic.com>'"
    generated = "git commit -F- <<EOF\nCANARY\n\n🤖 Generated with [Claude Code](https://x)\nEOF"
    assert counts(
        st,
        bash("c1", trailer),
        result("c1", commit),
        bash("c2", generated),
        result("c2", commit),
        bash("c3", "git commit -m 'CANARY by hand; claude was not here'"),
        result("c3", commit),
        # A commit command that failed ("nothing to commit" exits 1) makes no commit.
        bash("c4", trailer),
        result("c4", {"stdout": "nothing to commit"}, is_error=True),
        # Without `gitOperation` (2.1.197 run offline writes none), the command that
        # succeeded is the commit (docs/clients/claude-code.md).
        bash("c5", trailer),
        result("c5", {"stdout": ""}),
        bash("c6", "echo CANARY"),
        result("c6", {"stdout": "CANARY"}),
    ) == [
        {"commands_run": 1, "commits": 1, "commits_with_ai": 1},
        {"commands_run": 1, "commits": 1, "commits_with_ai": 1},
        {"commands_run": 1, "commits": 1},
        {"commands_run": 1, "commands_failed": 1},
        {"commands_run": 1, "commits": 1, "commits_with_ai": 1},
        {"commands_run": 1},
    ]
