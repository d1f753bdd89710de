"""Commits recognised from the shell commands the tools ran (outcomes/commits.py)."""

from __future__ import annotations

import pytest

from aitally.collectors.files.outcomes.commits import commit_counts, is_commit

TRAILER = "-m 'Co-Authored-By: Claude <noreply@anthropic.com>'"


@pytest.mark.parametrize(
    "command",
    [
        "git commit -m x",
        "git add -A && git commit -q -m 'tidy'",
        "git -C /repo commit -m x",
        "git --no-pager commit --amend --no-edit",
        "/bin/bash -lc git commit -m x",
    ],
)
def test_git_commit_commands_are_commits(command: str) -> None:
    assert is_commit(command)
    assert commit_counts(command) == {"commits": 1}


@pytest.mark.parametrize(
    "command",
    [
        "git commit-tree HEAD^{tree}",
        "git log --grep commit",
        "echo git and commit",
        "git status",
        "svn commit -m x",
        "gitcommit",
    ],
)
def test_other_commands_are_not(command: str) -> None:
    assert not is_commit(command)
    assert commit_counts(command) == {}


@pytest.mark.parametrize(
    "trailer",
    [
        TRAILER,
        "-m 'co-authored-by: Codex <codex@openai.com>'",
        "-m 'Generated with Gemini CLI'",
    ],
)
def test_an_ai_trailer_makes_a_commit_with_ai(trailer: str) -> None:
    assert commit_counts(f"git commit -m 'fix' {trailer}") == {"commits": 1, "commits_with_ai": 1}


def test_a_trailer_outside_a_commit_is_nothing() -> None:
    assert commit_counts(f"echo {TRAILER}") == {}
