"""The agent's status as one typed value, read by `aitally status` and the local dashboard.

The agent runs in its own process, so status is read from the store it keeps: its own fields
(last scan, live processes, queue, counters) plus one typed status per part, the file
collectors' (`FileCollectorStatus`), the browser collector's (`BrowserStatus`), the OTLP
receiver's (`OtlpReceiverStatus`) and the uploader's (`UploaderStatus`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from aitally.collectors.browser.status import BrowserStatus
from aitally.collectors.browser.status import read_status as read_browser_status
from aitally.collectors.files.status import FileCollectorStatus
from aitally.collectors.files.status import read_status as read_file_status
from aitally.collectors.otlp.status import OtlpReceiverStatus
from aitally.collectors.otlp.status import read_status as read_otlp_status
from aitally.core import paths
from aitally.core.config import Config
from aitally.core.instance_lock import holder_pid, is_held
from aitally.core.store import Store, outbox, segments, sessions
from aitally.core.timerange import iso
from aitally.uploader.status import UploaderStatus
from aitally.uploader.status import read_status as read_upload_status

# The agent's own counters: status key -> counter name in the store.
COUNTERS = {
    "dropped": "dropped",
    "parse_errors": "parse_error",
    "drift": "drift",
    "errors": "errors",
    "git_repositories": "git",
}


@dataclass(frozen=True)
class AgentStatus:
    """The agent's own fields (`agent`, a JSON object) and each part's typed status."""

    agent: dict[str, Any]
    files: FileCollectorStatus | None = None
    upload: UploaderStatus | None = None
    browser: BrowserStatus | None = None
    otlp: OtlpReceiverStatus | None = None
    parts: dict[str, dict[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        parts: dict[str, dict[str, Any]] = {}
        if self.files is not None:
            parts["file_collectors"] = self.files.as_json()
        if self.upload is not None:
            parts["upload"] = self.upload.as_json()
        if self.browser is not None:
            parts["browser"] = self.browser.as_json()
        if self.otlp is not None:
            parts["otlp_receiver"] = self.otlp.as_json()
        object.__setattr__(self, "parts", parts)

    def as_json(self) -> dict[str, Any]:
        """What `aitally status --json` prints."""
        return {**self.agent, **self.parts}

    def part_lines(self) -> list[tuple[str, str]]:
        """(label, value) lines the parts add to the text view."""
        lines = [("otlp", self.otlp.summary_line())] if self.otlp is not None else []
        return lines + (self.upload.summary_lines() if self.upload is not None else [])


def read_status(cfg: Config) -> AgentStatus:
    """The status as the store and the instance lock tell it now."""
    lock = paths.lock_file()
    running = is_held(lock)
    agent: dict[str, Any] = {
        "running": running,
        "pid": holder_pid(lock) if running else None,
        "data_dir": str(paths.data_dir()),
        "log_file": str(paths.log_file()),
        "policy": {
            "level": cfg.get("privacy", "level"),
            "managed": cfg.is_managed("privacy", "level"),
        },
        "endpoint": cfg.get("upload", "endpoint") or None,
    }
    if not paths.store_file().exists():
        agent.update(
            store=None,
            last_scan=None,
            open_segments=0,
            queue_depth=0,
            dropped={},
            parse_errors={},
            drift={},
            errors={},
        )
        return AgentStatus(agent)
    store = Store(paths.store_file())
    try:
        scan = store.kv_get("last_scan")
        scan_data = json.loads(scan) if scan else None
        if scan_data:
            scan_data["at"] = iso(scan_data["at"])
        agent.update(
            store={"path": str(store.path), "bytes": store.size_bytes()},
            started_at=iso(float(v)) if (v := store.kv_get("agent_started_at")) else None,
            last_scan=scan_data,
            live_processes=[
                {"tool": p.tool, "pid": p.pid}
                for p in sorted(sessions.live_processes(store.conn), key=lambda p: (p.tool, p.pid))
            ],
            open_segments=segments.count_open(store.conn),
            queue_depth=outbox.depth(store.conn),
            **{key: store.counters(name) for key, name in COUNTERS.items()},
        )
        return AgentStatus(
            agent,
            read_file_status(store),
            read_upload_status(cfg, store),
            read_browser_status(store),
            read_otlp_status(cfg, store),
        )
    finally:
        store.close()
