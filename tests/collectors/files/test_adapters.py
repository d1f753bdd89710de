"""Each adapter on files shaped like its tool's, through the real tailer and store."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from aitally.agent import reports
from aitally.collectors.files import registry
from aitally.collectors.files.adapters.base import Adapter
from aitally.collectors.files.tailer import Tailer
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store
from tests.collectors.files.helpers import scan_for

NOW = time.time() - 3600
ISO = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(NOW))
SECRET = "CANARY-adapter-0"


@pytest.fixture
def tailer(tmp_path: Path) -> Iterator[Tailer]:
    store = Store(tmp_path / "s.db")
    yield Tailer(Sessionizer(store), store)
    store.close()
    # Every byte the store holds (WAL included) is free of the planted content.
    assert scan_for(tmp_path, b"CANARY", only="s.db") == []


def adapter_for(tool: str, rel: PurePosixPath) -> Adapter:
    return next(a for a in registry.adapters() if a.tool == tool and a.matches(rel))


def feed(tailer: Tailer, root: Path, rel: str, tool: str, body: str | bytes | None) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if body is not None:
        path.write_bytes(body.encode() if isinstance(body, str) else body)
    r = PurePosixPath(rel)
    tailer.process(path, r, adapter_for(tool, r))


def sessions(tailer: Tailer) -> dict[str, dict[str, Any]]:
    out = {}
    for s in reports.sessions(tailer.store.conn):
        out[s["tool_session_id"]] = s
    return out


def jl(*objs: object) -> str:
    return "".join(json.dumps(o) + "\n" for o in objs)


def test_gemini_last_record_per_message_wins(tailer: Tailer, tmp_path: Path) -> None:
    rel = "tmp/proj/chats/session-2026-11-25T10-00-5f0c2d3e.jsonl"
    feed(
        tailer,
        tmp_path,
        rel,
        "gemini-cli",
        jl(
            {"sessionId": "G1", "projectHash": "x", "startTime": ISO, "kind": "main"},
            {"id": "m1", "timestamp": ISO, "type": "user", "content": [{"text": SECRET}]},
            {"id": "m2", "timestamp": ISO, "type": "gemini", "content": SECRET, "tokens": None},
            {
                "id": "m2",
                "timestamp": ISO,
                "type": "gemini",
                "model": "gemini-2.5-pro",
                "tokens": {
                    "input": 8200,
                    "output": 410,
                    "cached": 6000,
                    "thoughts": 220,
                    "tool": 0,
                },
            },
            {"$set": {"lastUpdated": ISO}},
            {
                "id": "m2",
                "timestamp": ISO,
                "type": "gemini",
                "model": "gemini-2.5-pro",
                "tokens": {
                    "input": 8200,
                    "output": 410,
                    "cached": 6000,
                    "thoughts": 220,
                    "tool": 0,
                },
            },
        ),
    )
    s = sessions(tailer)["G1"]
    assert s["tokens"] == dict(
        input=2200, output=410, cache_read=6000, cache_write=None, reasoning=220
    )
    assert s["turns"] == 1 and list(s["models"]) == ["gemini-2.5-pro"]


def test_gemini_old_whole_file_json_is_diffed(tailer: Tailer, tmp_path: Path) -> None:
    rel = "tmp/proj/chats/session-2026-11-25T10-00-abcd1234.json"
    msgs = [
        {"id": "a", "timestamp": ISO, "type": "user", "content": SECRET},
        {
            "id": "b",
            "timestamp": ISO,
            "type": "gemini",
            "model": "g",
            "tokens": {"input": 100, "output": 10, "cached": 0},
        },
    ]
    feed(tailer, tmp_path, rel, "gemini-cli", json.dumps({"sessionId": "G2", "messages": msgs}))
    msgs.append(
        {
            "id": "c",
            "timestamp": ISO,
            "type": "gemini",
            "model": "g",
            "tokens": {"input": 50, "output": 5},
        }
    )
    time.sleep(0.01)
    feed(tailer, tmp_path, rel, "gemini-cli", json.dumps({"sessionId": "G2", "messages": msgs}))
    assert sessions(tailer)["G2"]["tokens"]["input"] == 150
    assert sessions(tailer)["G2"]["turns"] == 1


def test_copilot_cli_shutdown_totals(tailer: Tailer, tmp_path: Path) -> None:
    rel = "session-state/C1/events.jsonl"
    feed(
        tailer,
        tmp_path,
        rel,
        "copilot-cli",
        jl(
            {"type": "user.message", "data": {"content": SECRET}, "id": "e1", "timestamp": ISO},
            {
                "type": "assistant.message",
                "data": {"outputTokens": 9},
                "id": "e2",
                "timestamp": ISO,
            },
            {
                "type": "session.shutdown",
                "id": "e3",
                "timestamp": ISO,
                "data": {
                    "modelMetrics": {
                        "gpt-5": {
                            "usage": {
                                "inputTokens": 1000,
                                "outputTokens": 50,
                                "cacheReadTokens": 600,
                                "cacheWriteTokens": 100,
                            }
                        }
                    }
                },
            },
        ),
    )
    s = sessions(tailer)["C1"]
    assert s["tokens"] == dict(
        input=300, output=50, cache_read=600, cache_write=100, reasoning=None
    )
    assert s["turns"] == 1


def test_continue_tokens_generated(tailer: Tailer, tmp_path: Path) -> None:
    rel = "dev_data/0.2.0/tokensGenerated.jsonl"
    feed(
        tailer,
        tmp_path,
        rel,
        "continue",
        jl(
            {
                "eventName": "tokensGenerated",
                "timestamp": ISO,
                "model": "llama",
                "provider": "x",
                "promptTokens": 120,
                "generatedTokens": 30,
            },
        ),
    )
    (s,) = sessions(tailer).values()
    assert s["tokens"]["input"] == 120 and s["tokens"]["output"] == 30


def test_cline_requests_are_diffed_across_rewrites(tailer: Tailer, tmp_path: Path) -> None:
    rel = "tasks/T1/ui_messages.json"
    ms = int(NOW * 1000)
    msgs = [
        {"ts": ms, "type": "say", "say": "task", "text": SECRET},
        {
            "ts": ms + 1,
            "type": "say",
            "say": "api_req_started",
            "text": json.dumps({"request": SECRET}),
        },
    ]
    feed(tailer, tmp_path, rel, "cline", json.dumps(msgs))
    msgs[1]["text"] = json.dumps(
        {
            "request": SECRET,
            "tokensIn": 10,
            "tokensOut": 5,
            "cacheReads": 100,
            "cacheWrites": 7,
            "modelId": "claude-x",
        }
    )
    time.sleep(0.01)
    feed(tailer, tmp_path, rel, "cline", json.dumps(msgs))
    s = sessions(tailer)["T1"]
    assert s["tokens"] == dict(input=10, output=5, cache_read=100, cache_write=7, reasoning=None)
    assert s["turns"] == 1 and list(s["models"]) == ["claude-x"]


def test_cursor_reads_bubbles_and_never_the_credentials_in_item_table(
    tailer: Tailer, tmp_path: Path
) -> None:
    db = tmp_path / "state.vscdb"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE ItemTable (key TEXT, value BLOB)")
    conn.execute("CREATE TABLE cursorDiskKV (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
    conn.execute("INSERT INTO ItemTable VALUES ('cursorAuth/accessToken', ?)", (SECRET,))
    comp = "c" * 36
    rows = [
        (f"bubbleId:{comp}:{'u' * 36}", {"type": 1, "text": SECRET, "createdAt": ISO}),
        (
            f"bubbleId:{comp}:{'a' * 36}",
            {
                "type": 2,
                "text": SECRET,
                "createdAt": ISO,
                "tokenCount": {"inputTokens": 40, "outputTokens": 4},
                "modelInfo": {"modelName": "gpt-5"},
            },
        ),
    ]
    conn.executemany(
        "INSERT INTO cursorDiskKV VALUES (?, ?)", [(k, json.dumps(v)) for k, v in rows]
    )
    conn.commit()
    feed(tailer, tmp_path, "state.vscdb", "cursor", None)
    feed(tailer, tmp_path, "state.vscdb", "cursor", None)
    conn.close()
    s = sessions(tailer)[comp]
    assert s["tokens"]["input"] == 40 and s["turns"] == 1 and s["surface"] == "ide"


def test_opencode_waits_for_a_reply_to_complete(tailer: Tailer, tmp_path: Path) -> None:
    db = tmp_path / "opencode.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE message (id TEXT, session_id TEXT, time_created INT, data TEXT)")
    conn.execute("CREATE TABLE part (id TEXT, data TEXT)")
    conn.execute("INSERT INTO part VALUES ('p', ?)", (SECRET,))
    ms = int(NOW * 1000)
    reply = {
        "role": "assistant",
        "modelID": "m",
        "time": {"created": ms},
        "tokens": {"input": 0, "output": 0},
    }
    conn.execute(
        "INSERT INTO message VALUES ('u', 'O1', ?, ?)",
        (ms, json.dumps({"role": "user", "time": {"created": ms}})),
    )
    conn.execute("INSERT INTO message VALUES ('r', 'O1', ?, ?)", (ms, json.dumps(reply)))
    conn.commit()
    feed(tailer, tmp_path, "opencode.db", "opencode", None)
    assert sessions(tailer)["O1"]["tokens"] is None
    reply["time"] = {"created": ms, "completed": ms + 5}
    reply["tokens"] = {"input": 7, "output": 3, "reasoning": 1, "cache": {"read": 2, "write": 1}}
    conn.execute("UPDATE message SET data = ? WHERE id = 'r'", (json.dumps(reply),))
    conn.commit()
    conn.close()
    feed(tailer, tmp_path, "opencode.db", "opencode", None)
    feed(tailer, tmp_path, "opencode.db", "opencode", None)
    assert sessions(tailer)["O1"]["tokens"] == dict(
        input=7, output=3, cache_read=2, cache_write=1, reasoning=1
    )


@pytest.mark.parametrize(
    ("tool", "rel"),
    [
        ("windsurf", "a1b2.pb"),
        ("lm-studio", "1732.conversation.json"),
        ("copilot-vscode", "abc/chatSessions/x.jsonl"),
        ("ollama", "server.log"),
        ("aider", "repo/.aider.chat.history.md"),
    ],
)
def test_activity_only_tools_count_changes_without_reading(
    tailer: Tailer, tmp_path: Path, tool: str, rel: str
) -> None:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SECRET)
    os.chmod(path, 0)  # unreadable: only stat() is allowed
    try:
        feed(tailer, tmp_path, rel, tool, None)
    finally:
        os.chmod(path, 0o644)
    (s,) = reports.sessions(tailer.store.conn)
    assert s["tool"] == tool and s["tokens"] is None and s["active_seconds"] == 0
    assert rel.split("/")[-1] not in json.dumps(s)


def test_claude_code_slash_commands_and_summaries_are_not_turns(
    tailer: Tailer, tmp_path: Path
) -> None:
    def user(content: object, **extra: object) -> dict[str, Any]:
        line = {
            "type": "user",
            "timestamp": ISO,
            "sessionId": "S1",
            "message": {"content": content},
        }
        return {**line, **extra}

    feed(
        tailer,
        tmp_path,
        "projects/p/S1.jsonl",
        "claude-code",
        jl(
            user(f"<command-name>/model</command-name>\n<command-args>{SECRET}</command-args>"),
            user(f"<local-command-stdout>{SECRET}</local-command-stdout>"),
            user(f"  <command-message>{SECRET}</command-message>"),
            user(f"summary {SECRET}", isCompactSummary=True),
            user(f"{SECRET} the one prompt typed"),
        ),
    )
    assert sessions(tailer)["S1"]["turns"] == 1


def test_copilot_cli_calls_show_live_and_a_resumed_shutdown_adds_only_the_rest(
    tailer: Tailer, tmp_path: Path
) -> None:
    rel = "session-state/C2/events.jsonl"

    def call(n: int, inp: int) -> dict[str, Any]:
        usage = {"model": "m", "inputTokens": inp, "outputTokens": 5, "apiCallId": f"msg_{n}"}
        return {
            "type": "session.usage_record",
            "id": f"r{n}",
            "timestamp": ISO,
            "data": {"usage": {**usage, "cacheReadTokens": 0, "cacheWriteTokens": 0}},
        }

    def shutdown(n: int, inp: int, out: int) -> dict[str, Any]:
        usage = {
            "inputTokens": inp,
            "outputTokens": out,
            "cacheReadTokens": 0,
            "cacheWriteTokens": 0,
        }
        return {
            "type": "session.shutdown",
            "id": f"s{n}",
            "timestamp": ISO,
            "data": {"modelMetrics": {"m": {"usage": usage}}},
        }

    feed(tailer, tmp_path, rel, "copilot-cli", jl(call(1, 100)))
    assert sessions(tailer)["C2"]["tokens"]["input"] == 100  # live, before any shutdown
    path = tmp_path / rel
    with path.open("a") as fh:
        # the first shutdown, a resume whose call has no record, a cumulative second shutdown
        fh.write(jl(shutdown(1, 100, 5), shutdown(2, 130, 12)))
    feed(tailer, tmp_path, rel, "copilot-cli", None)
    assert sessions(tailer)["C2"]["tokens"]["input"] == 130
    assert sessions(tailer)["C2"]["tokens"]["output"] == 12


def test_claude_code_a_reply_written_before_its_prompt_is_no_fork_copy(
    tailer: Tailer, tmp_path: Path
) -> None:
    # The interactive client may write a reply's line before the prompt's, dated after it.
    later = time.strftime("%Y-%m-%dT%H:%M:%S.500Z", time.gmtime(NOW))
    reply = {
        "type": "assistant",
        "timestamp": later,
        "sessionId": "S2",
        "requestId": "req_1",
        "message": {"id": "msg_1", "model": "m", "usage": {"input_tokens": 3, "output_tokens": 4}},
    }
    prompt = {"type": "user", "timestamp": ISO, "sessionId": "S2", "message": {"content": SECRET}}
    feed(tailer, tmp_path, "projects/p/S2.jsonl", "claude-code", jl(reply, prompt))
    s = sessions(tailer)["S2"]
    assert (s["turns"], s["tokens"]["input"], s["tokens"]["output"]) == (1, 3, 4)


def test_codex_surface_comes_from_the_originator_not_source(tailer: Tailer, tmp_path: Path) -> None:
    # Codex writes source "vscode" for a terminal run; only originator codex_vscode is the IDE.
    def meta(sid: str, originator: str) -> dict[str, Any]:
        payload = {"id": sid, "originator": originator, "source": "vscode", "cli_version": "1"}
        return {"timestamp": ISO, "type": "session_meta", "payload": payload}

    prompt = {"timestamp": ISO, "type": "event_msg", "payload": {"type": "user_message"}}
    for sid, originator in (("T", "codex_tui"), ("V", "codex_vscode")):
        rel = f"sessions/2026/12/02/rollout-2026-12-02T20-43-49-{sid}.jsonl"
        feed(tailer, tmp_path, rel, "codex", jl(meta(sid, originator), prompt))
    found = sessions(tailer)
    assert (found["T"]["surface"], found["V"]["surface"]) == ("cli", "ide-extension")
