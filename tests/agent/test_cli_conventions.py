"""Command-line conventions (issue 17): help with a description and an example everywhere,
`--json` on every command, `status --check`, the log's path, the process name, one copy of
each log line under systemd."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from aitally.agent.cli import build_parser
from aitally.agent.cli.cmd_agent import NOT_RUNNING
from aitally.core import cli_help
from tests.conftest import aitally_cmd
from tests.enroll_server import GOOD_SECRET
from tests.waiting import wait_for


def cli(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(aitally_cmd(*args), capture_output=True, text=True, timeout=60, **kw)  # type: ignore[call-overload]


def test_every_subcommand_has_a_description_and_an_example() -> None:
    commands = cli_help.subcommands(build_parser())
    assert len(commands) >= 17
    for name, sub, _ in [("", build_parser(), ""), *commands]:
        assert sub.description, name
        assert sub.epilog and sub.epilog.startswith("example:\n  aitally "), name
    shown = cli("pause", "--help").stdout
    assert "Stop recording for a while" in shown and "example:\n  aitally pause 2h" in shown


def test_json_on_pause_resume_enroll_install_uninstall_upload(
    home: Path, enroll_server: str
) -> None:
    paused = json.loads(cli("pause", "30m", "--json").stdout)
    assert paused["paused"] is True and paused["until"] > paused["since"]
    resumed = json.loads(cli("resume", "--json").stdout)
    assert resumed["resumed"] is True and resumed["paused_seconds"] >= 0
    assert json.loads(cli("resume", "--json").stdout)["resumed"] is False
    enrolled = cli("enroll", "--endpoint", enroll_server, "--enroll-secret", GOOD_SECRET, "--json")
    assert enrolled.returncode == 0, enrolled.stderr
    assert json.loads(enrolled.stdout)["endpoint"] == enroll_server
    installed = cli("install", "--no-start", "--allow-root", "--json")
    assert installed.returncode == 0, installed.stderr
    assert json.loads(installed.stdout)["files"]
    upload = cli("upload", "--json")
    assert json.loads(upload.stdout)["outcome"] in ("done", "idle", "failed", "retry")
    removed = cli("uninstall", "--allow-root", "--json")
    assert removed.returncode == 0 and json.loads(removed.stdout)["removed"]


def test_status_check_log_path_process_name(isolated_env: Path) -> None:
    stopped = cli("status", "--check")
    assert stopped.returncode == NOT_RUNNING and "log file:" in stopped.stdout
    assert cli("status").returncode == 0  # without --check, as before
    log_file = str(isolated_env / "logs" / "agent.log")
    assert json.loads(cli("status", "--json").stdout)["log_file"] == log_file
    assert json.loads(cli("doctor", "--json").stdout)["log_file"] == log_file
    agent = subprocess.Popen(aitally_cmd("run"), stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: cli("status", "--check").returncode == 0, timeout=20)
        if sys.platform.startswith("linux"):
            assert Path(f"/proc/{agent.pid}/comm").read_text().strip() == "aitally"
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=15)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="JOURNAL_STREAM is systemd's")
def test_under_the_journal_each_line_is_logged_once(tmp_path: Path, isolated_env: Path) -> None:
    """Issue 17: under systemd every line went to the log file and, via stderr, the journal."""
    for journal in (False, True):
        err_path = tmp_path / f"stderr-{journal}"
        with err_path.open("w") as err:
            st = os.fstat(err.fileno())
            env = dict(os.environ)
            if journal:  # what systemd sets for a service whose stderr is the journal
                env["JOURNAL_STREAM"] = f"{st.st_dev}:{st.st_ino}"
            done = subprocess.run(aitally_cmd("run", "--once"), stderr=err, env=env, timeout=60)
        assert done.returncode == 0
        on_stderr = "agent started" in err_path.read_text()
        assert on_stderr is not journal
    assert (isolated_env / "logs" / "agent.log").read_text().count("agent started") == 2
