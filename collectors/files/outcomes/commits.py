"""Commits from the shell commands an AI tool ran: a `git commit` that succeeded is a commit
made in the session, and one whose message carries an AI co-author or "Generated with" trailer
is a commit with AI (docs/measuring.md).

The tools' own files are all there is to go on: Claude Code 2.1.197 writes no
`gitOperation` for a commit run offline, Codex and Gemini CLI never do (docs/clients/). The
command is searched in memory and nothing of it is kept.
"""

from __future__ import annotations

import re

# `git commit`, possibly after options (`git -C dir commit`) or other commands (`git add -A &&
# git commit ...`); not `git commit-tree` nor a word merely containing "commit".
GIT_COMMIT = re.compile(r"\bgit\b(?:\s+-{1,2}[\w-]+(?:[ =](?!commit\b)\S+)?)*\s+commit(?![\w-])")
# The trailers AI tools write into a commit message (Claude Code's own by default).
AI_TRAILER = re.compile(
    r"co-authored-by:[^\n]*\b(claude|anthropic|codex|openai|gemini|copilot|cursor)\b"
    r"|generated with[^\n]*\b(claude|codex|gemini|copilot|cursor)\b",
    re.IGNORECASE,
)


def is_commit(command: str) -> bool:
    """Whether a shell command runs `git commit`."""
    return GIT_COMMIT.search(command) is not None


def commit_counts(command: str) -> dict[str, int]:
    """`commits` (and `commits_with_ai`) for a command that ran successfully; empty when it
    is no commit."""
    if not is_commit(command):
        return {}
    if AI_TRAILER.search(command):
        return {"commits": 1, "commits_with_ai": 1}
    return {"commits": 1}
