"""Windows: a Task Scheduler logon task (laptop-hostile defaults overridden), Run key fallback."""

from __future__ import annotations

import getpass
import os
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

from aitally.core.native_policy import registry
from aitally.installer.service import (
    Runner,
    ServiceState,
    Target,
    checked,
    remove_files,
    stop_running_agent,
)

TASK_NS = "http://schemas.microsoft.com/windows/2004/02/mit/task"
USERS_GROUP_SID = "S-1-5-32-545"  # BUILTIN\Users: every interactive user, in any locale
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "aitally"


def windowless(argv: tuple[str, ...]) -> tuple[str, ...]:
    """pythonw.exe instead of python.exe, so a logon never flashes a console window."""
    exe = Path(argv[0])
    if exe.name.lower() == "python.exe" and (exe.parent / "pythonw.exe").exists():
        return (str(exe.parent / "pythonw.exe"), *argv[1:])
    return argv


def task_xml(argv: tuple[str, ...], user: str | None, name: str = "aitally") -> str:
    """Task Scheduler schema 1.2 XML; `user` None means every member of BUILTIN\\Users."""
    who = f"<UserId>{escape(user)}</UserId>" if user else ""
    principal = (
        f"<UserId>{escape(user)}</UserId>" if user else f"<GroupId>{USERS_GROUP_SID}</GroupId>"
    )
    args = subprocess.list2cmdline(list(argv[1:]))
    return f"""<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="{TASK_NS}">
  <RegistrationInfo>
    <Author>aitally</Author>
    <Description>aitally agent: measures AI-tool usage on this machine, content-free.</Description>
    <URI>\\{escape(name)}</URI>
  </RegistrationInfo>
  <Triggers>
    <LogonTrigger>
      <Enabled>true</Enabled>{who}
    </LogonTrigger>
  </Triggers>
  <Principals>
    <Principal id="Author">
      {principal}
      <LogonType>InteractiveToken</LogonType>
      <RunLevel>LeastPrivilege</RunLevel>
    </Principal>
  </Principals>
  <Settings>
    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>
    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>
    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>
    <AllowHardTerminate>true</AllowHardTerminate>
    <StartWhenAvailable>true</StartWhenAvailable>
    <RunOnlyIfNetworkAvailable>false</RunOnlyIfNetworkAvailable>
    <IdleSettings>
      <StopOnIdleEnd>false</StopOnIdleEnd>
      <RestartOnIdle>false</RestartOnIdle>
    </IdleSettings>
    <AllowStartOnDemand>true</AllowStartOnDemand>
    <Enabled>true</Enabled>
    <Hidden>false</Hidden>
    <RunOnlyIfIdle>false</RunOnlyIfIdle>
    <ExecutionTimeLimit>PT0S</ExecutionTimeLimit>
    <Priority>7</Priority>
    <RestartOnFailure>
      <Interval>PT1M</Interval>
      <Count>99</Count>
    </RestartOnFailure>
  </Settings>
  <Actions Context="Author">
    <Exec>
      <Command>{escape(argv[0])}</Command>
      <Arguments>{escape(args)}</Arguments>
    </Exec>
  </Actions>
</Task>
"""


def _run_key_root(system: bool) -> int:
    winreg = registry()

    return int(winreg.HKEY_LOCAL_MACHINE if system else winreg.HKEY_CURRENT_USER)


def _run_key_set(system: bool, command: str) -> None:
    winreg = registry()

    with winreg.CreateKey(_run_key_root(system), RUN_KEY) as key:
        winreg.SetValueEx(key, RUN_VALUE, 0, winreg.REG_SZ, command)


def _run_key_get(system: bool) -> str | None:
    winreg = registry()

    try:
        with winreg.OpenKey(_run_key_root(system), RUN_KEY) as key:
            return str(winreg.QueryValueEx(key, RUN_VALUE)[0])
    except OSError:
        return None


def _run_key_delete(system: bool) -> bool:
    winreg = registry()

    try:
        with winreg.OpenKey(_run_key_root(system), RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            winreg.DeleteValue(key, RUN_VALUE)
    except OSError:
        return False
    return True


class LogonTask:
    def __init__(self, target: Target, runner: Runner) -> None:
        self.target = target
        self.runner = runner
        self.argv = windowless(target.argv)
        self.user = None if target.system else _qualified_user()
        # Per-user tasks share the machine's task store: one name per user.
        self.name = "aitally" if target.system else f"aitally-{getpass.getuser()}"
        program_data = target.under_root(os.environ.get("PROGRAMDATA", "/ProgramData"))
        base = program_data if target.system else target.home / "AppData" / "Local"
        self.xml_path = base / "aitally" / "aitally-task.xml"

    def install(self, *, start: bool) -> ServiceState:
        # schtasks reads the XML file in UTF-16, as its declaration says.
        self.xml_path.parent.mkdir(parents=True, exist_ok=True)
        self.xml_path.write_text(task_xml(self.argv, self.user, self.name), encoding="utf-16")
        created = self.runner(
            ["schtasks", "/Create", "/TN", self.name, "/XML", str(self.xml_path), "/F"]
        )
        if created.returncode != 0:
            # Task Scheduler locked down by policy: the Run key still starts it at logon.
            _run_key_set(self.target.system, subprocess.list2cmdline(list(self.argv)))
            if start and not self.target.system:
                subprocess.Popen(list(self.argv), creationflags=_detached())
            return self.state()
        if start:
            checked(self.runner, ["schtasks", "/Run", "/TN", self.name], "run `aitally doctor`")
        return self.state()

    def uninstall(self) -> list[str]:
        removed = []
        if self.runner(["schtasks", "/Delete", "/TN", self.name, "/F"]).returncode == 0:
            removed.append(f"task {self.name}")
        if _run_key_delete(self.target.system):
            removed.append(f"Run value {RUN_VALUE}")
        if not self.target.system:
            stop_running_agent()
        return removed + remove_files([self.xml_path])

    def state(self) -> ServiceState:
        if self.runner(["schtasks", "/Query", "/TN", self.name]).returncode == 0:
            return ServiceState("task-scheduler", True, [f"task {self.name}"])
        if _run_key_get(self.target.system) is not None:
            return ServiceState("run-key", True, [f"Run value {RUN_VALUE}"])
        return ServiceState("task-scheduler", False, [], "not registered: run `aitally install`")


def _qualified_user() -> str:
    domain = os.environ.get("USERDOMAIN")
    user = getpass.getuser()
    return f"{domain}\\{user}" if domain else user


def _detached() -> int:
    flags = getattr(subprocess, "DETACHED_PROCESS", 0) | getattr(
        subprocess, "CREATE_NEW_PROCESS_GROUP", 0
    )
    return int(flags)
