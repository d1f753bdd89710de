"""Structured logs: one JSON object per line on stderr, for the operator's log pipeline."""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from typing import Any

# Fields passed through `extra=` that belong in the JSON object.
FIELDS = (
    "event",
    "method",
    "route",
    "status",
    "ms",
    "device",
    "batch_id",
    "accepted",
    "duplicate",
    "rejected",
    "port",
    "host",
    "db",
    "reason",
    "suppressed",
    "workers",
    "pid",
    "computed",
    "checked",
    "dropped",
    "seconds",
)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the FIELDS given."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line."""
        doc: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            if name in record.__dict__:
                doc[name] = record.__dict__[name]
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, separators=(",", ":"), default=str)


class Throttle(logging.Filter):
    """Lets a warning through once per `every` seconds per (event, device) of its fields.

    The next one let through carries `suppressed`: how many were held back meanwhile, so
    a device that sends a bad batch every second costs one log line per period, not one each.
    """

    def __init__(self, every: float, max_keys: int = 10_000) -> None:
        super().__init__()
        self.every = every
        self._max_keys = max_keys
        self._lock = threading.Lock()
        self._seen: dict[tuple[object, object], tuple[float, int]] = {}  # -> (logged at, held)

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a repeat within the period; the next one passed carries `suppressed`."""
        event = record.__dict__.get("event")
        if event is None or record.levelno < logging.WARNING:
            return True
        key = (event, record.__dict__.get("device"))
        now = record.created
        with self._lock:
            logged_at, held = self._seen.get(key, (now - self.every, 0))
            if now - logged_at < self.every:
                self._seen[key] = (logged_at, held + 1)
                return False
            if len(self._seen) >= self._max_keys:  # bounded: forget the quiet keys
                self._seen = {k: v for k, v in self._seen.items() if now - v[0] < self.every}
            self._seen[key] = (now, 0)
        if held:
            record.suppressed = held
        return True


def setup(level: str = "info") -> None:
    """JSON lines on stderr for every logger, at this level."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level.upper())
