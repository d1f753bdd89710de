"""Structured logs: one JSON object per line on stderr, for the operator's log pipeline."""

from __future__ import annotations

import json
import logging
import sys
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
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
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


def setup(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level.upper())
