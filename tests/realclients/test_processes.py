"""The process watcher on real child processes: the tree, prompt scrubbing, and a daemon that
outlives its parent (reparented) followed until it ends."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil

from tests.realclients.processes import ProcessWatcher

PARENT = (
    "import subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)', 'helper-daemon'],"
    " start_new_session=True)\n"
    "time.sleep(0.8)\n"
)


def test_watcher_records_the_tree_and_follows_a_daemon_after_its_parent_exits(
    tmp_path: Path,
) -> None:
    watcher = ProcessWatcher(tmp_path / "npm", ["AITALLY-MARKER-prompt text"], time.time())
    watcher.start()
    parent = subprocess.Popen([sys.executable, "-c", PARENT, "AITALLY-MARKER-prompt text"])
    watcher.add_root(parent.pid)
    parent.wait()
    time.sleep(1.0)
    [daemon_pid] = watcher.alive()
    psutil.Process(daemon_pid).terminate()
    time.sleep(0.8)
    watcher.stop()
    records = {r["pid"]: r for r in watcher.records()["processes"]}
    root, daemon = records[parent.pid], records[daemon_pid]
    assert root["argv"][-1] == "<prompt>" and "AITALLY-MARKER" not in str(records)
    assert root["exited"] is not None and root["exited"] < daemon["exited"]
    assert daemon["argv"][-1] == "helper-daemon"
    assert daemon["ppids"][0] == parent.pid and len(daemon["ppids"]) == 2  # reparented
    assert watcher.alive() == []
    snapshots = watcher.records()["snapshots"]
    assert any(daemon_pid in s["pids"] and parent.pid not in s["pids"] for s in snapshots)
