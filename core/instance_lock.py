"""One agent per user: an OS-level lock on a file that names the holder's pid."""

from __future__ import annotations

import os
import sys
from contextlib import suppress
from pathlib import Path
from typing import IO


class AlreadyRunning(Exception):
    """Another agent holds this user's lock; names its pid when known."""

    def __init__(self, pid: int | None, path: Path) -> None:
        self.pid = pid
        super().__init__(
            f"an aitally agent is already running (pid {pid or 'unknown'}, lock {path}); "
            "stop it first or use `aitally status`"
        )


# Windows locks a byte range from the file's current position, and each process's position
# differs (the agent's file grows by its pid): every process seeks here first, so all lock the
# same byte. It lies past the pid text because a locked range cannot be read by others there,
# and `holder_pid` reads the text. Locking past the end of a file is allowed.
WINDOWS_LOCK_OFFSET = 1 << 20


def _try_lock(fh: IO[str]) -> bool:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fh.fileno(), WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def holder_pid(path: Path) -> int | None:
    """The pid the lock file names, or None."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def is_held(path: Path) -> bool:
    """True while a live agent holds the lock (the kernel drops it when the holder dies)."""
    try:
        with path.open("a+") as fh:
            if not _try_lock(fh):
                return True
            _unlock(fh)
            return False
    except OSError:
        return False


def _unlock(fh: IO[str]) -> None:
    # Windows releases a lock left at close only "eventually": a checker unlocks at once.
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fh.fileno(), WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)


class InstanceLock:
    """Held for the agent's lifetime; released by the kernel even on SIGKILL."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        """Takes the lock and writes our pid; AlreadyRunning when another process holds it."""
        # 0600 whatever the umask, as everything in the data folder (core/paths.py).
        fh = os.fdopen(os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600), "a+")
        if os.name == "posix":
            os.fchmod(fh.fileno(), 0o600)
        if not _try_lock(fh):
            fh.close()
            raise AlreadyRunning(holder_pid(self.path), self.path)
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._fh = fh

    def release(self) -> None:
        """Gives the lock up (the kernel also does when the process dies)."""
        if self._fh is not None:
            with suppress(OSError):
                _unlock(self._fh)
            self._fh.close()
            self._fh = None
