"""Test helpers: real git repositories in the test's folder, commits at chosen times."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ME = "dev@example.test"
CLAUDE = "Co-Authored-By: Claude <noreply@anthropic.com>"


def git(repo: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Runs the real git in `repo`; its output."""
    out = subprocess.run(
        ["git", "-C", str(repo), *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, (args, out.stderr)
    return out.stdout


def new_repo(path: Path, *, email: str = ME) -> Path:
    """An empty repository at `path` committing as `email`."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", email)
    git(path, "config", "user.name", "Dev")
    return path


def commit(
    repo: Path, message: str, at: float, *, file: str = "a.txt", email: str | None = None
) -> str:
    """A commit changing `file`, committed at Unix time `at` (by `email`, else the repo's
    own identity); its sha."""
    target = repo / file
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a") as f:
        f.write(f"{at}\n")
    git(repo, "add", "-A")
    env = {"GIT_COMMITTER_DATE": f"@{int(at)} +0000", "GIT_AUTHOR_DATE": f"@{int(at)} +0000"}
    if email:
        env |= {"GIT_COMMITTER_EMAIL": email, "GIT_AUTHOR_EMAIL": email}
    git(repo, "commit", "-q", "-m", message, env=env)
    return git(repo, "rev-parse", "HEAD").strip()


def ai_message(subject: str) -> str:
    """A commit message as Claude Code writes it: a "Generated with" paragraph, then its
    co-author trailer."""
    return f"{subject}\n\nGenerated with Claude Code\n\n{CLAUDE}\n"


AI_SESSION = "s_0123456789abcd::t_00112233445566"


def git_ai_note(repo: Path, sha: str, ranges: str, *, key: str = AI_SESSION) -> None:
    """A git-ai authorship note on `sha` attributing `ranges` to `key` (an AI session)."""
    note = (
        f"src/main.rs\n  {key} {ranges}\n---\n"
        '{"schema_version": "authorship/3.0.0", "prompts": {}}\n'
    )
    git(repo, "notes", "--ref=ai", "add", "-f", "-m", note, sha)
