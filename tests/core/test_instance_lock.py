"""The single-instance lock's Windows path, with a fake msvcrt (Windows cannot run here)."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest

from aitally.core.instance_lock import AlreadyRunning, InstanceLock, holder_pid, is_held


class FakeMsvcrt(types.ModuleType):
    """Records the file position of every locking call and enforces byte-range exclusion
    between file descriptors, as LockFile does between processes."""

    LK_NBLCK, LK_UNLCK = 2, 0

    def __init__(self) -> None:
        super().__init__("msvcrt")
        self.calls: list[tuple[int, int]] = []  # (mode, position)
        self.held: dict[int, int] = {}  # locked byte -> fd

    def locking(self, fd: int, mode: int, nbytes: int) -> None:
        pos = os.lseek(fd, 0, os.SEEK_CUR)
        self.calls.append((mode, pos))
        if mode == self.LK_UNLCK:
            self.held.pop(pos, None)
        elif self.held.get(pos, fd) != fd:
            raise OSError(36, "Resource deadlock avoided")
        else:
            self.held[pos] = fd


@pytest.fixture
def msvcrt(monkeypatch: pytest.MonkeyPatch) -> FakeMsvcrt:
    fake = FakeMsvcrt()
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    monkeypatch.setattr(sys, "platform", "win32")
    return fake


def test_every_process_locks_the_same_byte_on_windows(msvcrt: FakeMsvcrt, tmp_path: Path) -> None:
    """Issue 17: the lock was taken at the file's current position, which differs between the
    agent (a stale pid in the file) and a checker (our pid, another length)."""
    path = tmp_path / "agent.lock"
    path.write_text("12")  # a stale pid of another length
    agent = InstanceLock(path)
    agent.acquire()
    assert holder_pid(path) == os.getpid()  # the pid text stays readable
    assert is_held(path)  # a checker (status, doctor, uninstall) sees the agent
    with pytest.raises(AlreadyRunning):
        InstanceLock(path).acquire()
    positions = {pos for _mode, pos in msvcrt.calls}
    assert len(positions) == 1 and positions.pop() > len(str(os.getpid()))
    agent.release()
    assert not is_held(path) and msvcrt.held == {}
