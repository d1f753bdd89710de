"""`aitally status` fields of the file collectors: roots watched, files tracked, skips, catch-up."""

from __future__ import annotations

import json
from typing import Any

from aitally.collectors.files.watcher import STATUS_KEY
from aitally.core.config import Config
from aitally.core.store import Store


def status_fields(cfg: Config, store: Store) -> dict[str, Any]:
    raw = store.kv_get(STATUS_KEY)
    try:
        saved = json.loads(raw) if raw else {}
    except ValueError:
        saved = {}
    files = {
        r[0]: r[1]
        for r in store.conn.execute("SELECT tool, COUNT(*) FROM file_positions GROUP BY tool")
    }
    return {
        "file_collectors": {
            "roots": saved.get("roots", {}),
            "files_by_tool": files,
            "skipped": store.counters("file_skipped"),
            "catch_up": saved.get("backfill"),
        }
    }
