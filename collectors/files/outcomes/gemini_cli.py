"""Gemini CLI outcomes from chat records: each tool call's `status` (success, error, cancelled)
and, for edits, `resultDisplay.diffStat` (lines by the model, and by the person who changed the
proposal before accepting it). Shell exit codes are only in the call's output text, which is
searched in memory for the code and never kept.

After a rejection Gemini re-appends the whole history, so a call is counted once by its
tool-call id (the dedup key), whatever record or file it is seen in again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aitally.collectors.files.adapters.base import FileState, dig, num, text
from aitally.collectors.files.outcomes.commits import commit_counts
from aitally.core.observation import OutcomeCounts

SHELL_TOOLS = frozenset({"run_shell_command"})
# A call still running or awaiting the person's answer is counted when it ends.
ENDED = frozenset({"success", "error", "cancelled"})
EXIT_CODE = re.compile(r"Exit Code: (-?\d+)")


def tool_calls(
    tool: str, msg: Mapping[str, Any], session: str, at: float, st: FileState
) -> list[OutcomeCounts]:
    """The outcomes of a `gemini` message's ended tool calls (calls of another shape are
    counted as format drift)."""
    calls = msg.get("toolCalls")
    if not isinstance(calls, list):
        if calls is not None:
            st.drifted()
        return []
    out: list[OutcomeCounts] = []
    for call in calls:
        if not isinstance(call, Mapping):
            st.drifted()
            continue
        if call.get("status") not in ENDED:
            continue
        cid = text(call.get("id"))
        counts = _counts(call)
        if cid is not None and counts:
            out.append(OutcomeCounts(tool, session, at, counts, f"o:{session}:{cid}"))
    return out


def _counts(call: Mapping[str, Any]) -> dict[str, int]:
    status = call.get("status")
    stat = dig(call, "resultDisplay", "diffStat")
    if isinstance(stat, Mapping):
        if status == "cancelled":
            return {"edits_proposed": 1, "edits_rejected": 1}
        if status == "error":
            return {"edits_proposed": 1}
        by_person = (num(stat.get("user_added_lines")) or 0) + (
            num(stat.get("user_removed_lines")) or 0
        )
        # A modified edit is still accepted (`edits_modified` is part of `edits_accepted`).
        counts = {"edits_proposed": 1, "edits_accepted": 1}
        if by_person:
            counts["edits_modified"] = 1
        for kind, field in (
            ("lines_added", "model_added_lines"),
            ("lines_removed", "model_removed_lines"),
        ):
            n = num(stat.get(field))
            if n is not None:
                counts[kind] = n
        return counts
    if call.get("name") in SHELL_TOOLS and status != "cancelled":
        failed = status == "error" or _exit_code(call) not in (None, 0)
        if failed:
            return {"commands_run": 1, "commands_failed": 1}
        command = dig(call, "args", "command")
        commits = commit_counts(command) if isinstance(command, str) else {}
        return {"commands_run": 1, **commits}
    return {}


def _exit_code(call: Mapping[str, Any]) -> int | None:
    """The shell's exit code as the call's output states it, read in memory only."""
    parts = call.get("result")
    for part in parts if isinstance(parts, list) else ():
        output = dig(part, "functionResponse", "response", "output")
        if isinstance(output, str):
            found = EXIT_CODE.search(output)
            if found:
                return int(found.group(1))
    return None
