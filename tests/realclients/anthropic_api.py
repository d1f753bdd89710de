"""The Anthropic Messages API as the stand-in speaks it (Claude Code; Copilot CLI's BYOK mode).

Streaming follows the API: `message_start` carries the input side of usage (`input_tokens`
excluding cache, `cache_creation_input_tokens`, `cache_read_input_tokens`) and a provisional
`output_tokens`; `message_delta` carries the final cumulative usage. Thinking is billed inside
`output_tokens`, so `reasoning` is always 0 here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tests.realclients.reply import Reply, Turn
from tests.realclients.sse import chunks, sse_event
from tests.realclients.tool_calls import ToolSpec
from tests.realclients.usage import Usage


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "\n".join(
        str(b.get("text", ""))
        for b in content or []
        if isinstance(b, dict) and b.get("type") == "text"
    )


def read_turn(body: dict[str, Any]) -> Turn:
    """The latest prompt (last user message without tool results) and tool results since."""
    messages = body.get("messages") or []
    results = 0
    prompt = ""
    for message in reversed(messages):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        blocks = content if isinstance(content, list) else []
        n = sum(1 for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result")
        if n:
            results += n
            continue
        prompt = _text_of(content)
        break
    tools = [
        ToolSpec(str(t.get("name")), t.get("input_schema") or {})
        for t in body.get("tools") or []
        if isinstance(t, dict) and t.get("name")
    ]
    return Turn(str(body.get("model") or ""), prompt, results, tools)


def usage_fields(u: Usage) -> dict[str, Any]:
    """Usage as the Messages API reports it."""
    return {
        "input_tokens": u.input,
        "cache_creation_input_tokens": u.cache_write,
        "cache_read_input_tokens": u.cache_read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": u.cache_write,
            "ephemeral_1h_input_tokens": 0,
        },
        "output_tokens": u.output,
        "service_tier": "standard",
    }


def _content(reply: Reply) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if reply.text:
        blocks.append({"type": "text", "text": reply.text})
    if reply.call is not None:
        blocks.append(
            {
                "type": "tool_use",
                "id": reply.call_id,
                "name": reply.call.name,
                "input": reply.call.arguments,
            }
        )
    return blocks


def _stop_reason(reply: Reply) -> str:
    return "tool_use" if reply.call is not None else "end_turn"


def json_reply(reply: Reply) -> dict[str, Any]:
    """A non-streaming Messages response."""
    return {
        "id": reply.id,
        "type": "message",
        "role": "assistant",
        "model": reply.model,
        "content": _content(reply),
        "stop_reason": _stop_reason(reply),
        "stop_sequence": None,
        "usage": usage_fields(reply.usage),
    }


def stream_reply(reply: Reply) -> Iterator[bytes]:
    """The SSE events of a streamed Messages response."""
    start = dict(json_reply(reply), content=[], stop_reason=None)
    start["usage"] = dict(usage_fields(reply.usage), output_tokens=1)
    yield sse_event({"type": "message_start", "message": start}, "message_start")
    yield sse_event({"type": "ping"}, "ping")
    for index, block in enumerate(_content(reply)):
        if block["type"] == "text":
            opened: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": w} for w in chunks(block["text"])]
        else:
            opened = dict(block, input={})
            deltas = [
                {"type": "input_json_delta", "partial_json": p}
                for p in chunks(json.dumps(block["input"]))
            ]
        yield sse_event(
            {"type": "content_block_start", "index": index, "content_block": opened},
            "content_block_start",
        )
        for delta in deltas:
            yield sse_event(
                {"type": "content_block_delta", "index": index, "delta": delta},
                "content_block_delta",
            )
        yield sse_event({"type": "content_block_stop", "index": index}, "content_block_stop")
    final = usage_fields(reply.usage)
    final.pop("cache_creation")
    final.pop("service_tier")
    yield sse_event(
        {
            "type": "message_delta",
            "delta": {"stop_reason": _stop_reason(reply), "stop_sequence": None},
            "usage": final,
        },
        "message_delta",
    )
    yield sse_event({"type": "message_stop"}, "message_stop")
