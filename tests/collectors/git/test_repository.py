"""The repository enclosing a session's folder: a plain repository, a worktree (`.git` file),
no repository."""

from __future__ import annotations

from pathlib import Path

from aitally.collectors.git.repository import enclosing_repository
from tests.collectors.git.repos import commit, git, new_repo


def test_a_folder_deep_in_a_repository_finds_its_top(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "project")
    deep = repo / "src" / "pkg"
    deep.mkdir(parents=True)
    assert enclosing_repository(str(deep)) == repo
    assert enclosing_repository(str(repo)) == repo


def test_a_worktree_is_its_own_repository(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "project")
    commit(repo, "first", 1_700_000_000)
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(worktree))
    assert (worktree / ".git").is_file()  # `gitdir: ...`, not a folder
    (worktree / "sub").mkdir()
    assert enclosing_repository(str(worktree / "sub")) == worktree


def test_no_repository_and_bad_folders_give_none(tmp_path: Path) -> None:
    plain = tmp_path / "plain" / "deeper"
    plain.mkdir(parents=True)
    assert enclosing_repository(str(plain)) is None
    assert enclosing_repository("relative/folder") is None
    assert enclosing_repository(str(tmp_path / "gone")) is None
    assert enclosing_repository("/tmp/\x00nul") is None
