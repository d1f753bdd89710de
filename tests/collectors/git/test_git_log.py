"""Reading commits with AI with the real git: trailers and git-ai notes, the window, the
person's commits only, a worktree; and a hostile or broken repository or git binary, which
must neither hang, nor run a program, nor flood the agent."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from aitally.collectors.git.git_log import Git, GitFailed, Window
from tests.collectors.git.repos import ME, ai_message, commit, git, git_ai_note, new_repo

T0 = 1_750_000_000.0
WINDOW = Window(T0, T0 + 3600)


def real_git() -> Git:
    found = Git.find()
    if found is None:
        pytest.skip("the git binary is needed")
    return found


def test_commits_with_an_ai_trailer_or_note_in_the_window_only(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    before = commit(repo, ai_message("before the window"), T0 - 600)
    trailer = commit(repo, ai_message("by claude"), T0 + 60)
    plain = commit(repo, "by hand\n\nSigned-off-by: Dev <dev@example.test>", T0 + 120)
    noted = commit(repo, "kept by git-ai", T0 + 180)
    git_ai_note(repo, noted, "1-12")
    human = commit(repo, "typed by a person", T0 + 240)
    git_ai_note(repo, human, "1-3", key="h_31dce776f88375")
    codex = commit(repo, "fix\n\nCo-authored-by: Codex <codex@openai.com>", T0 + 300)
    after = commit(repo, ai_message("after the window"), T0 + 7200)
    shas = real_git().ai_commits(repo, WINDOW, ME)
    assert set(shas) == {trailer, noted, codex}
    assert not {before, plain, human, after} & set(shas)


def test_a_generated_with_line_counts_only_inside_the_trailer_block(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    block = commit(repo, "x\n\nGenerated with Gemini CLI\nCo-authored-by: Dev <d@x.test>", T0 + 1)
    body = commit(repo, "x\n\nGenerated with Gemini CLI, said the body\n\nfin", T0 + 2)
    assert real_git().ai_commits(repo, WINDOW, ME) == [block]
    assert body


def test_only_the_persons_own_commits_count(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    mine = commit(repo, ai_message("mine"), T0 + 10)
    # A colleague's commit pulled in (its committer is theirs), and one whose email merely
    # contains the person's.
    commit(repo, ai_message("theirs"), T0 + 20, email="colleague@example.test")
    commit(repo, ai_message("lookalike"), T0 + 30, email="x" + ME)
    g = real_git()
    assert g.committer(repo) == ME
    assert g.ai_commits(repo, WINDOW, ME) == [mine]


def test_every_local_branch_and_a_worktree(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    commit(repo, "base", T0 - 100)
    worktree = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "feature", str(worktree))
    on_feature = commit(worktree, ai_message("in the worktree"), T0 + 50)
    on_main = commit(repo, ai_message("on main"), T0 + 60)
    g = real_git()
    assert set(g.ai_commits(worktree, WINDOW, ME)) == {on_feature, on_main}
    assert set(g.ai_commits(repo, WINDOW, ME)) == {on_feature, on_main}


def test_an_empty_repository_and_no_notes_ref_read_as_nothing(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    assert real_git().ai_commits(repo, WINDOW, ME) == []


def test_commits_read_at_most_max_commits(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    for i in range(5):
        commit(repo, ai_message(f"c{i}"), T0 + i)
    g = real_git()
    assert len(Git(g.binary, max_commits=3).ai_commits(repo, WINDOW, ME)) == 3


def test_a_huge_history_before_the_window_is_not_walked(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    n = 20_000
    stream = []
    for i in range(n):
        when = int(T0 - 10 * 86400 + i) if i < n - 1 else int(T0 + 5)
        msg = ai_message(f"c{i}").encode()
        stream.append(
            f"commit refs/heads/main\ncommitter Dev <{ME}> {when} +0000\ndata {len(msg)}\n".encode()
            + msg
            + b"\n"
        )
    subprocess.run(
        ["git", "-C", str(repo), "fast-import", "--quiet"],
        input=b"".join(stream),
        check=True,
    )
    g = real_git()
    start = time.perf_counter()
    shas = g.ai_commits(repo, WINDOW, ME)
    elapsed = time.perf_counter() - start
    assert len(shas) == 1
    assert elapsed < 2.0, elapsed


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.skipif(os.name != "posix", reason="shell scripts as the repository's programs")
def test_a_hostile_repositorys_configuration_runs_nothing(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    ran = tmp_path / "ran"
    trap = _script(tmp_path / "trap.sh", f'echo "$0 $*" >> {ran}\nsleep 30')
    # A signed commit, so that `log.showSignature` would run the gpg program.
    signer = _script(
        tmp_path / "sign.sh",
        "cat > /dev/null\n"  # the payload: git fails when nobody reads it
        'printf "\\n[GNUPG:] SIG_CREATED \\n" >&2\n'
        "printf -- '-----BEGIN PGP SIGNATURE-----\\n\\nx\\n-----END PGP SIGNATURE-----\\n'",
    )
    commit(repo, "seed", T0 + 1)
    git(
        repo,
        "-c",
        f"gpg.program={signer}",
        "commit",
        "-q",
        "-S",
        "--amend",
        "-m",
        ai_message("s"),
        env={"GIT_COMMITTER_DATE": f"@{int(T0 + 2)} +0000"},
    )
    git_ai_note(repo, git(repo, "rev-parse", "HEAD").strip(), "1")
    for key, value in (
        ("core.fsmonitor", str(trap)),
        ("core.pager", str(trap)),
        ("pager.log", str(trap)),
        ("log.showSignature", "true"),
        ("gpg.program", str(trap)),
        ("gpg.openpgp.program", str(trap)),
        ("diff.external", str(trap)),
        ("core.hooksPath", str(tmp_path)),
        ("log.decorate", "full"),
        ("format.pretty", "raw"),
        ("notes.displayRef", "refs/notes/*"),
        ("i18n.logOutputEncoding", "UTF-16"),
    ):
        git(repo, "config", key, value)
    for hook in ("post-checkout", "post-index-change", "reference-transaction", "pre-commit"):
        _script(repo / ".git" / "hooks" / hook, f"echo hook >> {ran}")
    g = real_git()
    start = time.perf_counter()
    assert g.committer(repo) == ME
    assert len(g.ai_commits(repo, WINDOW, ME)) == 1
    assert time.perf_counter() - start < 5.0
    assert not ran.exists(), ran.read_text()


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for git")
def test_a_git_that_hangs_is_killed_at_the_timeout(tmp_path: Path) -> None:
    child = tmp_path / "child.pid"
    fake = _script(tmp_path / "git", f"sleep 60 & echo $! > {child}\nwait")
    start = time.perf_counter()
    with pytest.raises(GitFailed) as failed:
        Git(str(fake), timeout=0.5).ai_commits(tmp_path, WINDOW, ME)
    assert failed.value.reason == "timeout"
    assert time.perf_counter() - start < 5.0
    time.sleep(0.2)
    pid = int(child.read_text())
    # The process git started went with it (its process group was killed).
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


@pytest.mark.skipif(os.name != "posix", reason="a shell script stands in for git")
def test_endless_output_is_cut_at_the_bound(tmp_path: Path) -> None:
    fake = _script(tmp_path / "git", "exec yes ABCDEFGHIJ")
    start = time.perf_counter()
    with pytest.raises(GitFailed) as failed:
        Git(str(fake), max_bytes=1 << 20).ai_commits(tmp_path, WINDOW, ME)
    assert failed.value.reason == "too_much_output"
    assert time.perf_counter() - start < 5.0


def test_not_a_repository_and_a_missing_binary_fail_cleanly(tmp_path: Path) -> None:
    with pytest.raises(GitFailed) as failed:
        real_git().ai_commits(tmp_path / "nowhere", WINDOW, ME)
    assert failed.value.reason == "error"
    with pytest.raises(GitFailed) as missing:
        Git(str(tmp_path / "no-git")).committer(tmp_path)
    assert missing.value.reason == "error"


def test_no_git_on_path_is_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert Git.find() is None


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs chown")
def test_a_repository_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    commit(repo, ai_message("theirs"), T0 + 1)
    for path in [repo, *repo.rglob("*")]:
        os.lchown(path, 65534, 65534)
    with pytest.raises(GitFailed) as failed:
        real_git().ai_commits(repo, WINDOW, ME)
    assert failed.value.reason == "unsafe_repository"
    assert shutil.which("git")


def test_a_repository_without_an_identity_is_told_apart(tmp_path: Path) -> None:
    repo = new_repo(tmp_path / "r")
    git(repo, "config", "--unset", "user.email")
    git(repo, "config", "user.useConfigOnly", "true")
    with pytest.raises(GitFailed) as failed:
        real_git().committer(repo)
    assert failed.value.reason == "no_identity"
