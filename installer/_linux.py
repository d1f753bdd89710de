"""Linux: a `systemd --user` unit (globally enabled for --system), XDG autostart without systemd."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from aitally.core import exit_status
from aitally.installer.service import (
    UNIT,
    InstallError,
    Runner,
    ServiceState,
    Target,
    checked,
    remove_files,
    stop_running_agent,
    write_file,
)

DESKTOP = "aitally.desktop"
# States in which `systemctl --user` has a live manager to talk to.
_MANAGER_UP = {"running", "degraded", "starting", "initializing", "maintenance"}


def _systemd_quote(arg: str) -> str:
    # systemd.service(5): `%` starts a specifier and `$` a variable, both doubled to be literal.
    arg = arg.replace("%", "%%").replace("$", "$$")
    if arg and not any(c in arg for c in " \t\"\\'"):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def unit_text(argv: tuple[str, ...]) -> str:
    """The `aitally.service` user unit running `argv`."""
    exec_start = " ".join(_systemd_quote(a) for a in argv)
    return f"""\
# Installed by `aitally install`; removed by `aitally uninstall`.
[Unit]
Description=aitally agent: measures AI-tool usage on this machine, content-free
# A user service: it must see the user's own processes and keyring, never root's.

[Service]
Type=simple
ExecStart={exec_start}
# Every failure restarts: a crash (status {exit_status.CRASH}), a bad policy ({exit_status.USAGE}),
# a replaced store ({exit_status.STORE_REPLACED}), a fatal signal (core/exit_status.py).
Restart=on-failure
# Twice a minute at most, so a persistent fault (a bad managed policy) cannot spin.
RestartSec=30
# Exit status {exit_status.ALREADY_RUNNING}: another agent already holds this user's lock;
# restarting cannot help.
RestartPreventExitStatus={exit_status.ALREADY_RUNNING}
# A measuring tool must never compete with the engineer's own work.
Nice=10
IOSchedulingClass=idle
KillSignal=SIGTERM
TimeoutStopSec=15

[Install]
WantedBy=default.target
"""


def _desktop_quote(arg: str) -> str:
    # Desktop Entry Specification, "The Exec key": quote reserved characters, escape
    # `"`, `` ` ``, `$` and `\` inside quotes; a literal `%` is `%%`.
    arg = arg.replace("%", "%%")
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`="):
        return arg
    for c in '\\"`$':
        arg = arg.replace(c, "\\" + c)
    return '"' + arg + '"'


def exec_line(argv: tuple[str, ...]) -> str:
    # The file format escapes backslashes once more for string values.
    return " ".join(_desktop_quote(a) for a in argv).replace("\\", "\\\\")


def desktop_entry(argv: tuple[str, ...]) -> str:
    return f"""\
[Desktop Entry]
Type=Application
Name=aitally
Comment=Measures AI-tool usage on this machine, content-free
Exec={exec_line(argv)}
Terminal=false
NoDisplay=true
X-GNOME-Autostart-enabled=true
"""


def parse_exec(value: str) -> list[str]:
    """The argv a desktop environment runs for an Exec value (undoes `exec_line`)."""
    value = value.replace("\\\\", "\\")  # the file format's own string escape
    args: list[str] = []
    cur: list[str] = []
    quoted = started = False
    i = 0
    while i < len(value):
        c = value[i]
        if quoted and c == "\\" and i + 1 < len(value) and value[i + 1] in '\\"`$':
            cur.append(value[i + 1])
            i += 1
        elif c == '"':
            quoted, started = not quoted, True
        elif c in " \t" and not quoted:
            if cur or started:
                args.append("".join(cur))
            cur, started = [], False
        else:
            cur.append(c)
        i += 1
    if cur or started:
        args.append("".join(cur))
    return [a.replace("%%", "%") for a in args]


def manager_running(runner: Runner) -> bool:
    done = runner(["systemctl", "--user", "is-system-running"])
    return done.stdout.strip() in _MANAGER_UP


class Linux:
    """Registers with systemd where it runs, else with XDG autostart; removes either."""

    def __init__(self, target: Target, runner: Runner) -> None:
        self.target = target
        self.runner = runner
        self.prune_up_to: Path | None = None  # shared system folders are never removed
        if target.system:
            self.unit = target.under_root("/etc/systemd/user") / UNIT
            self.desktop = target.under_root("/etc/xdg/autostart") / DESKTOP
        else:
            config_home = Path(os.environ.get("XDG_CONFIG_HOME") or target.home / ".config")
            self.prune_up_to = config_home
            self.unit = config_home / "systemd" / "user" / UNIT
            self.desktop = config_home / "autostart" / DESKTOP

    def _use_systemd(self) -> bool:
        if self.target.system:
            # A global enable only writes symlinks: it needs systemctl, not a running manager.
            return shutil.which("systemctl") is not None
        return manager_running(self.runner)

    def _systemctl(self, *args: str) -> list[str]:
        if self.target.system:
            root = [] if self.target.root == Path("/") else [f"--root={self.target.root}"]
            return ["systemctl", "--global", *root, *args]
        return ["systemctl", "--user", *args]

    def install(self, *, start: bool) -> ServiceState:
        if self._use_systemd():
            write_file(self.unit, unit_text(self.target.argv))
            if not self.target.system:
                checked(self.runner, self._systemctl("daemon-reload"), "check the unit file")
            now = ["--now"] if start and not self.target.system else []
            checked(
                self.runner,
                self._systemctl("enable", *now, UNIT),
                "see `journalctl --user -u aitally` and run `aitally doctor`",
            )
        else:
            write_file(self.desktop, desktop_entry(self.target.argv))
            if start and not self.target.system:
                start_like_autostart(self.desktop)
        return self.state()

    def uninstall(self) -> list[str]:
        if self.unit.exists():
            # `disable` also removes the wants/ symlinks that `enable` made.
            now = [] if self.target.system else ["--now"]
            self.runner(self._systemctl("disable", *now, UNIT))
        if not self.target.system:
            stop_running_agent()
        return remove_files([self.unit, self.desktop], prune_up_to=self.prune_up_to)

    def state(self) -> ServiceState:
        if self.unit.exists():
            return ServiceState("systemd-user", True, [str(self.unit)])
        if self.desktop.exists():
            return ServiceState("xdg-autostart", True, [str(self.desktop)])
        kind = "systemd-user" if self._use_systemd() else "xdg-autostart"
        return ServiceState(kind, False, [], "not registered: run `aitally install`")


def desktop_exec(path: Path) -> list[str]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            return parse_exec(line[len("Exec=") :])
    raise InstallError(f"{path}: no Exec line; run `aitally install` again")


def start_like_autostart(path: Path) -> None:
    """Start the agent now exactly as the next login will: the entry's Exec line, detached."""
    subprocess.Popen(
        desktop_exec(path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
