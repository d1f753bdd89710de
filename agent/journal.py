"""Whether standard error goes to the systemd journal, which already keeps every line.

systemd.exec(5), "$JOURNAL_STREAM": a service's stderr connected to the journal carries the
stream's device and inode in the variable; a process whose stderr is something else (a shell
that inherited the variable) must not take it as the journal, so both are compared.
"""

from __future__ import annotations

import os
import sys


def stderr_is_journal() -> bool:
    """True when stderr is the journal stream this process's service manager set up."""
    value = os.environ.get("JOURNAL_STREAM", "")
    dev, _, ino = value.partition(":")
    if not (dev.isdigit() and ino.isdigit()):
        return False
    try:
        st = os.fstat(sys.stderr.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (int(dev), int(ino))
