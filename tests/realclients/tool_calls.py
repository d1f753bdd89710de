"""Builds a scripted Action into a call of whichever tool the client offers for it.

Each client names its tools differently (Claude Code `Bash`, Codex `shell_command` or
`apply_patch`, Gemini CLI `run_shell_command`, Copilot CLI `bash`); the arguments are filled from
the tool's own JSON schema, so a renamed argument in a new version still gets a value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.realclients.script import (
    EDIT_NEW,
    EDIT_OLD,
    SUBAGENT_PROMPT,
    WRITE_TEXT,
    Action,
)

CANDIDATES: dict[str, tuple[str, ...]] = {
    "shell": ("Bash", "bash", "shell_command", "exec_command", "shell", "run_shell_command"),
    "read": ("Read", "view", "read_file"),
    "edit": ("Edit", "edit", "replace", "str_replace_editor", "apply_patch"),
    "write": ("Write", "create", "write_file", "apply_patch"),
    "task": ("Task", "Agent", "task"),
}
PATH_KEYS = ("file_path", "path", "absolute_path")
COMMAND_KEYS = ("command", "cmd")
OLD_KEYS = ("old_string", "old_str", "old_text")
NEW_KEYS = ("new_string", "new_str", "new_text")
CONTENT_KEYS = ("content", "file_text")


@dataclass(frozen=True)
class ToolSpec:
    """A tool as the client declared it: name, JSON schema of its arguments, and whether it
    takes free-form text instead of JSON (Codex's custom `apply_patch`)."""

    name: str
    schema: dict[str, Any] = field(default_factory=dict)
    freeform: bool = False


@dataclass(frozen=True)
class ToolCall:
    """A call to emit: the tool's name and its arguments (a dict, or text for free-form)."""

    name: str
    arguments: dict[str, Any] | str
    freeform: bool = False


def pick_tool(kind: str, tools: list[ToolSpec]) -> ToolSpec | None:
    """The client's tool for `kind`, by the first candidate name it declares."""
    by_name = {t.name: t for t in tools}
    for name in CANDIDATES[kind]:
        if name in by_name:
            return by_name[name]
    return None


def patch_text(action: Action) -> str:
    """The apply_patch envelope for an edit or a new file."""
    if action.kind == "write":
        body = "".join(f"+{line}\n" for line in WRITE_TEXT.splitlines())
        return f"*** Begin Patch\n*** Add File: {action.arg}\n{body}*** End Patch\n"
    return (
        f"*** Begin Patch\n*** Update File: {action.arg}\n@@\n-{EDIT_OLD}\n+{EDIT_NEW}\n"
        "*** End Patch\n"
    )


def build_call(action: Action, tools: list[ToolSpec], workdir: Path) -> ToolCall | None:
    """The call for `action`, or None when the client offers no tool for it."""
    tool = pick_tool(action.kind, tools)
    if tool is None:
        return None
    if tool.name == "apply_patch":
        text = patch_text(action)
        if tool.freeform:
            return ToolCall(tool.name, text, freeform=True)
        return ToolCall(tool.name, {"input": text})
    props: dict[str, Any] = tool.schema.get("properties") or {}
    args: dict[str, Any] = {}

    def put(keys: tuple[str, ...], value: Any) -> None:
        for key in keys:
            if key in props:
                args[key] = value
                return

    put(PATH_KEYS, str(workdir / action.arg))
    if action.kind == "shell":
        for key in COMMAND_KEYS:
            if key in props:
                is_array = props[key].get("type") == "array"
                args[key] = ["bash", "-lc", action.arg] if is_array else action.arg
                break
    elif action.kind == "edit":
        put(OLD_KEYS, EDIT_OLD)
        put(NEW_KEYS, EDIT_NEW)
    elif action.kind == "write":
        put(CONTENT_KEYS, WRITE_TEXT)
    elif action.kind == "task":
        args["prompt"] = SUBAGENT_PROMPT
        put(("subagent_type", "agent_type"), "general-purpose")
    for key in tool.schema.get("required") or []:
        if key not in args:
            kind = (props.get(key) or {}).get("type")
            args[key] = 1 if kind in ("integer", "number") else "scripted step"
    return ToolCall(tool.name, args)
