"""`aitally status` and `config show` as a real child process."""

from __future__ import annotations

import subprocess
import time

from aitally.core import paths
from aitally.core.observation import ProcessSeen
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store
from tests.conftest import aitally_cmd


def test_status_never_calls_the_last_scan_now_when_the_agent_is_stopped() -> None:
    # As a killed agent leaves it: the last scan saw a tool that may be long gone.
    now = time.time()
    store = Store(paths.store_file())
    Sessionizer(store).apply([ProcessSeen("aider", 4242, now - 60, now - 5, surface="cli")])
    store.close()
    done = subprocess.run(aitally_cmd("status"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("tools now:"))
    assert line.split(":", 1)[1].strip().startswith("unknown (agent not running)"), line
    assert "aider (4242)" in line  # still shown, as what the last scan saw
