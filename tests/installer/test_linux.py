"""Linux registration for real: systemd unit verified by systemd, XDG autostart run end to end."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aitally.installer import _linux
from aitally.installer.service import UNIT, Target, run_command, stop_running_agent
from tests.conftest import aitally_cmd
from tests.enroll_server import GOOD_SECRET

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")

ODD_ARGS = ("/opt/ai tally/bin/python", "-m", "aitally.agent.cli", "run", "100%", 'a"b', "$HOME")


def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    unit = tmp_path / UNIT
    unit.write_text(_linux.unit_text(tuple(_real_argv())))
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    # verify prints nothing for a clean unit; any complaint names our file.
    assert done.returncode == 0, done.stderr
    assert str(unit) not in done.stderr, done.stderr


def test_unit_quotes_specifiers_and_spaces() -> None:
    text = _linux.unit_text(ODD_ARGS)
    line = next(x for x in text.splitlines() if x.startswith("ExecStart="))
    assert '"/opt/ai tally/bin/python"' in line
    assert "100%%" in line and "$$HOME" in line and '"a\\"b"' in line


def test_desktop_exec_round_trips_odd_arguments() -> None:
    entry = _linux.desktop_entry(ODD_ARGS)
    line = next(x for x in entry.splitlines() if x.startswith("Exec="))
    assert _linux.parse_exec(line[len("Exec=") :]) == list(ODD_ARGS)


def test_desktop_entry_passes_desktop_file_validate(tmp_path: Path) -> None:
    if shutil.which("desktop-file-validate") is None:
        pytest.skip("desktop-file-utils is not installed")
    path = tmp_path / "aitally.desktop"
    path.write_text(_linux.desktop_entry(ODD_ARGS))
    done = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True)
    assert done.returncode == 0 and "error" not in done.stdout.lower(), done.stdout


def _real_argv() -> list[str]:
    return [sys.executable, "-m", "aitally.agent.cli", "run"]


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())


def test_system_install_enables_globally_and_uninstall_removes_it(tmp_path: Path) -> None:
    if shutil.which("systemctl") is None:
        pytest.skip("systemctl is not installed")
    root = tmp_path / "root"
    root.mkdir()
    reg = _linux.Linux(Target(system=True, root=root), run_command)
    state = reg.install(start=False)
    assert state.mechanism == "systemd-user" and state.registered
    unit = root / "etc/systemd/user" / UNIT
    wants = root / "etc/systemd/user/default.target.wants" / UNIT
    assert unit.is_file() and wants.is_symlink()
    assert oct(unit.stat().st_mode & 0o777) == "0o644"
    reg.uninstall()
    assert _files(root) == [] and not wants.is_symlink()


def _wait_status(env: dict[str, str], running: bool, timeout: float = 30.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        out = subprocess.run(
            aitally_cmd("status", "--json"), env=env, capture_output=True, text=True, timeout=60
        )
        data: dict[str, object] = json.loads(out.stdout)
        if data["running"] is running or time.monotonic() > deadline:
            return data
        time.sleep(0.3)


def test_xdg_install_start_detect_uninstall_purge(
    home: Path, isolated_env: Path, enroll_server: str
) -> None:
    """No user systemd can run here: the XDG path, for real, with real child processes."""
    if _linux.manager_running(run_command):
        pytest.skip("a user systemd manager runs here; this test covers the XDG path")
    env = dict(os.environ)
    run = {"env": env, "capture_output": True, "text": True, "timeout": 120}
    done = subprocess.run(
        aitally_cmd(
            "install", "--allow-root", "--endpoint", enroll_server, "--enroll-secret", GOOD_SECRET
        ),
        **run,  # type: ignore[call-overload]
    )
    assert done.returncode == 0, done.stderr
    try:
        desktop = home / ".config/autostart/aitally.desktop"
        assert "xdg-autostart" in done.stdout and desktop.is_file()
        status = _wait_status(env, running=True)
        assert status["running"] is True, status
        pid = int(status["pid"])  # type: ignore[call-overload]
        # The running agent is the one the autostart line describes.
        import psutil

        assert psutil.Process(pid).cmdline()[1:] == _linux.desktop_exec(desktop)[1:]
        token_file = isolated_env / "device-token"
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"

        doctor = subprocess.run(aitally_cmd("doctor", "--json", "--allow-root"), **run)  # type: ignore[call-overload]
        report = json.loads(doctor.stdout)
        assert doctor.returncode == 0, report
        assert {c["name"]: c["status"] for c in report["checks"]}["service"] == "ok"

        done = subprocess.run(aitally_cmd("uninstall", "--purge", "--allow-root"), **run)  # type: ignore[call-overload]
        assert done.returncode == 0, done.stderr
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    finally:
        stop_running_agent()  # never leave a detached agent behind a failed test
    assert _files(home) == [] and not (home / ".config/autostart").exists()
    assert not isolated_env.exists()
    assert not Path(env["AITALLY_CONFIG"]).exists()


def test_purge_on_the_platform_folders_leaves_no_aitally_folder(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without AITALLY_DATA_DIR the logs live apart from the data (~/.local/state/aitally/log)."""
    for name in ("AITALLY_DATA_DIR", "AITALLY_CONFIG", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    run = {"capture_output": True, "text": True, "timeout": 120}
    done = subprocess.run(
        aitally_cmd("install", "--allow-root", "--no-start", "--endpoint", "http://127.0.0.1:9"),
        **run,  # type: ignore[call-overload]
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(aitally_cmd("run", "--once"), **run)  # type: ignore[call-overload]
    assert done.returncode == 0, done.stderr
    assert (home / ".local/state/aitally/log/agent.log").is_file()
    done = subprocess.run(aitally_cmd("uninstall", "--purge", "--allow-root"), **run)  # type: ignore[call-overload]
    assert done.returncode == 0, done.stderr
    assert [p for p in home.rglob("*") if "aitally" in p.name] == []


def test_install_as_root_without_system_is_refused(home: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    done = subprocess.run(aitally_cmd("install"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "refusing to run the agent as root" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert _files(home) == []


def _service_keys(text: str) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#")
    )


def test_unit_restarts_a_crash_but_not_a_second_agent() -> None:
    """Issue 17: a crash exited 1 like "already running", and the unit refused to restart 1."""
    from aitally.core import exit_status

    keys = _service_keys(_linux.unit_text(tuple(_real_argv())))
    assert keys["Restart"] == "on-failure"
    prevented = set(keys["RestartPreventExitStatus"].split())
    assert prevented == {str(exit_status.ALREADY_RUNNING)}
    for status in (exit_status.CRASH, exit_status.USAGE, exit_status.STORE_REPLACED):
        assert str(status) not in prevented
    assert len({exit_status.CRASH, exit_status.ALREADY_RUNNING, exit_status.STORE_REPLACED}) == 3


@pytest.mark.slow
@pytest.mark.systemd
def test_user_systemd_restarts_a_crashed_agent(home: Path, isolated_env: Path) -> None:
    """Against the real user manager: the agent killed by SIGSEGV comes back under a new pid."""
    if not _linux.manager_running(run_command):
        pytest.skip("no user systemd instance (`systemctl --user is-system-running` is not up)")
    unit_dir = home / ".config/systemd/user"
    unit_dir.mkdir(parents=True)
    text = (
        _linux.unit_text(tuple(_real_argv()))
        .replace("RestartSec=30", "RestartSec=1")
        .replace("[Service]\n", f"[Service]\nEnvironment=AITALLY_DATA_DIR={isolated_env}\n")
    )
    (unit_dir / UNIT).write_text(text)
    sysctl = ["systemctl", "--user"]
    subprocess.run([*sysctl, "daemon-reload"], check=True, timeout=60)
    try:
        subprocess.run([*sysctl, "start", UNIT], check=True, timeout=60)
        first = _main_pid(sysctl)
        os.kill(first, 11)  # SIGSEGV: a crash, not a stop
        deadline = time.monotonic() + 60
        while _main_pid(sysctl) in (0, first) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _main_pid(sysctl) not in (0, first)
    finally:
        subprocess.run([*sysctl, "stop", UNIT], timeout=60)
        (unit_dir / UNIT).unlink()
        subprocess.run([*sysctl, "daemon-reload"], timeout=60)


def _main_pid(sysctl: list[str]) -> int:
    out = subprocess.run(
        [*sysctl, "show", "-p", "MainPID", "--value", UNIT],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return int(out.stdout.strip() or 0)
