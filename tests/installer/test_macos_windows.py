"""macOS and Windows registrations, checked against their formats' real rules.

launchd and Task Scheduler cannot run here: the generated plist is loaded with plistlib and
its keys type-checked as launchd.plist(5) defines them; the task XML is validated against
the Task Scheduler schema; the commands are recorded instead of run.
"""

from __future__ import annotations

import plistlib
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest
import xmlschema

from aitally.installer import _macos, _windows
from aitally.installer.service import LABEL, Target

XSD = Path(__file__).parent / "data" / "task_scheduler_subset.xsd"
ARGV = ("/Applications/ai tally/bin/python3", "-m", "aitally.agent.cli", "run", "<&>")
NS = {"t": _windows.TASK_NS}


class Recorder:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        self.calls.append(list(argv))
        return subprocess.CompletedProcess(list(argv), 0, "", "")


def test_plist_has_required_launchd_keys_with_right_types() -> None:
    data = plistlib.loads(plistlib.dumps(_macos.plist_data(ARGV)))
    types = {
        "Label": str,
        "ProgramArguments": list,
        "RunAtLoad": bool,
        "KeepAlive": dict,
        "ThrottleInterval": int,
        "ProcessType": str,
        "LowPriorityIO": bool,
        "Nice": int,
        "LimitLoadToSessionType": str,
        "ExitTimeOut": int,
    }
    for key, kind in types.items():
        assert type(data[key]) is kind, key
    assert set(data) == set(types)  # no key launchd does not know from us
    assert data["Label"] == LABEL and data["ProgramArguments"] == list(ARGV)
    assert data["RunAtLoad"] is True and data["KeepAlive"] == {"SuccessfulExit": False}
    assert data["ProcessType"] in ("Background", "Standard", "Adaptive", "Interactive")
    assert data["ProcessType"] == "Background" and data["ThrottleInterval"] >= 10


def test_launch_agent_install_bootstraps_gui_domain_and_uninstall_boots_out(tmp_path: Path) -> None:
    rec = Recorder()
    agent = _macos.LaunchAgent(Target(home=tmp_path, argv=ARGV), rec)
    state = agent.install(start=True)
    path = tmp_path / "Library/LaunchAgents" / f"{LABEL}.plist"
    assert state.registered and state.files == [str(path)]
    assert oct(path.stat().st_mode & 0o777) == "0o644"  # launchd refuses group/world-writable
    assert plistlib.loads(path.read_bytes())["Label"] == LABEL
    uid = __import__("os").getuid()
    assert ["launchctl", "bootstrap", f"gui/{uid}", str(path)] in rec.calls
    agent.uninstall()
    assert rec.calls[-1] == ["launchctl", "bootout", f"gui/{uid}/{LABEL}"]
    assert not path.exists()


def test_system_launch_agent_goes_to_library_and_loads_for_console_user(tmp_path: Path) -> None:
    rec = Recorder()
    (tmp_path / "dev").mkdir()
    console = tmp_path / "dev" / "console"
    console.write_text("")
    __import__("os").chown(console, 501, 20)
    agent = _macos.LaunchAgent(Target(system=True, root=tmp_path, argv=ARGV), rec)
    agent.install(start=True)
    assert (tmp_path / "Library/LaunchAgents" / f"{LABEL}.plist").is_file()
    assert ["launchctl", "bootstrap", "gui/501", str(agent.path)] in rec.calls


@pytest.mark.parametrize("user", ["CORP\\engineer", None])
def test_task_xml_validates_against_task_scheduler_schema(user: str | None, tmp_path: Path) -> None:
    path = tmp_path / "task.xml"
    path.write_text(_windows.task_xml(ARGV, user), encoding="utf-16")  # as install writes it
    schema = xmlschema.XMLSchema(str(XSD))
    schema.validate(str(path))
    # The check has teeth: a wrong value or a misplaced element is rejected.
    for bad in (("PT0S", "forever"), ("<Count>99</Count>", "<Count>0</Count>")):
        broken = _windows.task_xml(ARGV, user).replace(*bad)
        with pytest.raises(xmlschema.XMLSchemaValidationError):
            schema.validate(broken.replace('encoding="UTF-16"', 'encoding="UTF-8"'))


def test_task_xml_overrides_laptop_hostile_defaults() -> None:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(_windows.task_xml(ARGV, None).encode("utf-16"))
    s = root.find("t:Settings", NS)
    assert s is not None

    def text(path: str) -> str | None:
        el = s.find(path, NS)
        return None if el is None else el.text

    assert text("t:DisallowStartIfOnBatteries") == "false"
    assert text("t:StopIfGoingOnBatteries") == "false"
    assert text("t:ExecutionTimeLimit") == "PT0S"  # no 72-hour stop
    assert text("t:RestartOnFailure/t:Interval") == "PT1M"
    assert text("t:IdleSettings/t:StopOnIdleEnd") == "false"
    principal = root.find("t:Principals/t:Principal", NS)
    assert principal is not None
    assert principal.findtext("t:GroupId", namespaces=NS) == _windows.USERS_GROUP_SID
    assert principal.findtext("t:RunLevel", namespaces=NS) == "LeastPrivilege"
    exec_el = root.find("t:Actions/t:Exec", NS)
    assert exec_el is not None and exec_el.findtext("t:Command", namespaces=NS) == ARGV[0]
    assert exec_el.findtext("t:Arguments", namespaces=NS) == "-m aitally.agent.cli run <&>"


def test_logon_task_install_creates_and_runs_task(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The registry cannot exist here: the Run-key fallback reports "no value".
    monkeypatch.setattr(_windows, "_run_key_delete", lambda system: False)
    rec = Recorder()
    task = _windows.LogonTask(Target(home=tmp_path, argv=ARGV), rec)
    task.install(start=True)
    create = next(c for c in rec.calls if c[1] == "/Create")
    assert create[create.index("/XML") + 1] == str(task.xml_path)
    xmlschema.XMLSchema(str(XSD)).validate(str(task.xml_path))
    assert ["schtasks", "/Run", "/TN", task.name] in rec.calls
    task.uninstall()
    assert ["schtasks", "/Delete", "/TN", task.name, "/F"] in rec.calls
    assert not task.xml_path.exists()
