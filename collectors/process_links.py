"""Which of its tool's own sessions each live session process works on, from what the tool
leaves open or writes (docs/architecture.md, "One session per use"): the basis of the
`ProcessLink`s the process scanner emits."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

import psutil

from aitally.collectors.files import roots as tool_roots
from aitally.core.observation import Role

# A tool's own way to tell which of its sessions a live process works on, for tools whose
# process holds no file naming it (Gemini CLI): (its session id, the file that names it), or
# None while unknown.
Linker = Callable[[psutil.Process], tuple[str, str] | None]
# A file written this long before a process started is not that process's work.
SLACK = 2.0


class Watched(Protocol):
    """What is read of a tracked process (`processes.Tracked`)."""

    proc: psutil.Process
    tool: str
    role: Role
    create_time: float
    owner: int | None
    linked: str | None


def _held(
    t: Watched, pattern: re.Pattern[str], watched: Sequence[str] | None
) -> Iterable[tuple[str, str]]:
    """(session id, path) of each file naming a session that the process holds open, in a
    folder the agent reads (`watched`, resolved; None: any)."""
    try:
        files = t.proc.open_files()
    except (psutil.Error, OSError):
        return
    for f in files:
        path = f.path.replace("\\", "/")
        m = pattern.search(path)
        if m and _read_here(f.path, watched):
            yield m.group(1), f.path


def _read_here(path: str, watched: Sequence[str] | None) -> bool:
    """Whether the agent reads `path`: a session in folders it never reads (another HOME's
    client) is nothing to link a process to."""
    return watched is None or any(tool_roots.inside(path, root) for root in watched)


def _uses(t: Watched, path: str) -> bool:
    """Whether `path` lies in one of the tool's folders as the process `t` sees them (its own
    HOME, CODEX_HOME...): a daemon of another home's client never lends it a session."""
    finder = tool_roots.FINDERS.get(t.tool)
    try:
        env = t.proc.environ()
    except (psutil.Error, OSError):
        return False
    return finder is not None and any(
        tool_roots.inside(path, os.path.realpath(root)) for root in finder(env)
    )


def sessions_of(
    roots: Mapping[int, Watched],
    helpers: Iterable[Watched],
    patterns: Mapping[str, re.Pattern[str]],
    linkers: Mapping[str, Linker],
    watched: Mapping[str, Sequence[str]] | None = None,
) -> dict[int, str]:
    """Root pid -> the tool session id it works on, where one is known now:

    1. a file the root or one of its folded helpers holds open names it (Codex `exec`'s
       rollout, Copilot CLI's `inuse.<pid>.hold`);
    2. a daemon of the tool holds it open (the Codex TUI's rollout is written by its
       `app-server --managed-daemon`, which keeps threads loaded after the TUI exits): it goes
       to the newest root of the tool not linked yet that started before the file was last
       written; a loaded thread nobody writes to is never handed to a later process;
    3. the tool's linker finds it (Gemini CLI), asked until it answers.

    Only files in the folders the agent reads count (`watched`: tool -> resolved folders;
    None: any folder).
    """

    def where(tool: str) -> Sequence[str] | None:
        return None if watched is None else watched.get(tool, ())

    named: dict[int, str] = {}
    for pid, t in roots.items():
        pattern = patterns.get(t.tool)
        if pattern is not None and t.role == "session":
            named.update((pid, sid) for sid, _ in list(_held(t, pattern, where(t.tool)))[:1])
    for t in helpers:
        pattern = patterns.get(t.tool)
        if pattern is not None and t.owner is not None and t.owner not in named:
            named.update((t.owner, sid) for sid, _ in list(_held(t, pattern, where(t.tool)))[:1])
    taken = set(named.values()) | {t.linked for t in roots.values() if t.linked is not None}
    for t in roots.values():
        pattern = patterns.get(t.tool)
        if t.role != "daemon" or pattern is None:
            continue
        for sid, path in _held(t, pattern, where(t.tool)):
            if sid in taken:
                continue
            try:
                written = os.stat(path).st_mtime
            except OSError:
                continue
            free = [
                (r.create_time, pid)
                for pid, r in roots.items()
                if r.tool == t.tool
                and r.role == "session"
                and r.linked is None
                and pid not in named
                and r.create_time <= written + SLACK
                and _uses(r, path)
            ]
            if free:
                named[max(free)[1]] = sid
                taken.add(sid)
    for pid, t in roots.items():
        linker = linkers.get(t.tool)
        if linker is None or t.role != "session" or t.linked is not None or pid in named:
            continue
        try:
            found = linker(t.proc)
        except (psutil.Error, OSError):
            found = None
        if found is not None and _read_here(found[1], where(t.tool)):
            named[pid] = found[0]
    return named
