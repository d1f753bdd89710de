"""Arbitrary bytes, cut lines, huge lines, invalid UTF-8 and deep nesting never stop an adapter."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path, PurePosixPath

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aitally.collectors.files import registry
from aitally.collectors.files.adapters.base import LineAdapter
from aitally.collectors.files.tailer import Tailer
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store

# One file name per line-based and whole-file adapter, relative to its tool's root.
FILES = {
    "claude-code": "projects/p/S.jsonl",
    "codex": "sessions/2026/11/25/rollout-x.jsonl",
    "gemini-cli": "tmp/p/chats/session-1.jsonl",
    "copilot-cli": "session-state/C/events.jsonl",
    "continue": "dev_data/0.2.0/tokensGenerated.jsonl",
    "cline": "tasks/T/ui_messages.json",
}
MARKERS = [b'"usage"', b'"user"', b'"token_count"', b'"session.shutdown"', b'"tokens"']

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Records shaped like the tools' own: right keys, wrong or missing values.
KEYS = [
    "type",
    "timestamp",
    "message",
    "usage",
    "payload",
    "info",
    "total_token_usage",
    "id",
    "tokens",
    "data",
    "modelMetrics",
    "say",
    "text",
    "ts",
    "sessionId",
    "requestId",
    "model",
]
shaped = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6).map(
    lambda d: json.dumps(d).encode()
)
lines = st.one_of(
    st.binary(max_size=200),
    shaped,
    st.builds(lambda m, b: m + b, st.sampled_from(MARKERS), st.binary(max_size=60)),
    st.integers(1, 3000).map(lambda n: b'{"usage":' * n + b"1" + b"}" * n),  # deep nesting
    st.integers(1, 4).map(lambda n: b'{"type":"user","x":"' + b"a" * 3000 * n + b'"}'),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tool=st.sampled_from(sorted(FILES)), body=st.lists(lines, max_size=12), cut=st.booleans())
def test_any_bytes(tool: str, body: list[bytes], cut: bool) -> None:
    rel = PurePosixPath(FILES[tool])
    adapter = next(a for a in registry.adapters() if a.tool == tool and a.matches(rel))
    data = b"\n".join(body) + (b"" if cut else b"\n")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, rel.name)
        path.write_bytes(data)
        store = Store(Path(tmp, "s.db"))
        try:
            tailer = Tailer(Sessionizer(store), store, max_line=4096)
            tailer.process(path, rel, adapter)
            with path.open("ab") as fh:
                fh.write(b"\xff\n")
            tailer.process(path, rel, adapter)
            (offset,) = store.conn.execute("SELECT offset FROM file_positions").fetchone()
            if isinstance(adapter, LineAdapter):
                # The appended line ends every cut line: all of it is read, nothing waits.
                assert offset == len(data) + 2
            # What was skipped is counted by reason (too long, bad JSON, invalid UTF-8).
            long_lines = sum(1 for b in body if len(b) > 4096)
            skipped = store.counters("file_skipped")
            if isinstance(adapter, LineAdapter):
                assert skipped.get(f"{tool}:line_too_long", 0) == long_lines
        finally:
            store.close()
