"""Logging set-up (rotating file in the platform log folder, plus stderr) and rate limiting."""

from __future__ import annotations

import logging
import logging.handlers
import sys
import time
from pathlib import Path

from aitally.core.paths import make_private_dir, make_private_file

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup(log_dir: Path, level: str = "info", *, to_stderr: bool = True) -> Path | None:
    root = logging.getLogger()
    root.setLevel(level.upper())
    for h in list(root.handlers):
        root.removeHandler(h)
    fmt = logging.Formatter(FORMAT)
    if to_stderr:
        err = logging.StreamHandler(sys.stderr)
        err.setFormatter(fmt)
        root.addHandler(err)
    try:
        make_private_dir(log_dir)
        path = log_dir / "agent.log"
        make_private_file(path)  # rotated files inherit nothing: RotatingFileHandler opens
        # new ones under the umask, so the folder's 0700 is what keeps them private
        # 5 x 1 MiB: weeks of normal operation, bounded whatever happens.
        fh = logging.handlers.RotatingFileHandler(
            path, maxBytes=1 << 20, backupCount=5, encoding="utf-8"
        )
    except OSError as exc:
        logging.getLogger(__name__).warning("cannot write logs to %s: %s", log_dir, exc)
        return None
    fh.setFormatter(fmt)
    root.addHandler(fh)
    return path


class RateLimited:
    """Logs a recurring problem at most once per `every` seconds per key, with a count."""

    def __init__(self, logger: logging.Logger, every: float = 60.0) -> None:
        self.logger = logger
        self.every = every
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def warning(self, key: str, msg: str, *args: object) -> None:
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return
        self._last[key] = now
        extra = self._suppressed.pop(key, 0)
        if extra:
            msg += f" ({extra} more like this suppressed)"
        self.logger.warning(msg, *args)
