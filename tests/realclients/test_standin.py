"""The stand-ins over real loopback HTTP: SSE framing, scripted replies, usage as each API
reports it, and the truth log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from tests.realclients.standin import StandIn


def sse(body: str) -> list[tuple[str | None, dict[str, Any]]]:
    """Parses an SSE body strictly: every event ends with a blank line, one data line each."""
    assert body.endswith("\n\n")
    events = []
    for block in body.split("\n\n")[:-1]:
        lines = block.split("\n")
        name = lines[0][len("event: ") :] if lines[0].startswith("event: ") else None
        data = [line for line in lines if line.startswith("data: ")]
        assert len(data) == 1 and len(lines) == (2 if name else 1), block
        events.append((name, json.loads(data[0][len("data: ") :])))
    return events


def post(url: str, body: dict[str, Any]) -> requests.Response:
    reply = requests.post(url, json=body, timeout=10)
    assert reply.status_code == 200, reply.text
    return reply


def test_anthropic_stream_has_the_messages_events_and_usage(tmp_path: Path) -> None:
    tools = [{"name": "Bash", "input_schema": {"properties": {"command": {"type": "string"}}}}]
    body = {
        "model": "claude-x",
        "stream": True,
        "tools": tools,
        "messages": [{"role": "user", "content": "AITALLY-MARKER-t [[shell: echo hi]]"}],
    }
    with StandIn(tmp_path / "log.jsonl", workdir=tmp_path) as standin:
        reply = post(standin.url + "/v1/messages", body)
        logged = standin.replies()
    assert reply.headers["content-type"] == "text/event-stream"
    assert reply.headers["request-id"].startswith("req_")
    events = sse(reply.text)
    names = [n for n, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert all(n == d["type"] for n, d in events)
    start = events[0][1]["message"]
    tool_json = "".join(d["delta"]["partial_json"] for n, d in events if n == "content_block_delta")
    assert json.loads(tool_json) == {"command": "echo hi"}
    [entry] = logged
    wire = entry["wire"]
    assert start["id"] == entry["id"] and start["usage"]["input_tokens"] == wire["input"]
    assert start["usage"]["cache_read_input_tokens"] == wire["cache_read"]
    assert start["usage"]["cache_creation_input_tokens"] == wire["cache_write"]
    assert events[-2][1]["usage"]["output_tokens"] == wire["output"]
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"
    assert wire["reasoning"] == 0 and entry["role"] == "agent" and entry["action"] == "Bash"


def test_anthropic_answers_a_tool_result_with_text_and_side_calls_with_text(
    tmp_path: Path,
) -> None:
    tools = [{"name": "Bash", "input_schema": {"properties": {"command": {"type": "string"}}}}]
    prompt = {"role": "user", "content": [{"type": "text", "text": "go [[shell: ls]]"}]}
    result = {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "t", "content": ""}],
    }
    with StandIn(tmp_path / "log.jsonl", workdir=tmp_path) as standin:
        after = post(
            standin.url + "/v1/messages",
            {
                "model": "m",
                "tools": tools,
                "messages": [prompt, {"role": "assistant", "content": []}, result],
            },
        ).json()
        side = post(standin.url + "/v1/messages", {"model": "m", "messages": [prompt]}).json()
        roles = [e["role"] for e in standin.replies()]
    assert after["stop_reason"] == "end_turn" and after["content"][0]["type"] == "text"
    assert side["content"][0]["type"] == "text" and roles == ["agent", "side"]


def test_openai_responses_stream_reports_inclusive_usage(tmp_path: Path) -> None:
    body = {
        "model": "gpt-x",
        "stream": True,
        "tools": [
            {
                "type": "function",
                "name": "shell_command",
                "parameters": {"properties": {"command": {"type": "string"}}},
            }
        ],
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "[[shell: pwd]]"}],
            }
        ],
    }
    with StandIn(tmp_path / "log.jsonl", workdir=tmp_path) as standin:
        events = sse(post(standin.url + "/v1/responses", body).text)
        [entry] = standin.replies()
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    assert events[0][0] == "response.created" and events[-1][0] == "response.completed"
    done = events[-1][1]["response"]
    assert done["id"] == entry["id"] and done["output"][0]["type"] == "function_call"
    assert json.loads(done["output"][0]["arguments"]) == {"command": "pwd"}
    usage, wire = done["usage"], entry["wire"]
    assert usage["input_tokens"] == wire["input"] + wire["cache_read"]
    assert usage["input_tokens_details"]["cached_tokens"] == wire["cache_read"]
    assert usage["output_tokens"] == wire["output"] + wire["reasoning"]
    assert usage["output_tokens_details"]["reasoning_tokens"] == wire["reasoning"]
    assert wire["cache_write"] == 0


def test_openai_freeform_apply_patch_gets_a_custom_tool_call(tmp_path: Path) -> None:
    body = {
        "model": "gpt-x",
        "stream": True,
        "tools": [{"type": "custom", "name": "apply_patch"}],
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "[[edit: notes.txt]]"}],
            }
        ],
    }
    with StandIn(tmp_path / "log.jsonl", workdir=tmp_path) as standin:
        events = sse(post(standin.url + "/v1/responses", body).text)
    item = events[-1][1]["response"]["output"][0]
    assert item["type"] == "custom_tool_call" and "*** Update File: notes.txt" in item["input"]


def test_gemini_sse_chunks_end_with_complete_usage(tmp_path: Path) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "hello there"}]}]}
    path = "/v1beta/models/gemini-x:streamGenerateContent?alt=sse"
    with StandIn(tmp_path / "log.jsonl", workdir=tmp_path) as standin:
        events = sse(post(standin.url + path, body).text)
        [entry] = standin.replies()
    assert all(name is None for name, _ in events)
    text = "".join(d["candidates"][0]["content"]["parts"][0]["text"] for _, d in events)
    assert text == "Hello from the scripted stand-in."
    last, wire = events[-1][1], entry["wire"]
    assert last["candidates"][0]["finishReason"] == "STOP" and last["responseId"] == entry["id"]
    meta = last["usageMetadata"]
    assert meta["promptTokenCount"] == wire["input"] + wire["cache_read"]
    assert meta["cachedContentTokenCount"] == wire["cache_read"]
    assert meta["candidatesTokenCount"] == wire["output"]
    assert meta["thoughtsTokenCount"] == wire["reasoning"]
    assert entry["model"] == "gemini-x"


def test_gemini_structured_output_follows_the_schema(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "properties": {
            "reasoning": {"type": "string"},
            "model_choice": {"type": "string", "enum": ["flash", "pro"]},
        },
    }
    body = {
        "contents": [{"role": "user", "parts": [{"text": "route this"}]}],
        "generationConfig": {"responseMimeType": "application/json", "responseJsonSchema": schema},
    }
    with StandIn(tmp_path / "log.jsonl", workdir=tmp_path) as standin:
        reply = post(standin.url + "/v1beta/models/gemini-x:generateContent", body).json()
    text = reply["candidates"][0]["content"]["parts"][0]["text"]
    assert json.loads(text) == {"reasoning": "scripted", "model_choice": "flash"}


def test_the_same_seed_draws_the_same_usage(tmp_path: Path) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    wires = []
    for run in ("a", "b"):
        with StandIn(tmp_path / f"{run}.jsonl", workdir=tmp_path, seed=7) as standin:
            post(standin.url + "/v1/messages", body)
            wires.append(standin.replies()[0]["wire"])
    assert wires[0] == wires[1]


def test_unknown_paths_are_404_and_remembered(tmp_path: Path) -> None:
    with StandIn(tmp_path / "log.jsonl", workdir=tmp_path) as standin:
        reply = requests.post(standin.url + "/v9/other", json={}, timeout=10)
        assert reply.status_code == 404 and standin.unhandled == ["POST /v9/other"]
        assert standin.replies() == []
