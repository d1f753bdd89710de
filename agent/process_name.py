"""The agent's name in `ps`, `top` and EDR consoles: `aitally`, not `python3`, where possible.

Linux: prctl(PR_SET_NAME) sets the kernel's comm name (what `ps -e`, `top` and
/proc/PID/comm show; 15 bytes at most) through ctypes, without a dependency. Elsewhere the
name stays the interpreter's (macOS and Windows show the executable; a bundled build names it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

PR_SET_NAME = 15  # <linux/prctl.h>


def set_name(name: str = "aitally") -> bool:
    """Sets the process's comm name; False where the platform or libc does not allow it."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(PR_SET_NAME, name.encode()[:15], 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False
