"""Drives an interactive client in a detached tmux pane: send-keys in, capture-pane out."""

from __future__ import annotations

import shlex
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

SOCKET = "aitally-realclients"


def _tmux(*args: str) -> str:
    done = subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, timeout=30)
    return done.stdout


class TmuxPane:
    """One client running in its own tmux session (a private tmux server socket)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.cwd = cwd

    def start(self) -> int:
        """Starts the client in a 200x50 pane; returns the client's pid (the pane's process)."""
        _tmux("kill-session", "-t", self.name)
        env_args = [arg for k, v in self.env.items() for arg in ("-e", f"{k}={v}")]
        _tmux(
            "new-session",
            "-d",
            "-s",
            self.name,
            "-x",
            "200",
            "-y",
            "50",
            "-c",
            str(self.cwd),
            *env_args,
            "exec " + shlex.join(self._command()),
        )
        return int(_tmux("display-message", "-p", "-t", self.name, "#{pane_pid}").strip() or 0)

    def _command(self) -> list[str]:
        """The client's command line, run through `env` with the PATH it was given: the pane's
        shell reads the user's startup files, which set PATH again (`-e` keeps the others)."""
        path = self.env.get("PATH")
        return ["env", f"PATH={path}", *self.argv] if path else list(self.argv)

    def capture(self) -> str:
        """The pane's visible text."""
        return _tmux("capture-pane", "-p", "-t", self.name)

    def type_line(self, text: str) -> None:
        """Types `text` literally, then Enter after a pause (so it is not part of a paste)."""
        _tmux("send-keys", "-t", self.name, "-l", text)
        time.sleep(0.8)
        _tmux("send-keys", "-t", self.name, "Enter")

    def keys(self, *keys: str) -> None:
        """Sends tmux key names (Enter, Escape, C-c, Down...)."""
        _tmux("send-keys", "-t", self.name, *keys)

    def alive(self) -> bool:
        """Whether the session (hence the client) still runs."""
        return (
            subprocess.run(
                ["tmux", "-L", SOCKET, "has-session", "-t", self.name], capture_output=True
            ).returncode
            == 0
        )

    def settle(self, progress: Callable[[], int], quiet_s: float = 3.0, timeout: float = 90) -> str:
        """Waits until neither the pane nor `progress()` (e.g. replies billed) changed for
        `quiet_s`; returns the pane text."""
        deadline = time.time() + timeout
        last = (self.capture(), progress())
        since = time.time()
        while time.time() < deadline and self.alive():
            time.sleep(0.5)
            now = (self.capture(), progress())
            if now != last:
                last, since = now, time.time()
            elif time.time() - since >= quiet_s and last[0].strip():
                break
        return last[0]

    def wait_exit(self, timeout: float = 20) -> bool:
        """Waits for the client to exit; True if it did."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.alive():
                return True
            time.sleep(0.3)
        return False

    def kill(self) -> None:
        """Ends the tmux session (and the client in it)."""
        _tmux("kill-session", "-t", self.name)
