"""Where each tool's telemetry enters the OTLP receiver, and where the receiver sends it on.

`aitally install --configure-tools` (installer/tool_telemetry.py) points each tool at
`http://127.0.0.1:<port>/<tool>` (Gemini CLI, which cannot send headers, at
`.../<tool>/k/<token>`), and saves the endpoint the person had, if any, in `UPSTREAMS_FILE` in
the data folder. The receiver (collectors/otlp/receiver.py) reads the tool and token from the
path, and forwards each accepted body unchanged to that tool's saved endpoint
(collectors/otlp/forward.py). Both sides read and write through this module alone.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

SIGNALS: Final = ("logs", "metrics", "traces")
# The tools install can point at the receiver (core/tools.py ids).
ROUTED_TOOLS: Final = ("claude-code", "gemini-cli", "codex", "copilot-cli")
UPSTREAMS_FILE: Final = "otlp_upstreams.json"
# The path segment before a token carried in the path (for tools without headers).
TOKEN_SEGMENT: Final = "k"
# The header that carries the per-user token (collectors/otlp/token.py checks it).
TOKEN_HEADER: Final = "x-aitally-token"


@dataclass(frozen=True, slots=True)
class Route:
    """What a request path says: the signal, and the tool and token when the path names them."""

    signal: str
    tool: str | None = None
    token: str | None = None


@dataclass(frozen=True, slots=True)
class Upstream:
    """The person's own collector for one tool: full URL per signal, and its headers."""

    urls: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The entry as UPSTREAMS_FILE keeps it."""
        return {"urls": dict(self.urls), "headers": dict(self.headers)}


def prefix(tool: str, token: str | None = None) -> str:
    """The path prefix install gives a tool (no trailing slash)."""
    return f"/{tool}/{TOKEN_SEGMENT}/{token}" if token else f"/{tool}"


def parse_path(path: str) -> Route | None:
    """`/v1/<signal>`, `/<tool>/v1/<signal>` or `/<tool>/k/<token>/v1/<signal>`; else None."""
    parts = path.split("?", 1)[0].strip("/").split("/")
    if len(parts) < 2 or parts[-2] != "v1" or parts[-1] not in SIGNALS:
        return None
    head = parts[:-2]
    if not head:
        return Route(parts[-1])
    if head[0] not in ROUTED_TOOLS:
        return None
    if len(head) == 1:
        return Route(parts[-1], head[0])
    if len(head) == 3 and head[1] == TOKEN_SEGMENT and head[2]:
        return Route(parts[-1], head[0], head[2])
    return None


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def read_upstreams(folder: Path) -> dict[str, Upstream]:
    """The saved endpoints by tool; empty when none were saved or the file is unreadable."""
    try:
        data = json.loads((folder / UPSTREAMS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    out: dict[str, Upstream] = {}
    for tool, entry in data.items():
        if tool in ROUTED_TOOLS and isinstance(entry, dict):
            urls = {s: u for s, u in _strings(entry.get("urls")).items() if s in SIGNALS}
            out[tool] = Upstream(urls, _strings(entry.get("headers")))
    return out


def write_upstreams(folder: Path, upstreams: dict[str, Upstream]) -> None:
    """Saves the endpoints (0600: their headers may be the person's collector credentials);
    no upstream at all removes the file."""
    path = folder / UPSTREAMS_FILE
    if not upstreams:
        path.unlink(missing_ok=True)
        return
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps({t: u.as_json() for t, u in sorted(upstreams.items())}, indent=2)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    os.replace(tmp, path)
