"""The OpenAI Responses API as the stand-in speaks it (Codex, `wire_api = "responses"`).

Usage comes once, in `response.completed`: `input_tokens` INCLUDES the cached part
(`input_tokens_details.cached_tokens`) and `output_tokens` INCLUDES reasoning
(`output_tokens_details.reasoning_tokens`); there is no cache-write figure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from tests.realclients.reply import Reply, Turn
from tests.realclients.sse import chunks, sse_event
from tests.realclients.tool_calls import ToolSpec
from tests.realclients.usage import Usage

OUTPUT_ITEMS = ("function_call_output", "custom_tool_call_output", "local_shell_call_output")


def _text_of(item: dict[str, Any]) -> str:
    content = item.get("content")
    if isinstance(content, str):
        return content
    return "\n".join(str(p.get("text", "")) for p in content or [] if isinstance(p, dict))


def read_turn(body: dict[str, Any]) -> Turn:
    """The latest user message of `input` and the tool outputs after it."""
    items = body.get("input")
    items = (
        [{"type": "message", "role": "user", "content": items}]
        if isinstance(items, str)
        else items or []
    )
    results = 0
    prompt = ""
    for item in reversed(items):
        if not isinstance(item, dict):
            continue
        if item.get("type") in OUTPUT_ITEMS:
            results += 1
        elif item.get("role") == "user":
            prompt = _text_of(item)
            break
    tools = []
    for t in body.get("tools") or []:
        if isinstance(t, dict) and t.get("name"):
            tools.append(
                ToolSpec(str(t["name"]), t.get("parameters") or {}, t.get("type") == "custom")
            )
    fmt = ((body.get("text") or {}).get("format") or {}).get("type")
    return Turn(
        str(body.get("model") or ""), prompt, results, tools, wants_json=fmt == "json_schema"
    )


def usage_fields(u: Usage) -> dict[str, Any]:
    """Usage as the Responses API reports it (inclusive totals with details)."""
    return {
        "input_tokens": u.input + u.cache_read,
        "input_tokens_details": {"cached_tokens": u.cache_read},
        "output_tokens": u.output + u.reasoning,
        "output_tokens_details": {"reasoning_tokens": u.reasoning},
        "total_tokens": u.input + u.cache_read + u.output + u.reasoning,
    }


def _item(reply: Reply) -> dict[str, Any]:
    call = reply.call
    if call is None:
        return {
            "id": f"msg_{reply.id[5:]}",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": reply.text, "annotations": []}],
        }
    if call.freeform:
        return {
            "id": f"ctc_{reply.id[5:]}",
            "type": "custom_tool_call",
            "status": "completed",
            "call_id": reply.call_id,
            "name": call.name,
            "input": call.arguments,
        }
    return {
        "id": f"fc_{reply.id[5:]}",
        "type": "function_call",
        "status": "completed",
        "call_id": reply.call_id,
        "name": call.name,
        "arguments": json.dumps(call.arguments),
    }


def json_reply(reply: Reply) -> dict[str, Any]:
    """A completed Responses object."""
    return {
        "id": reply.id,
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": reply.model,
        "output": [_item(reply)],
        "usage": usage_fields(reply.usage),
    }


def stream_reply(reply: Reply) -> Iterator[bytes]:
    """The SSE events of a streamed Responses call, numbered by `sequence_number`."""
    seq = iter(range(1_000_000))

    def ev(kind: str, **data: Any) -> bytes:
        return sse_event({"type": kind, "sequence_number": next(seq), **data}, kind)

    done = json_reply(reply)
    pending = dict(done, status="in_progress", output=[], usage=None)
    yield ev("response.created", response=pending)
    yield ev("response.in_progress", response=pending)
    item = _item(reply)
    item_id = item["id"]
    if item["type"] == "message":
        yield ev(
            "response.output_item.added",
            output_index=0,
            item=dict(item, status="in_progress", content=[]),
        )
        part = {"type": "output_text", "text": "", "annotations": []}
        yield ev(
            "response.content_part.added",
            item_id=item_id,
            output_index=0,
            content_index=0,
            part=part,
        )
        for piece in chunks(reply.text):
            yield ev(
                "response.output_text.delta",
                item_id=item_id,
                output_index=0,
                content_index=0,
                delta=piece,
            )
        yield ev(
            "response.output_text.done",
            item_id=item_id,
            output_index=0,
            content_index=0,
            text=reply.text,
        )
        yield ev(
            "response.content_part.done",
            item_id=item_id,
            output_index=0,
            content_index=0,
            part=item["content"][0],
        )
    elif item["type"] == "custom_tool_call":
        yield ev(
            "response.output_item.added",
            output_index=0,
            item=dict(item, status="in_progress", input=""),
        )
        for piece in chunks(item["input"]):
            yield ev(
                "response.custom_tool_call_input.delta",
                item_id=item_id,
                output_index=0,
                delta=piece,
            )
        yield ev(
            "response.custom_tool_call_input.done",
            item_id=item_id,
            output_index=0,
            input=item["input"],
        )
    else:
        yield ev(
            "response.output_item.added",
            output_index=0,
            item=dict(item, status="in_progress", arguments=""),
        )
        for piece in chunks(item["arguments"]):
            yield ev(
                "response.function_call_arguments.delta",
                item_id=item_id,
                output_index=0,
                delta=piece,
            )
        yield ev(
            "response.function_call_arguments.done",
            item_id=item_id,
            output_index=0,
            arguments=item["arguments"],
        )
    yield ev("response.output_item.done", output_index=0, item=item)
    yield ev("response.completed", response=done)
