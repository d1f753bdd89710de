"""The Claude Code adapter's partial decode gives the observations a whole `json.loads` gives."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

from aitally.collectors.files.adapters.claude_code import ClaudeCode
from aitally.collectors.files.state import FileState
from aitally.core.observation import Observation
from tests.collectors.files import corpus

REL = PurePosixPath("projects/-home-dev/4bd3503e-e3c4-424d-8bef-a86530d0a17e.jsonl")
TS = '"timestamp":"2026-11-25T20:51:58.313Z"'
# Shapes a partial decode could get wrong: odd types where the adapter reads, big tool results.
ODD = [
    '{"type":"user",' + TS + ',"message":{"content":{"a":1}}}',
    '{"type":"user",' + TS + ',"message":null}',
    '{"type":"user",' + TS + ',"message":{"content":["text", {"type":"text"}]}}',
    '{"type":"user",' + TS + ',"message":{"content":[{"no":"type"}]}}',
    '{"type":"user",' + TS + ',"isMeta":"yes","message":{"content":"hi"}}',
    '{"type":"user","timestamp":1764103918313,"version":7,"message":{"content":"hi"}}',
    '{"type":"user",'
    + TS
    + ',"message":{"content":[{"type":"tool_result","content":'
    + json.dumps('x\n\t"y" \u00e9 ' * 3000)
    + "}]}}",
    '{"type":"assistant",' + TS + ',"message":{"id":"m1","model":"c","usage":{"input_tokens":'
    '1.5,"output_tokens":true,"cache_creation":{"a":2,"b":null}}}}',
    '{"type":"assistant",' + TS + ',"message":{"id":"m2","usage":{"input_tokens":NaN}}}',
    '{"type":"assistant",'
    + TS
    + ',"message":{"id":"m3","usage":{"input_tokens":'
    + "9" * 30
    + "}}}",
    '{"type":"assistant",' + TS + ',"message":"text","requestId":"r"}',
    '["user"]',
    # A subagent's end: its id, model and usage in the parent's tool result.
    '{"type":"user",' + TS + ',"message":{"content":[{"type":"tool_result","tool_use_id":"t"}]},'
    '"toolUseResult":{"agentId":"a1","resolvedModel":"claude-x","usage":{"input_tokens":3}}}',
    # A key twice: the last one counts, as in json.loads.
    '{"type":"assistant",' + TS + ',"type":"user","message":{"content":"twice"}}',
    '{"type":"user",' + TS + ',"message":{"content":"caf\u00e9 \u2603 written raw"}}',
]


def observations(lines: list[bytes], fast: bool) -> list[list[Observation]]:
    adapter, st, out = ClaudeCode(), FileState(), []
    for raw in lines:
        obj = adapter.decode(raw) if fast else None
        if obj is None:
            obj = json.loads(raw)
        out.append(adapter.line(obj, REL, st) if isinstance(obj, dict) else [])
    return out


def test_partial_decode_matches_json_loads() -> None:
    lines = [
        line.encode()
        for _, text in corpus.templates()
        for line in corpus.render(text, "s-1", 1, 2).splitlines()
    ]
    lines += [line.encode() for line in ODD]  # UTF-8: the non-ASCII line stays raw
    assert observations(lines, fast=True) == observations(lines, fast=False)


def test_partial_decode_refuses_what_is_not_its_shape() -> None:
    adapter = ClaudeCode()
    assert adapter.decode(b'["user"]') is None
    assert adapter.decode(b'{"type":"user","message":{"content":{"a":1}}}') is None
    assert adapter.decode(b'{"type":"user", bad') is None
    assert adapter.decode(b'{"type":"user","x":"\xff"}') is None
