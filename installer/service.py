"""One interface for registering the agent to start at login, with one private module per OS."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

# The label names the job on every OS (launchd label, Task Scheduler task, unit file stem).
LABEL = "org.aitally.agent"
UNIT = "aitally.service"


class InstallError(Exception):
    """A registration step failed; str() is one line naming the problem and the fix."""


# Runs an external command (systemctl, launchctl, schtasks); tests pass a recorder where the
# real tool cannot exist on this machine.
Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


def run_command(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)
    except FileNotFoundError:
        return subprocess.CompletedProcess(list(argv), 127, "", f"{argv[0]}: not found")


def checked(runner: Runner, argv: Sequence[str], fix: str) -> None:
    done = runner(argv)
    if done.returncode != 0:
        err = (done.stderr or done.stdout or "").strip().splitlines()
        raise InstallError(
            f"`{shlex.join(argv)}` failed ({err[-1] if err else f'exit {done.returncode}'}); {fix}"
        )


def agent_argv(python: str | None = None) -> list[str]:
    """How a login starts the agent: this interpreter, so a venv install needs no PATH entry."""
    return [python or sys.executable, "-m", "aitally.agent.cli", "run"]


@dataclass(frozen=True)
class Target:
    """Where a registration goes: one user (home) or every user (`system`), under `root`.

    `root` is "/" in real use; tests pass a temporary folder so that a `--system` install
    never touches the machine's /etc or /Library.
    """

    system: bool = False
    root: Path = Path("/")
    home: Path = field(default_factory=Path.home)
    argv: tuple[str, ...] = field(default_factory=lambda: tuple(agent_argv()))

    def under_root(self, path: str) -> Path:
        return self.root / path.lstrip("/")


@dataclass
class ServiceState:
    mechanism: str  # "systemd-user", "xdg-autostart", "launchd", "task-scheduler", "run-key"
    registered: bool
    files: list[str]
    detail: str = ""


class Registrar(Protocol):
    """The per-OS half: write the registration, start it, report it, remove it."""

    def install(self, *, start: bool) -> ServiceState: ...

    def uninstall(self) -> list[str]: ...

    def state(self) -> ServiceState: ...


def registrar(
    target: Target, platform: str = sys.platform, runner: Runner = run_command
) -> Registrar:
    """The registrar for `platform`; each OS module is imported only when it is used."""
    if platform == "darwin":
        from aitally.installer import _macos

        return _macos.LaunchAgent(target, runner)
    if platform == "win32":
        from aitally.installer import _windows

        return _windows.LogonTask(target, runner)
    from aitally.installer import _linux

    return _linux.Linux(target, runner)


def write_file(path: Path, text: str, mode: int = 0o644) -> None:
    """Atomic write with an explicit mode: a half-written unit or plist never gets loaded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def stop_running_agent(timeout: float = 15.0) -> bool:
    """Stop this user's running agent (the lock holder), whatever started it."""
    import psutil

    from aitally.core import paths
    from aitally.core.instance_lock import holder_pid, is_held

    lock = paths.lock_file()
    pid = holder_pid(lock) if is_held(lock) else None
    if pid is None:
        return False
    try:
        proc = psutil.Process(pid)
        proc.terminate()  # SIGTERM: the agent commits and releases its lock
        try:
            proc.wait(timeout)
        except psutil.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    except psutil.NoSuchProcess:
        pass
    return True


def remove_files(paths: Sequence[Path], prune_up_to: Path | None = None) -> list[str]:
    """Removes the files, then the folders install made for them if now empty, up to (not
    including) `prune_up_to`."""
    removed = []
    for p in paths:
        try:
            p.unlink()
        except FileNotFoundError:
            continue
        removed.append(str(p))
        if prune_up_to is not None and prune_up_to in p.parents:
            folder = p.parent
            while folder != prune_up_to:
                try:
                    folder.rmdir()
                except OSError:
                    break  # not empty: other programs' files live there
                folder = folder.parent
    return removed
