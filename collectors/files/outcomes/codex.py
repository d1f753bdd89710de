"""Codex CLI outcomes from rollout lines (0.171): completed file-change items (a unified diff per
file, whose `+`/`-` lines are counted), command executions (exit code, status), and patches the
person refused, which show as a proposed `apply_patch` call followed by an aborted turn.

The call ids of proposed patches not yet answered are kept in the file state; each count
carries its item or call id as dedup key, so a forked rollout that replays history counts once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aitally.collectors.files.adapters.base import FileState, num, text
from aitally.collectors.files.outcomes.commits import commit_counts
from aitally.collectors.files.outcomes.patch_lines import text_lines, unified_diff
from aitally.core.observation import OutcomeCounts

# The tool call through which Codex proposes a change to files.
PATCH_CALL = "apply_patch"
CALL_TYPES = ("custom_tool_call", "function_call")
# Item statuses (either spelling the versions write): refused by the person, failed to run.
DECLINED = ("declined", "Declined")
FAILED = ("failed", "Failed")


def proposal(
    tool: str, payload: Mapping[str, Any], session: str, at: float, st: FileState
) -> list[OutcomeCounts]:
    """A `response_item` line: an `apply_patch` call is an edit proposed."""
    if payload.get("type") not in CALL_TYPES or payload.get("name") != PATCH_CALL:
        return []
    cid = text(payload.get("call_id")) or ""
    st.data.setdefault("open_patches", []).append(cid)
    key = f"o:use:{session}:{cid}" if cid else None
    return [OutcomeCounts(tool, session, at, {"edits_proposed": 1}, key)]


def event(
    tool: str, payload: Mapping[str, Any], session: str, at: float, st: FileState
) -> list[OutcomeCounts]:
    """An `event_msg` line: completed items, and turns ending with patches unanswered."""
    kind = payload.get("type")
    open_patches: list[str] = st.data.setdefault("open_patches", [])
    if kind in ("turn_aborted", "task_complete"):
        answered, open_patches[:] = list(open_patches), []
        if kind != "turn_aborted":
            return []
        # The person refused the proposed change in the TUI: the turn was aborted.
        return [
            OutcomeCounts(
                tool,
                session,
                at,
                {"edits_rejected": 1},
                f"o:answer:{session}:{cid}" if cid else None,
            )
            for cid in answered
        ]
    item = payload.get("item")
    if kind != "item_completed" or not isinstance(item, Mapping):
        return []
    iid = text(item.get("id"))
    key = f"o:item:{session}:{iid}" if iid else None
    if item.get("type") == "FileChange":
        counts = {} if open_patches else {"edits_proposed": 1}
        if open_patches:
            open_patches.remove(iid if iid in open_patches else open_patches[0])
        status = item.get("status")
        if status in DECLINED:
            counts["edits_rejected"] = 1
        elif status not in FAILED:
            counts.update(edits_accepted=1, **_changed_lines(item.get("changes"), st))
        return [OutcomeCounts(tool, session, at, counts, key)]
    if item.get("type") == "CommandExecution":
        status = item.get("status")
        if status in DECLINED:
            return []  # never ran
        code = num(item.get("exit_code", item.get("exitCode")))
        failed = status in FAILED or bool(code)
        counts = {"commands_run": 1, **({"commands_failed": 1} if failed else {})}
        if not failed:
            counts.update(commit_counts(_command_text(item.get("command"))))
        return [OutcomeCounts(tool, session, at, counts, key)]
    return []


def _command_text(command: Any) -> str:
    """A command item's command as one string (a list of argv words or a string), in memory
    only, to see whether it commits."""
    if isinstance(command, list):
        return " ".join(word for word in command if isinstance(word, str))
    return command if isinstance(command, str) else ""


def _changed_lines(changes: Any, st: FileState) -> dict[str, int]:
    """Lines added and removed over a file change's files: an update's unified diff, an added
    or deleted file's whole content; absent when no file says (changes of another shape are
    counted as format drift)."""
    if not isinstance(changes, Mapping):
        st.drifted()
        return {}
    added = removed = 0
    known = False
    for change in changes.values():
        if not isinstance(change, Mapping):
            continue
        kind, diff, body = change.get("type"), change.get("unified_diff"), change.get("content")
        if kind == "update" and isinstance(diff, str):
            a, r = unified_diff(diff)
        elif kind == "add" and isinstance(body, str):
            a, r = text_lines(body), 0
        elif kind == "delete" and isinstance(body, str):
            a, r = 0, text_lines(body)
        else:
            continue
        added, removed, known = added + a, removed + r, True
    return {"lines_added": added, "lines_removed": removed} if known else {}
