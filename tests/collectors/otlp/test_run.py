"""The receiver inside a real `aitally run`: Claude Code's recorded export and its transcript of
the same `claude -p "hi"` give each billed call once, the title call only from telemetry; Codex's
thread-title call lands in the thread whose rollout is in the agent's Codex home."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from aitally.collectors.otlp.token import FILE_NAME
from aitally.core.store import Store
from tests.collectors.otlp.helpers import (
    CANARY,
    SESSION,
    THREAD_A,
    TITLE,
    TITLE_TOKENS,
    codex_call,
    codex_logs,
    codex_prompt,
    every_byte,
    post,
    protobuf_logs,
    recorded_logs,
    recorded_transcript,
)
from tests.conftest import aitally_cmd
from tests.waiting import wait_for


def _kv_port(data: Path) -> int | None:
    if not (data / "aitally.db").exists():
        return None
    store = Store(data / "aitally.db")
    try:
        raw = store.kv_get("otlp_receiver")
    finally:
        store.close()
    return json.loads(raw)["port"] if raw else None


def _start_agent(
    data: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[subprocess.Popen[bytes], int, str]:
    """A real `aitally run` with its receiver on a free port: the process, port and token."""
    monkeypatch.setenv("AITALLY_OTLP_RECEIVER_ENABLED", "true")
    monkeypatch.setenv("AITALLY_OTLP_RECEIVER_PORT", "0")
    agent = subprocess.Popen(aitally_cmd("run"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        port: Any = wait_for(lambda: agent.poll() is None and _kv_port(data))
    except BaseException:
        agent.kill()
        agent.communicate(timeout=30)
        raise
    return agent, int(port), (data / FILE_NAME).read_text().strip()


def _session_tokens(data: Path) -> tuple[int, int, set[str]]:
    store = Store(data / "aitally.db")
    try:
        rows = store.conn.execute(
            "SELECT g.tok_input, g.tok_output, g.signals FROM segments g "
            "JOIN sessions s ON s.id = g.session_id WHERE s.tool_session_id = ?",
            (SESSION,),
        ).fetchall()
    finally:
        store.close()
    signals = {x for r in rows for x in r[2].split(",") if x}
    return sum(r[0] or 0 for r in rows), sum(r[1] or 0 for r in rows), signals


def test_run_with_receiver(tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch):
    claude = tmp_path / "claude"
    project = claude / "projects" / "-tmp-cc-proj"
    project.mkdir(parents=True)
    now = time.time()
    (project / f"{SESSION}.jsonl").write_text(recorded_transcript(now))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(claude))
    monkeypatch.setenv("AITALLY_AGENT_SCAN_INTERVAL", "0.2")
    agent, port, token = _start_agent(isolated_env, monkeypatch)
    try:
        # the transcript's reply (req_standin0002, 13 in / 9 out) is read first
        wait_for(lambda: _session_tokens(isolated_env)[0] >= 13)
        assert post(port, "/v1/logs", recorded_logs(now), token=token)[0] == 200
        assert (
            post(
                port,
                "/v1/logs",
                protobuf_logs("req_canary"),
                token=token,
                content_type="application/x-protobuf",
            )[0]
            == 200
        )
        assert post(port, "/v1/logs", b"garbage", token=token)[0] == 400
        assert post(port, "/v1/logs", b"{}", token=None)[0] == 401
        # title call 12 + reply 13 (once, though in both) + the protobuf call 100
        tokens: Any = wait_for(lambda: (t := _session_tokens(isolated_env))[0] == 125 and t)
        assert tokens[1] == 9 + 9 + 7
        assert {"transcript", "otlp"} <= tokens[2]
    finally:
        agent.terminate()
        agent.communicate(timeout=30)
    assert agent.returncode == 0
    store = Store(isolated_env / "aitally.db")
    try:
        assert store.counters("usage_reconciled") == {"claude-code/otlp": 1}
        assert store.counters("otlp_rejected") == {"malformed": 1, "unauthorized": 1}
    finally:
        store.close()
    assert CANARY.encode() not in every_byte(isolated_env)
    assert b"CANARY_PROMPT_7731" not in every_byte(isolated_env)  # the recorded prompt


def _codex_tokens(data: Path) -> tuple[int, ...]:
    """Fresh input, output, cache read and reasoning counted in Codex thread A."""
    store = Store(data / "aitally.db")
    try:
        row = store.conn.execute(
            "SELECT SUM(g.tok_input), SUM(g.tok_output), SUM(g.tok_cache_read), "
            "SUM(g.tok_reasoning) FROM segments g JOIN sessions s ON s.id = g.session_id "
            "WHERE s.tool = 'codex' AND s.session_key = ?",
            (THREAD_A,),
        ).fetchone()
    finally:
        store.close()
    return tuple(v or 0 for v in row)


def test_run_finds_codex_threads_in_its_codex_home(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    day = tmp_path / "codex" / "sessions" / "2026" / "12" / "02"
    day.mkdir(parents=True)
    (day / f"rollout-2026-12-02T20-38-21-{THREAD_A}.jsonl").write_text("")
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex"))
    agent, port, token = _start_agent(isolated_env, monkeypatch)
    try:
        t = time.time() - 5
        title = codex_logs(codex_prompt(THREAD_A, t), codex_prompt(TITLE, t + 0.3))
        assert post(port, "/codex/v1/logs", title, token=token)[0] == 200
        call = codex_logs(codex_call(TITLE, t + 0.6))
        assert post(port, "/codex/v1/logs", call, token=token)[0] == 200
        wait_for(lambda: _codex_tokens(isolated_env) == TITLE_TOKENS)
    finally:
        agent.terminate()
        agent.communicate(timeout=30)
    assert agent.returncode == 0
