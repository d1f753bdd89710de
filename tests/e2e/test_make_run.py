"""`make run`'s whole path: a tool session shows on both dashboards within a minute."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import requests

from tests.conftest import aitally_cmd
from tests.e2e.whole_path import FakeClaude, sample_lines
from tests.waiting import wait_for


def test_make_run_shows_a_tool_session_on_both_dashboards(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        aitally_cmd("demo"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = ""
        deadline = time.monotonic() + 60
        while "your own figures" not in banner and time.monotonic() < deadline:
            banner += proc.stdout.readline()
        local = re.search(r"local dashboard\s+(http://127\.0\.0\.1:\d+/\S+)", banner)
        central = re.search(
            r"central dashboard\s+(http://127\.0\.0\.1:\d+/dashboard)\s+\(any "
            r"user name; password (\S+)\)",
            banner,
        )
        assert local and central, banner
        started = time.monotonic()
        tool = FakeClaude(Path(os.environ["HOME"]))
        tool.append(sample_lines())
        time.sleep(6)  # one default 5 s process scan sees it
        tool.exit()

        def shows(url: str, auth: tuple[str, str] | None = None) -> bool:
            page = requests.get(url, auth=auth, timeout=10)
            return page.status_code == 200 and "claude-code" in page.text

        wait_for(lambda: shows(local.group(1).rstrip("/") + "/sessions"), timeout=60)
        wait_for(lambda: shows(central.group(1), ("it", central.group(2))), timeout=60)
        assert time.monotonic() - started < 60
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_a_second_make_run_says_what_is_wrong_and_starts_nothing() -> None:
    from aitally.core import paths
    from aitally.core.instance_lock import InstanceLock

    paths.data_dir().mkdir(parents=True)
    lock = InstanceLock(paths.lock_file())  # as the first `make run`'s agent holds it
    lock.acquire()
    try:
        done = subprocess.run(
            aitally_cmd("demo"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        lock.release()
    assert done.returncode == 1 and done.stdout == "", done.stdout
    assert done.stderr.count("\n") == 1 and f"pid {os.getpid()}" in done.stderr, done.stderr
    assert "already runs" in done.stderr and "Ctrl-C" in done.stderr
    assert not (paths.data_dir() / "central").exists()  # no second ingest service was started
