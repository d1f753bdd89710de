"""Copilot CLI outcomes from session events (1.0.102): a file tool's `tool.execution_start` is an
edit proposed; the person's answer is the `permission.completed` of its call (refused in the
dialog, or the turn stopped at it) or its `tool.execution_complete` (applied, with the lines the
tool's own telemetry counted); a shell call's completion carries its exit code, and a
`git commit` that succeeded is a commit (with AI when its message carries an AI trailer).

Only ids, names, flags and numbers are kept: a shell call's command is looked at in memory, at its
start, for a commit and its trailer, and the call's id is kept (file state) until it ends. Each
count is keyed by the session and the call id, so lines read twice count once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aitally.collectors.files.adapters.base import FileState, dig, num, text
from aitally.collectors.files.outcomes.commits import commit_counts
from aitally.core.observation import OutcomeCounts

# The built-in tools that change files (docs/clients/copilot-cli.md), and those that run shells.
EDIT_TOOLS = frozenset({"edit", "create"})
SHELL_TOOLS = frozenset({"bash", "powershell"})
EVENTS = frozenset({"tool.execution_start", "permission.completed", "tool.execution_complete"})
# Permission results that are the person's refusal: answered "No" in the dialog, or the turn
# stopped (Esc) while the dialog was open. Denials by rules, hooks or policy are nobody's answer.
REFUSED = frozenset({"denied-interactively-by-user", "cancelled"})
# Calls per file awaiting their end (a call normally ends within its turn).
PENDING = 256


def observe(
    tool: str, obj: Mapping[str, Any], session: str, at: float, st: FileState
) -> list[OutcomeCounts]:
    """The outcomes of one session event (one of EVENTS; events of another shape are counted as
    format drift)."""
    data = obj.get("data")
    cid = text(dig(data, "toolCallId"))
    if not isinstance(data, Mapping) or cid is None:
        if obj.get("type") != "permission.completed":  # a prompt not tied to a tool call
            st.drifted()
        return []
    edits: dict[str, int] = st.data.setdefault("edits", {})
    shells: dict[str, dict[str, int]] = st.data.setdefault("shells", {})
    kind = obj.get("type")
    if kind == "tool.execution_start":
        return _start(tool, data, cid, session, at, edits, shells)
    if kind == "permission.completed":
        refused = dig(data, "result", "kind")
        if not isinstance(refused, str) or refused.startswith("approved"):
            return []  # an approved call is counted when it completes
        shells.pop(cid, None)  # never ran
        if edits.pop(cid, None) is None or refused not in REFUSED:
            return []
        return [OutcomeCounts(tool, session, at, {"edits_rejected": 1}, _key(session, cid))]
    counts = _complete(data, cid, edits, shells)
    return [OutcomeCounts(tool, session, at, counts, _key(session, cid))] if counts else []


def _key(session: str, cid: str) -> str:
    return f"o:answer:{session}:{cid}"


def _start(
    tool: str,
    data: Mapping[str, Any],
    cid: str,
    session: str,
    at: float,
    edits: dict[str, int],
    shells: dict[str, dict[str, int]],
) -> list[OutcomeCounts]:
    """A call starting: an edit is proposed; a shell call's commit, if any, is noted."""
    name = data.get("toolName")
    if name in EDIT_TOOLS:
        edits[cid] = 1
        _bound(edits)
        return [OutcomeCounts(tool, session, at, {"edits_proposed": 1}, f"o:use:{session}:{cid}")]
    if name in SHELL_TOOLS:
        command = dig(data, "arguments", "command")
        shells[cid] = commit_counts(command) if isinstance(command, str) else {}
        _bound(shells)
    return []


def _bound(calls: dict[str, Any]) -> None:
    while len(calls) > PENDING:
        del calls[next(iter(calls))]


def _complete(
    data: Mapping[str, Any], cid: str, edits: dict[str, int], shells: dict[str, dict[str, int]]
) -> dict[str, int]:
    """A call ending: an applied edit and its lines, or a shell run and whether it failed."""
    succeeded = data.get("success") is True
    if edits.pop(cid, None) is not None:
        if not succeeded:
            return {}  # the tool could not apply it (a stale old_str): no answer
        counts = {"edits_accepted": 1}
        for kind, field in (("lines_added", "linesAdded"), ("lines_removed", "linesRemoved")):
            n = num(dig(data, "toolTelemetry", "metrics", field))
            if n is not None:
                counts[kind] = n
        return counts
    commits = shells.pop(cid, None)
    if commits is None:
        return {}
    # A command that exits non-zero still "succeeds" as a tool call: the exit code says.
    code = dig(data, "shellExecution", "exitCode")
    if not succeeded or (type(code) is int and code != 0):
        return {"commands_run": 1, "commands_failed": 1}
    return {"commands_run": 1, **commits}
