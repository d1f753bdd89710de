"""macOS: a LaunchAgent plist loaded into the user's GUI domain with `launchctl bootstrap`."""

from __future__ import annotations

import os
import plistlib
from pathlib import Path
from typing import Any

from aitally.installer.service import (
    LABEL,
    Runner,
    ServiceState,
    Target,
    checked,
    remove_files,
    stop_running_agent,
    write_file,
)


def plist_data(argv: tuple[str, ...]) -> dict[str, Any]:
    """launchd.plist(5) keys; the comments give the reason for each non-default."""
    return {
        "Label": LABEL,
        "ProgramArguments": list(argv),
        "RunAtLoad": True,  # start at login (the default is false)
        # Respawn after a crash, but not after a deliberate exit 0 (`aitally uninstall`).
        "KeepAlive": {"SuccessfulExit": False},
        # The default 10 s would respawn a persistently failing agent six times a minute.
        "ThrottleInterval": 60,
        "ProcessType": "Background",  # resource limits that keep it out of the user's way
        "LowPriorityIO": True,
        "Nice": 10,
        # GUI logins only: nothing to measure in an ssh session or at the login window.
        "LimitLoadToSessionType": "Aqua",
        "ExitTimeOut": 15,
        # No StandardOutPath: the agent writes its own rotating log in ~/Library/Logs/aitally.
    }


def console_uid(root: Path) -> int | None:
    """The user logged in at the GUI (owner of /dev/console), or None at the login window."""
    try:
        uid = (root / "dev" / "console").stat().st_uid
    except OSError:
        return None
    return uid if uid != 0 else None


class LaunchAgent:
    def __init__(self, target: Target, runner: Runner) -> None:
        self.target = target
        self.runner = runner
        if target.system:
            # Loaded into every user's session at login; must be root:wheel 0644.
            self.path = target.under_root("/Library/LaunchAgents") / f"{LABEL}.plist"
        else:
            self.path = target.home / "Library" / "LaunchAgents" / f"{LABEL}.plist"

    def _uid(self) -> int | None:
        return console_uid(self.target.root) if self.target.system else os.getuid()

    def install(self, *, start: bool) -> ServiceState:
        text = plistlib.dumps(plist_data(self.target.argv)).decode()
        write_file(self.path, text, 0o644)
        uid = self._uid()
        if start and uid is not None:
            # bootout first: bootstrap refuses a label that is already loaded.
            self.runner(["launchctl", "bootout", f"gui/{uid}/{LABEL}"])
            checked(
                self.runner,
                ["launchctl", "bootstrap", f"gui/{uid}", str(self.path)],
                "see `launchctl print gui/$(id -u)/" + LABEL + "` and run `aitally doctor`",
            )
        return self.state()

    def uninstall(self) -> list[str]:
        uid = self._uid()
        if uid is not None:
            self.runner(["launchctl", "bootout", f"gui/{uid}/{LABEL}"])
        if not self.target.system:
            stop_running_agent()
        return remove_files([self.path])

    def state(self) -> ServiceState:
        if self.path.exists():
            return ServiceState("launchd", True, [str(self.path)])
        return ServiceState("launchd", False, [], "not registered: run `aitally install`")
