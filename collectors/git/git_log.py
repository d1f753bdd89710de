"""Commits with AI in a repository over a time window, read with the real `git` binary.

git, not a reader of our own: packs, worktrees, alternates, commit graphs and every object
format are its to get right. What reaches this process is, per commit, its sha, its trailer
block (`%(trailers)`: the last paragraph of the message, and only when it is a trailer
block) and its `refs/notes/ai` note; never the rest of the message, never a diff. A commit is
one with AI when its trailer block carries an AI co-author or "Generated with" line
(collectors/files/outcomes/commits.py `AI_TRAILER`) or its git-ai note attributes lines to AI
(`ai_notes.py`); only the sha leaves this module, for a keyed hash (core/store/repo_commits.py).

The repository is not trusted (docs/clients/git.md): git runs with a minimal environment, no
system configuration, no optional locks, no lazy fetches, no pager, and the settings through
which a repository's own configuration could run a program on `git log` turned off; it never
runs hooks for `log`. A repository owned by someone else is refused by git itself
(`safe.directory`), and counted. Each run is bounded in time, output and commits.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from aitally.collectors.files.outcomes.commits import AI_TRAILER
from aitally.collectors.git.ai_notes import ai_lines

# A local repository answers in milliseconds; a run this long is a hostile or broken one.
TIMEOUT = 10.0
# Output read at most per run (trailer blocks and notes of up to MAX_COMMITS commits).
MAX_BYTES = 8 << 20
# Commits read at most per window: far more than a person makes in one session.
MAX_COMMITS = 2000
RECORD, FIELD = "\x1e", "\x1f"
# sha, trailer block (continuation lines unfolded), git-ai note.
FORMAT = "--format=%x1e%H%x1f%(trailers:unfold)%x1f%N"
SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
EMAIL = re.compile(r"<([^<>\n]*)>")
# Settings a repository's own config could use to run a program during `git log`, or to
# change what it prints; each overridden on the command line, which wins over the repository.
SAFE_SETTINGS = (
    "core.fsmonitor=false",
    "core.hooksPath=" + os.devnull,
    "core.pager=cat",
    "log.showSignature=false",
    "log.mailmap=false",
    "color.ui=never",
    "i18n.logOutputEncoding=UTF-8",
    # A "Co-authored-by" line makes a trailer block of a last paragraph that also holds a
    # "Generated with" line (git needs a known trailer in a block that is not all trailers).
    "trailer.aitally-coauthor.key=Co-authored-by",
)
# The environment git runs with: where the person's own configuration is (their email and
# safe.directory), nothing else of the agent's (no GIT_DIR, GIT_CONFIG_*...).
PASSED_ENV = (
    "PATH",
    "HOME",
    "XDG_CONFIG_HOME",
    "USERPROFILE",
    "SYSTEMROOT",
    "TMPDIR",
    "TEMP",
    "TMP",
)


class GitFailed(Exception):
    """A git run gave no usable answer; `reason` is what `aitally status` counts it under:
    `timeout`, `too_much_output`, `unsafe_repository`, `no_identity` (no email to commit
    under) or `error` (never the repository's path, nor git's own message, which may quote
    it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Window:
    """Commit times (committer date, Unix seconds) to read, inclusive."""

    since: float
    until: float


class Git:
    """The real git binary, run safely against one repository at a time."""

    def __init__(
        self,
        binary: str,
        *,
        timeout: float = TIMEOUT,
        max_bytes: int = MAX_BYTES,
        max_commits: int = MAX_COMMITS,
    ) -> None:
        self.binary = binary
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_commits = max_commits

    @classmethod
    def find(cls) -> Git | None:
        """git on PATH, or None when it is not installed."""
        binary = shutil.which("git")
        return None if binary is None else cls(binary)

    def committer(self, repo: Path) -> str | None:
        """The email the person commits under in this repository (as `git commit` would
        take it: environment, the repository's and the person's configuration), to read their
        commits only; kept in memory, never stored."""
        out = self._run(repo, ["var", "GIT_COMMITTER_IDENT"])
        found = EMAIL.search(out.decode("utf-8", "replace"))
        return found.group(1) if found and found.group(1) else None

    def ai_commits(self, repo: Path, window: Window, committer: str) -> list[str]:
        """The shas of the person's commits with AI on local branches in the window, newest
        first (a repository without commits yet has none). Commits fetched from others are
        not the person's: their committer differs."""
        out = self._run(
            repo,
            [
                "log",
                "--branches",
                "--no-notes",
                "--notes=ai",
                "--fixed-strings",
                f"--committer=<{committer}>",
                f"--since=@{int(window.since)}",
                f"--until=@{int(window.until) + 1}",
                f"--max-count={self.max_commits}",
                FORMAT,
                "--",
            ],
        )
        return _with_ai(out.decode("utf-8", "replace"))

    def _run(self, repo: Path, args: list[str]) -> bytes:
        """git's output for `args` in `repo`, within the bounds; GitFailed otherwise."""
        settings = [word for s in SAFE_SETTINGS for word in ("-c", s)]
        cmd = [self.binary, "--no-pager", "--no-replace-objects", *settings, "-C", str(repo)]
        try:
            proc = subprocess.Popen(
                [*cmd, *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=_environment(repo),
                start_new_session=sys.platform != "win32",
            )
        except OSError as exc:
            raise GitFailed("error") from exc
        assert proc.stdout is not None and proc.stderr is not None
        out = _Bounded(proc, proc.stdout, self.max_bytes)
        err = _Bounded(proc, proc.stderr, 4096, kill=False)
        try:
            code = proc.wait(self.timeout)
        except subprocess.TimeoutExpired:
            _kill(proc)
            proc.wait()
            code = None
        out.join()
        err.join()
        if code is None:
            raise GitFailed("timeout")
        if out.over:
            raise GitFailed("too_much_output")
        if code != 0:
            raise GitFailed(_reason(err.data))
        return out.data


def _reason(stderr: bytes) -> str:
    """Why git failed, from the start of its message (kept for nothing else)."""
    if b"safe.directory" in stderr or b"dubious ownership" in stderr:
        return "unsafe_repository"
    if any(m in stderr for m in (b"identity unknown", b"auto-detect email", b"empty ident")):
        return "no_identity"  # `git commit` could not commit here either
    return "error"


def _with_ai(text: str) -> list[str]:
    """The shas of the records (`FORMAT`) whose trailer block or git-ai note says AI."""
    shas = []
    for record in text.split(RECORD)[1:]:
        fields = record.split(FIELD)
        if len(fields) != 3 or not SHA.fullmatch(fields[0]):
            continue
        sha, trailers, note = fields
        if AI_TRAILER.search(trailers) or ai_lines(note) > 0:
            shas.append(sha)
    return shas


def _environment(repo: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in PASSED_ENV}
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_OPTIONAL_LOCKS="0",  # reading never writes the index
        GIT_NO_LAZY_FETCH="1",  # a partial clone never fetches over the network
        GIT_TERMINAL_PROMPT="0",
        GIT_PAGER="cat",
        LC_ALL="C",
        # git looks no further up than the repository found (collectors/git/repository.py).
        GIT_CEILING_DIRECTORIES=str(repo.parent),
    )
    return env


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """Ends git and anything it started (its own process group on POSIX)."""
    try:
        if sys.platform == "win32":
            proc.kill()
        else:
            os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass  # already gone


class _Bounded:
    """Reads a pipe on its own thread, keeping at most `limit` bytes; beyond them it ends the
    process (`kill`) or drops the rest."""

    def __init__(
        self, proc: subprocess.Popen[bytes], pipe: IO[bytes], limit: int, *, kill: bool = True
    ) -> None:
        self.proc, self.pipe, self.limit, self.kill = proc, pipe, limit, kill
        self.chunks: list[bytes] = []
        self.size = 0
        self.over = False
        self.thread = threading.Thread(target=self._pump, name="git-output", daemon=True)
        self.thread.start()

    def _pump(self) -> None:
        while chunk := self.pipe.read1(1 << 16):  # type: ignore[attr-defined]
            if self.size + len(chunk) > self.limit:
                self.over = True
                if self.kill:
                    _kill(self.proc)
                    break
                continue
            self.size += len(chunk)
            self.chunks.append(chunk)
        self.pipe.close()

    def join(self) -> None:
        # A grandchild of git's that escaped its group could keep the pipe open: not waited for.
        self.thread.join(timeout=2.0)

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)
