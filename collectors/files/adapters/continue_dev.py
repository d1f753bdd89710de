"""Continue: dev_data/<version>/tokensGenerated.jsonl, the content-free local usage stream."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from aitally.collectors.files.adapters.base import FileState, LineAdapter, num, text, ts
from aitally.core.observation import Observation, Tokens, Usage

TOOL = "continue"


class ContinueDev(LineAdapter):
    """One usage record per line: prompt and generated tokens per model."""

    tool = TOOL
    markers = (b'"generatedTokens"', b'"promptTokens"')
    dirs = ("dev_data",)

    def matches(self, rel: PurePosixPath) -> bool:
        return rel.parts[0] == "dev_data" and rel.name == "tokensGenerated.jsonl"

    def line(self, obj: Mapping[str, Any], rel: PurePosixPath, st: FileState) -> list[Observation]:
        at = ts(obj.get("timestamp")) or ts(obj.get("createdAt"))
        if at is None:
            st.drifted()
            return []
        # The stream has no session id in most versions: a day is the session.
        sid = text(obj.get("sessionId")) or "day-" + time.strftime("%Y-%m-%d", time.gmtime(at))
        tokens = Tokens(num(obj.get("promptTokens")), num(obj.get("generatedTokens")))
        if tokens.input is None and tokens.output is None:
            st.drifted()
            return []
        return [Usage(TOOL, sid, at, text(obj.get("model")), tokens)]
