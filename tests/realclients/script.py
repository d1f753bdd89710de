"""What a stand-in replies: scripted steps written into the prompts themselves.

A prompt holds directives such as `[[shell: echo hi]]` or `[[edit: notes.txt]]`; the stand-in
answers the person's latest prompt with its directives' tool calls in order, one per reply (the
number of tool results since that prompt says which is next), then with a text reply. A prompt
without directives gets a text reply. This keeps the stand-ins stateless, so resumed, forked and
compacted sessions, subagents and side calls (titles, classifiers) all get consistent answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

KINDS = ("shell", "read", "edit", "write", "task")
DIRECTIVE = re.compile(r"\[\[(shell|read|edit|write|task):\s*([^\]]*)\]\]")

# The file every scenario's working folder starts with, and the edit the `edit` step makes.
EDIT_FILE_TEXT = "alpha\n"
EDIT_OLD = "alpha"
EDIT_NEW = "beta AITALLY-MARKER-edit"
EDIT_APPLIED_TEXT = EDIT_FILE_TEXT.replace(EDIT_OLD, EDIT_NEW)
# The line the person adds to a proposed edit before accepting it (editor.py), and the file after.
PERSON_LINE = "gamma AITALLY-MARKER-person"
EDIT_MODIFIED_TEXT = f"{EDIT_APPLIED_TEXT}{PERSON_LINE}\n"
WRITE_TEXT = "AITALLY-MARKER-write one\nline two\n"
# What a `task` step asks its subagent to do: one shell command, then a text reply.
SUBAGENT_PROMPT = "Scripted subagent check. [[shell: echo AITALLY-MARKER-subagent]]"
FINAL_TEXT = "Done: the scripted step is complete."


@dataclass(frozen=True)
class Action:
    """One scripted tool call: its kind (one of KINDS) and argument (command or file name)."""

    kind: str
    arg: str


def planned_actions(prompt: str) -> list[Action]:
    """The directives of a prompt, in order."""
    return [Action(kind, arg.strip()) for kind, arg in DIRECTIVE.findall(prompt)]


def next_action(
    prompt: str, tool_results_since: int, offered: Callable[[str], bool]
) -> Action | None:
    """The tool call to make now, or None when the reply should be text. Steps whose kind the
    client offers no tool for (`offered(kind)` false, e.g. Codex has no read tool) are skipped."""
    plan = [a for a in planned_actions(prompt) if offered(a.kind)]
    return plan[tool_results_since] if tool_results_since < len(plan) else None


def reply_text(prompt: str) -> str:
    """The text of a text reply: harmless and scripted, never an echo of the prompt."""
    return FINAL_TEXT if planned_actions(prompt) else "Hello from the scripted stand-in."
