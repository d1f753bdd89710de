"""Server-sent events framing, as the three model APIs stream them."""

from __future__ import annotations

import json
from typing import Any


def sse_event(data: Any, event: str | None = None) -> bytes:
    """One SSE event: an optional `event:` line, one `data:` line of compact JSON, a blank line."""
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def chunks(text: str, size: int = 24) -> list[str]:
    """Text cut into the small deltas a streaming API sends (at least one, possibly empty)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
