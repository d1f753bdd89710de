"""Steady load for the kill harness: closes a segment every few milliseconds, as a child process."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from aitally.core.observation import Activity, Tokens, Usage
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store


def main(store_path: str, pause: float) -> None:
    store = Store(Path(store_path))
    sz = Sessionizer(store, idle_timeout=60)
    n = 0
    while True:
        key = f"load-{os.getpid()}-{n}"
        t = time.time() - 300
        sz.apply(
            [
                Activity("claude-code", key, t, kind="prompt"),
                Usage("claude-code", key, t + 1, "claude-x", Tokens(n, 1, 0, 0, None)),
            ],
            now=t + 1,
        )
        sz.close_idle(t + 200)  # idle already: this closes and enqueues it at once
        n += 1
        time.sleep(pause)


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]))
