"""Which Gemini CLI chat a live `gemini` process writes: the tool names no process in its
files, so the chat is found by the project (its header's `projectHash` is the SHA-256 of the
folder the process runs in) and by time (written since the process started)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import psutil

from aitally.collectors.files import roots
from aitally.collectors.files.adapters.base import text
from aitally.collectors.files.lines import open_regular

# The chat header is one short line; nothing past it is read.
HEADER_MAX_BYTES = 4096
# A chat written this long before the process started is not its own (clock granularity).
SLACK = 2.0


def _header(path: Path) -> tuple[str, str] | None:
    """(sessionId, projectHash) of a chat file's header line, never more of the file."""
    try:
        with open_regular(path) as fh:
            first = fh.readline(HEADER_MAX_BYTES)
        obj = json.loads(first)
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(obj, dict) or "type" in obj:
        return None
    sid, project = text(obj.get("sessionId")), text(obj.get("projectHash"), 64)
    return (sid, project) if sid and project else None


def session_of(proc: psutil.Process) -> tuple[str, str] | None:
    """(session id, chat file) of the chat `proc` (a Gemini CLI process) writes, if one is
    found: the most recently written chat of its project written since it started (a resumed
    chat started earlier, so its start time is not compared)."""
    try:
        cwd = proc.cwd()
        env = proc.environ()
        started = proc.create_time()
    except (psutil.Error, OSError):
        return None
    project = hashlib.sha256(cwd.encode()).hexdigest()
    best: tuple[float, str, str] | None = None
    for root in roots.gemini_cli(env):
        for chats in _chat_folders(root, cwd, project):
            try:
                entries = list(os.scandir(chats))
            except OSError:
                continue
            for entry in entries:
                if not (entry.name.startswith("session-") and entry.name.endswith(".jsonl")):
                    continue
                try:
                    mtime = entry.stat().st_mtime
                except OSError:
                    continue
                if mtime < started - SLACK or (best is not None and mtime <= best[0]):
                    continue
                head = _header(Path(entry.path))
                if head is not None and head[1] == project:
                    best = (mtime, head[0], entry.path)
    return None if best is None else (best[1], best[2])


def _chat_folders(root: Path, cwd: str, project: str) -> list[Path]:
    """tmp/<short name>/chats (projects.json maps the folder to its name; read in memory,
    never kept) and the older tmp/<projectHash>/chats."""
    folders = [root / "tmp" / project / "chats"]
    try:
        with open_regular(root / "projects.json") as fh:
            names = json.loads(fh.read(1 << 20)).get("projects")
    except (OSError, ValueError, RecursionError, AttributeError):
        return folders
    name = names.get(cwd) if isinstance(names, dict) else None
    if isinstance(name, str) and name and "/" not in name and name not in (".", ".."):
        folders.insert(0, root / "tmp" / name / "chats")
    return folders
