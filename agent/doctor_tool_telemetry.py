"""`aitally doctor`'s line per AI tool: does its own telemetry reach the OTLP receiver?

Two facts per tool: whether `aitally install --configure-tools` pointed its settings file at the
receiver and the file still says so (installer/tool_telemetry.py), and when a batch last came in
on the path install gave it (collectors/otlp/status.py, in the store).
"""

from __future__ import annotations

import time
from pathlib import Path

from aitally.agent.doctor import OK, WARN, Check
from aitally.collectors.otlp.status import read_tool_last_batch
from aitally.core import paths
from aitally.core.otlp_routes import ROUTED_TOOLS
from aitally.core.store import Store
from aitally.core.timerange import iso
from aitally.installer import tool_telemetry

# Claude Code exports logs every 5 s and metrics every minute while it runs; a day without a
# batch from a tool in use means its telemetry is not arriving.
RECENT = 24 * 3600.0
FIX_CONFIGURE = "aitally install --configure-tools"


def _last_batches() -> dict[str, float]:
    path = paths.store_file()
    if not path.exists():
        return {}
    store = Store(path)
    try:
        return {t: at for t in ROUTED_TOOLS if (at := read_tool_last_batch(store, t)) is not None}
    finally:
        store.close()


def tool_checks(port: int, now: float | None = None) -> list[Check]:
    """One check per tool that install configured or whose telemetry ever arrived."""
    now = time.time() if now is None else now
    configured = tool_telemetry.configured_tools(paths.data_dir())
    seen = _last_batches()
    checks = []
    for tool in ROUTED_TOOLS:
        if tool not in configured and tool not in seen:
            continue
        name = f"otlp {tool}"
        file: Path | None = configured.get(tool)
        last = seen.get(tool)
        where = f"configured in {file}" if file else "configured by hand or by IT"
        if file is not None and not tool_telemetry.still_points_here(tool, file, port):
            checks.append(
                Check(name, WARN, f"{file} no longer points at the receiver", FIX_CONFIGURE)
            )
        elif last is not None and now - last <= RECENT:
            checks.append(Check(name, OK, f"reaches the receiver ({where}; last {iso(last)})"))
        else:
            since = f"none since {iso(last)}" if last else "none yet"
            checks.append(
                Check(
                    name,
                    WARN,
                    f"{where}; telemetry received: {since}",
                    f"use {tool} once (a new session reads its settings); if nothing arrives, "
                    f"`aitally status` shows rejected requests",
                )
            )
    return checks
