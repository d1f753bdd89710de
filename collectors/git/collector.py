"""The git collector: commits with AI made in a session's repository during the session or soon
after it, credited to its segments (docs/clients/git.md).

Each step it learns, once per live tool process, the folder the process works in (its current
directory) and the repository enclosing it; the path stays in this object's memory only and
goes with the agent. A session with a repository is held (core/store/repo_commits.py): its
segments' records wait in the outbox for their last read, made `after` seconds after the
segment ends. Open segments are read every `REREAD` seconds, so local views show commits as
they are made. At most `READS_PER_STEP` reads per step, each bounded (git_log.py); a
repository that runs into a bound (a timeout, endless output) is not read again while the
agent runs, so a slow or hostile repository stalls the agent's loop once, not every step.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from aitally.collectors.git.git_log import Git, GitFailed, Window
from aitally.collectors.git.repository import enclosing_repository
from aitally.core.config import Config
from aitally.core.logs import RateLimited
from aitally.core.store import Store, repo_commits, sessions
from aitally.core.store.repo_commits import SegmentWindow

log = logging.getLogger(__name__)

# The store counter (`aitally status`: `git_repositories`) of reads by outcome.
COUNTER = "git"
# A commit up to this long before a segment's first activity is still its own (the tool's
# timestamps and git's come from one clock, but a segment starts at its first observation).
BEFORE = 60.0
# Seconds between reads of an open segment's repository.
REREAD = 300.0
# git runs per agent step at most.
READS_PER_STEP = 2
# A hold outlives the last refresh by this much; the running agent refreshes it every step.
HOLD_SLACK = 600.0
# Failures after which a repository is not read again (git_log.py's bounds).
BOUNDS = frozenset({"timeout", "too_much_output"})


@dataclass(slots=True)
class _Repository:
    """A held session's repository (in memory only) and what was read of it."""

    path: Path
    # The person's commit email here; "" when git has none, None until asked.
    committer: str | None = None
    last_read: dict[int, float] = field(default_factory=dict)


class GitCollector:
    """Collector protocol (core/collector.py): nothing to start but forgetting the holds of a
    previous run; step() learns folders, holds sessions and reads due segments."""

    name = "git"

    def __init__(self, store: Store, git: Git | None, *, after: float) -> None:
        self.store = store
        self.git = git
        self.after = after
        self.problems = RateLimited(log)
        # (pid, create time) -> the repository its folder is in, None when it is in none.
        self._processes: dict[tuple[int, float], Path | None] = {}
        # session id -> its repository.
        self._sessions: dict[int, _Repository] = {}
        # Repositories that ran into a bound: not read again.
        self._given_up: set[Path] = set()

    def start(self) -> None:
        # Holds of a previous run name sessions whose folders this one does not know yet.
        with self.store.transaction() as conn:
            repo_commits.release(conn)
        if self.git is None:
            log.warning(
                "git is not installed: commits in the sessions' repositories are not read "
                "(install git to count them; docs/clients/git.md)"
            )
            self.store.count(COUNTER, "not_installed")

    def step(self, now: float) -> None:
        if self.git is None:
            return
        live = sessions.live_process_sessions(self.store.conn)
        self._learn(live)
        if self._sessions:
            with self.store.transaction() as conn:
                repo_commits.hold(conn, list(self._sessions), now + self.after + HOLD_SLACK)
        self._read_due(self.git, now, {sid for _, _, sid in live})

    def interrupt(self) -> None:
        """Nothing long-running to interrupt: every git run is bounded."""

    def stop(self) -> None:
        # Without this agent, no last read will come: the records may go as they are.
        with self.store.transaction() as conn:
            repo_commits.release(conn)

    def _learn(self, live: list[tuple[int, float, int]]) -> None:
        """Each live process's repository, looked for once per process."""
        alive = {(pid, ct) for pid, ct, _ in live}
        for gone in set(self._processes) - alive:
            del self._processes[gone]
        for pid, create_time, sid in live:
            key = (pid, create_time)
            if key not in self._processes:
                self._processes[key] = _repository_of(pid, create_time)
            repo = self._processes[key]
            if repo is not None and repo not in self._given_up and sid not in self._sessions:
                self._sessions[sid] = _Repository(repo)

    def _read_due(self, git: Git, now: float, live: set[int]) -> None:
        """Reads the segments due now, at most READS_PER_STEP; live: sessions with a process."""
        budget = READS_PER_STEP
        for sid, repo in list(self._sessions.items()):
            pending = repo_commits.to_read(self.store.conn, sid)
            if not pending and sid not in live:
                del self._sessions[sid]  # nothing left to read, nor any process to bring more
                with self.store.transaction() as conn:
                    repo_commits.release(conn, [sid])
                continue
            for seg in pending:
                if budget == 0:
                    return
                window = self._due(repo, seg, now)
                if window is not None:
                    budget -= 1
                    self._read(git, repo, seg, window, now, last=seg.ended_at is not None)
                    if sid not in self._sessions:
                        break  # given up on

    def _due(self, repo: _Repository, seg: SegmentWindow, now: float) -> Window | None:
        """The window to read now for this segment, or None when no read is due."""
        since = seg.started_at - BEFORE
        if seg.ended_at is None:
            if now - repo.last_read.get(seg.id, 0.0) < REREAD:
                return None
            return Window(since, now)
        end = seg.ended_at + self.after
        return Window(since, end) if now >= end else None

    def _read(
        self,
        git: Git,
        repo: _Repository,
        seg: SegmentWindow,
        window: Window,
        now: float,
        *,
        last: bool,
    ) -> None:
        repo.last_read[seg.id] = now
        try:
            if repo.committer is None:
                repo.committer = git.committer(repo.path) or ""
            shas = git.ai_commits(repo.path, window, repo.committer) if repo.committer else []
        except GitFailed as exc:
            if exc.reason == "no_identity":
                repo.committer = ""  # asked once: nobody commits here under this configuration
            if exc.reason in BOUNDS:
                self._give_up(repo.path)
            # The reason only: git's message may quote the repository's path.
            self.problems.warning(
                exc.reason,
                "a session's git repository could not be read (%s); counted in status",
                exc.reason,
            )
            self.store.count(COUNTER, exc.reason)
            shas = []
        with self.store.transaction() as conn:
            repo_commits.record_read(conn, seg.id, shas, last=last)
        if last:
            repo.last_read.pop(seg.id, None)

    def _give_up(self, path: Path) -> None:
        """Stops reading a repository: its sessions' records go as they are."""
        self._given_up.add(path)
        dropped = [sid for sid, repo in self._sessions.items() if repo.path == path]
        for sid in dropped:
            del self._sessions[sid]
        with self.store.transaction() as conn:
            repo_commits.release(conn, dropped)


def _repository_of(pid: int, create_time: float) -> Path | None:
    """The repository enclosing the folder process `pid` works in; None when there is none
    or the process (no longer the one seen) cannot be asked."""
    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - create_time) >= 0.01:
            return None
        folder = proc.cwd()
    except (psutil.Error, OSError):
        return None
    return enclosing_repository(folder)


def create(cfg: Config, store: Store) -> GitCollector | None:
    """The collector, or None when `collectors.git_commits` is false."""
    if not cfg.get("collectors", "git_commits"):
        return None
    return GitCollector(store, Git.find(), after=float(cfg.get("collectors", "git_after")))
