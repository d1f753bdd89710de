"""The Gemini API as the stand-in speaks it (Gemini CLI, `streamGenerateContent?alt=sse`).

Usage is `usageMetadata` on every chunk, complete on the last: `promptTokenCount` INCLUDES
`cachedContentTokenCount`; `candidatesTokenCount` EXCLUDES `thoughtsTokenCount`. Structured
output (`responseMimeType: application/json`, e.g. Gemini CLI's model router and next-speaker
check) gets a JSON text filled from the requested schema.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tests.realclients.reply import Reply, Turn
from tests.realclients.sse import chunks, sse_event
from tests.realclients.tool_calls import ToolSpec
from tests.realclients.usage import Usage


def read_turn(body: dict[str, Any], model: str) -> Turn:
    """The latest user text (not a function response) and the function responses after it."""
    results = 0
    prompt = ""
    for content in reversed(body.get("contents") or []):
        if not isinstance(content, dict) or content.get("role") != "user":
            continue
        parts = [p for p in content.get("parts") or [] if isinstance(p, dict)]
        n = sum(1 for p in parts if "functionResponse" in p)
        if n:
            results += n
            continue
        prompt = "\n".join(str(p.get("text", "")) for p in parts)
        break
    tools = [
        ToolSpec(str(d["name"]), d.get("parametersJsonSchema") or d.get("parameters") or {})
        for t in body.get("tools") or []
        if isinstance(t, dict)
        for d in t.get("functionDeclarations") or []
        if isinstance(d, dict) and d.get("name")
    ]
    config = body.get("generationConfig") or {}
    wants_json = config.get("responseMimeType") == "application/json"
    return Turn(model, prompt, results, tools, wants_json)


def json_from_schema(schema: dict[str, Any]) -> Any:
    """A value satisfying a (simple) JSON schema: first enum value, else a scripted filler."""
    if schema.get("enum"):
        return schema["enum"][0]
    kind = str(schema.get("type", "object")).lower()
    if kind == "object":
        props = schema.get("properties") or {}
        return {key: json_from_schema(sub) for key, sub in props.items()}
    if kind == "array":
        return []
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return 0
    return "scripted"


def usage_fields(u: Usage) -> dict[str, Any]:
    """`usageMetadata` as the Gemini API reports it."""
    return {
        "promptTokenCount": u.input + u.cache_read,
        "cachedContentTokenCount": u.cache_read,
        "candidatesTokenCount": u.output,
        "thoughtsTokenCount": u.reasoning,
        "totalTokenCount": u.input + u.cache_read + u.output + u.reasoning,
    }


def _parts(reply: Reply) -> list[dict[str, Any]]:
    if reply.call is not None:
        return [
            {
                "functionCall": {
                    "id": reply.call_id,
                    "name": reply.call.name,
                    "args": reply.call.arguments,
                }
            }
        ]
    return [{"text": reply.text}]


def json_reply(reply: Reply) -> dict[str, Any]:
    """A complete `generateContent` response."""
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": _parts(reply)},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": usage_fields(reply.usage),
        "modelVersion": reply.model,
        "responseId": reply.id,
    }


def stream_reply(reply: Reply) -> Iterator[bytes]:
    """The SSE chunks of `streamGenerateContent?alt=sse`: text in pieces, usage complete last."""
    partial = {"promptTokenCount": reply.usage.input + reply.usage.cache_read}
    pieces = chunks(reply.text) if reply.call is None else []
    for piece in pieces[:-1]:
        yield sse_event(
            {
                "candidates": [
                    {"content": {"role": "model", "parts": [{"text": piece}]}, "index": 0}
                ],
                "usageMetadata": partial,
                "modelVersion": reply.model,
                "responseId": reply.id,
            }
        )
    last = json_reply(reply)
    if pieces:
        last["candidates"][0]["content"]["parts"] = [{"text": pieces[-1]}]
    yield sse_event(last)


def structured_text(body: dict[str, Any]) -> str:
    """The JSON text answering a structured-output request."""
    config = body.get("generationConfig") or {}
    schema = config.get("responseJsonSchema") or config.get("responseSchema") or {}
    return json.dumps(json_from_schema(schema))
