"""Claude Code outcomes from transcript lines: edit tool calls (`Edit`, `Write`, `MultiEdit`,
`NotebookEdit`) and the person's answer in their result line's `toolUseResult` (rejected,
accepted, accepted as modified), the lines each change added and removed, shell calls and their
failures, and commits (`gitOperation.commit`, counted; its sha never read out), with AI when
the commit command carries an AI co-author or "Generated with" trailer (searched in memory).

A call and its result are on different lines: the call's id and kind are kept in the file
state (ids only) until its result comes. Each outcome carries the tool-use id as its dedup key,
so history copied into a resumed session's file counts once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aitally.collectors.files.adapters.base import FileState, dig, text
from aitally.collectors.files.outcomes.commits import commit_counts, is_commit
from aitally.collectors.files.outcomes.patch_lines import hunk_lines, text_lines
from aitally.core.observation import OutcomeCounts

EDIT_TOOLS = frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit"})
SHELL_TOOLS = frozenset({"Bash"})
# What Claude Code writes as a result's `toolUseResult` when the person rejects the call.
REJECTED = "User rejected tool use"
# Calls per file awaiting their result (a result normally follows its call at once).
PENDING = 256


def observe(
    tool: str, obj: Mapping[str, Any], session: str, at: float, st: FileState
) -> list[OutcomeCounts]:
    """The outcomes of one transcript line: calls proposed (assistant), answers (user)."""
    msg = obj.get("message")
    content = msg.get("content") if type(msg) is dict else dig(msg, "content")
    if not isinstance(content, list):
        return []
    calls: dict[str, str] = st.data.setdefault("calls", {})
    out: list[OutcomeCounts] = []
    kind = obj.get("type")
    for block in content:
        if not isinstance(block, Mapping):
            continue
        if kind == "assistant" and block.get("type") == "tool_use":
            cid, name = text(block.get("id")), block.get("name")
            if cid is None or not (name in EDIT_TOOLS or name in SHELL_TOOLS):
                continue
            calls[cid] = "edit" if name in EDIT_TOOLS else _shell_kind(block.get("input"))
            while len(calls) > PENDING:
                del calls[next(iter(calls))]
            if name in EDIT_TOOLS:
                out.append(OutcomeCounts(tool, session, at, {"edits_proposed": 1}, f"o:use:{cid}"))
        elif kind == "user" and block.get("type") == "tool_result":
            cid = text(block.get("tool_use_id"))
            if cid is None:
                continue
            counts = _answer(calls.pop(cid, None), block, obj, st)
            if counts:
                out.append(OutcomeCounts(tool, session, at, counts, f"o:result:{cid}"))
    return out


def _shell_kind(call_input: Any) -> str:
    """`shell`, `commit` for a `git commit`, or `ai-commit` for one whose message carries an
    AI trailer (the command is looked at here, in memory, and only this word kept)."""
    command = dig(call_input, "command")
    if not isinstance(command, str) or not is_commit(command):
        return "shell"
    return "ai-commit" if "commits_with_ai" in commit_counts(command) else "commit"


def _rejected(obj: Mapping[str, Any]) -> bool:
    result = obj.get("toolUseResult")
    return obj.get("toolDenialKind") == "user-rejected" or (
        isinstance(result, str) and result.startswith(REJECTED)
    )


def _answer(
    call: str | None, block: Mapping[str, Any], obj: Mapping[str, Any], st: FileState
) -> dict[str, int]:
    """What one result line says of its call; empty when it says nothing countable."""
    result = obj.get("toolUseResult")
    failed = block.get("is_error") is True
    if call == "edit":
        if _rejected(obj):
            return {"edits_rejected": 1}
        if failed or not isinstance(result, Mapping):
            return {}  # the tool could not apply it (a stale old_string): no answer
        # A modified edit is still accepted: `edits_modified` is the part of `edits_accepted`
        # the person changed first (docs/measuring.md).
        answer = {"edits_accepted": 1}
        if result.get("userModified") is True:
            answer["edits_modified"] = 1
        return {**answer, **_lines(result, st)}
    # A commit: the result's `gitOperation.commit` where the version writes one, else a commit
    # command that succeeded (docs/clients/claude-code.md).
    committed = isinstance(dig(result, "gitOperation", "commit"), Mapping) or (
        call in ("commit", "ai-commit") and not failed
    )
    commits: dict[str, int] = {"commits": 1} if committed else {}
    if committed and call == "ai-commit":
        commits["commits_with_ai"] = 1
    if call in ("shell", "commit", "ai-commit"):
        if _rejected(obj):
            return {}  # never ran
        return {"commands_run": 1, **({"commands_failed": 1} if failed else {}), **commits}
    return commits


def _lines(result: Mapping[str, Any], st: FileState) -> dict[str, int]:
    """Lines added and removed by an applied edit; absent when the result has no patch (a
    patch of another shape is counted as format drift)."""
    patch = result.get("structuredPatch")
    if not isinstance(patch, list):
        if patch is not None:
            st.drifted()
        return {}
    added = removed = 0
    for hunk in patch:
        lines = dig(hunk, "lines")
        if isinstance(lines, list):
            a, r = hunk_lines(lines)
            added, removed = added + a, removed + r
    if not patch and result.get("type") == "create":
        # A new file written whole has an empty patch: its lines are the file's.
        body = result.get("content")
        if not isinstance(body, str):
            return {}
        added = text_lines(body)
    return {"lines_added": added, "lines_removed": removed}
