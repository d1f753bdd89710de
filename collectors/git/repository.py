"""The git repository enclosing a folder: the nearest folder upwards holding `.git` (a folder,
or a file naming the git folder of a worktree or submodule). Only looked for, never opened:
git itself reads it (collectors/git/git_log.py)."""

from __future__ import annotations

import os
from pathlib import Path

# Folders climbed at most: deeper trees exist, but a repository that far up is not the
# session's project.
MAX_LEVELS = 32


def enclosing_repository(folder: str) -> Path | None:
    """The top folder of the repository `folder` is in, or None (no repository, an unreadable
    folder, a relative path)."""
    path = Path(folder)
    if not path.is_absolute():
        return None
    for _ in range(MAX_LEVELS):
        try:
            if os.path.lexists(path / ".git"):
                return path
        except (OSError, ValueError):  # ValueError: a NUL byte in a strange path
            return None
        if path.parent == path:
            return None
        path = path.parent
    return None
