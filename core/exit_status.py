"""The exit statuses of `aitally run`, one meaning each, so a service manager can tell them apart.

The systemd unit (`installer/_linux.py`) restarts on every failure but `ALREADY_RUNNING`:
a crash (Python exits 1 on an uncaught exception) and a replaced store must come back.
"""

from __future__ import annotations

OK = 0
# An uncaught exception: Python's own status for it. Restarted.
CRASH = 1
# Bad usage or configuration (one line on stderr). Restarted after RestartSec: a fixed
# managed policy then takes effect without anyone logging in again.
USAGE = 2
# The store file was replaced or deleted under the agent. Restarted (the restart opens, or
# recovers, the file now in place).
STORE_REPLACED = 3
# Another agent already holds this user's lock; restarting cannot help.
ALREADY_RUNNING = 4
