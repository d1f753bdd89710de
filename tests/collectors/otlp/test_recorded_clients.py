"""The real clients' own telemetry (tests/fixtures/otlp/<tool>/<version>/<scenario>/, recorded by
tests/realclients/otlp_record.py with the settings `aitally install` writes) replayed into the
real receiver beside their real transcripts: per session, aitally's totals equal the stand-in's
billed totals, calls no transcript records included; without telemetry they equal the
transcript-only figures; and no planted marker reaches any byte the agent writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from aitally.collectors.otlp import receiver as rx
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store
from tests.collectors.otlp.helpers import every_byte
from tests.conftest import aitally_cmd

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "otlp"
RECORDINGS = sorted(p.parent.parent for p in FIXTURES.glob("*/*/*/otlp/requests.json"))
MARKER = b"AITALLY-MARKER"
KINDS = ("input", "output", "cache_read", "cache_write", "reasoning")
# Tools whose telemetry adds the calls their transcripts miss; the others' telemetry is
# received and counted but restates their transcripts (collectors/otlp/allowlist.py).
MAPPED = ("claude-code", "gemini-cli", "codex")
# The recordings are dated; nothing about their age may drop them.
AGE_LIMITS = {"AITALLY_AGENT_BACKFILL_DAYS": "3650", "AITALLY_STORE_MAX_AGE_DAYS": "100000"}


def _totals(data: Path) -> dict[str, dict[str, int]]:
    """Per tool session id, the token totals `aitally sessions --json` shows."""
    done = subprocess.run(
        aitally_cmd("sessions", "--json", "--since", "3650d"),
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | AGE_LIMITS,
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, dict[str, int]] = {}
    for s in json.loads(done.stdout)["sessions"]:
        if s["tool_session_id"] and s["tokens"]:
            mine = out.setdefault(s["tool_session_id"], dict.fromkeys(KINDS, 0))
            for k in KINDS:
                mine[k] += s["tokens"][k] or 0
    return out


def _replay(folder: Path, data: Path, home: Path) -> None:
    """Every recorded request, as the client sent it, into a real receiver on the store, which
    finds Codex's rollouts in `home` as the agent would."""
    store = Store(data / "aitally.db")
    collector = rx.OtlpCollector(store, Sessionizer(store), 0, data, [home / ".codex"])
    collector.start()
    assert collector.receiver is not None
    secret = collector.receiver.token
    import http.client

    try:
        for req in json.loads((folder / "otlp" / "requests.json").read_text()):
            headers = {"x-aitally-token": secret}
            headers["Content-Type"] = req["content_type"]
            if req["content_encoding"]:
                headers["Content-Encoding"] = req["content_encoding"]
            conn = http.client.HTTPConnection("127.0.0.1", collector.receiver.port, timeout=10)
            path = req["path"].replace("/k/<token>", f"/k/{secret}")
            conn.request("POST", path, (folder / "otlp" / req["file"]).read_bytes(), headers)
            assert conn.getresponse().status == 200, req
            conn.close()
    finally:
        collector.stop()
        store.close()


@pytest.mark.parametrize("folder", RECORDINGS, ids=lambda p: "/".join(p.parts[-3:]))
def test_recorded_telemetry_completes_the_transcripts(
    folder: Path, isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    truth: dict[str, Any] = json.loads((folder / "truth.json").read_text())
    home = tmp_path / "home"
    shutil.copytree(folder / "home", home, dirs_exist_ok=True)
    monkeypatch.setenv("HOME", str(home))
    done = subprocess.run(
        aitally_cmd("run", "--once"),
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ | AGE_LIMITS,
    )
    assert done.returncode == 0, done.stderr
    transcript_only = _totals(isolated_env)
    sessions = truth["sessions"]
    for sid, s in sessions.items():
        # What telemetry adds is measured from the transcript's own figures, where the
        # harness knows them (the transcript adapters' own accuracy is their tests' concern).
        if s["recorded"] is not None and truth["tool"] in MAPPED:
            assert transcript_only[sid] == s["recorded"], sid

    _replay(folder, isolated_env, home)
    with_telemetry = _totals(isolated_env)
    for sid, s in sessions.items():
        if truth["tool"] in MAPPED:
            assert with_telemetry[sid] == s["billed"], sid
        else:
            assert with_telemetry[sid] == transcript_only[sid], sid  # never doubled
    assert MARKER in b"".join(p.read_bytes() for p in (folder / "otlp").iterdir())
    assert MARKER not in every_byte(isolated_env)  # the store, its WAL, the logs
    preview = subprocess.run(  # exactly the records an upload would send
        aitally_cmd("preview", "--json"),
        capture_output=True,
        timeout=60,
        env=os.environ | AGE_LIMITS,
    )
    assert preview.returncode == 0 and b"records" in preview.stdout
    assert MARKER not in preview.stdout


def test_gemini_utility_calls_are_added_once_and_main_calls_never(
    receiver: rx.OtlpCollector, isolated_env: Path
) -> None:
    """Gemini CLI's `utility_*` calls (router, compressor, ...) are in no chat file: counted
    from telemetry, once even when a batch comes twice; its `main` calls are the chat's own."""
    from tests.collectors.otlp.helpers import post

    folder = FIXTURES / "gemini-cli" / "0.61.0" / "tool" / "otlp"
    body = json.loads((folder / "001-logs.json").read_text())
    responses = [
        r
        for rl in body["resourceLogs"]
        for sl in rl["scopeLogs"]
        for r in sl["logRecords"]
        if {"key": "event.name", "value": {"stringValue": "gemini_cli.api_response"}}
        in r["attributes"]
    ]
    role = next(a for a in responses[0]["attributes"] if a["key"] == "role")
    role["value"] = {"stringValue": "utility_router"}  # as the router's call reports itself
    assert receiver.receiver is not None
    for _ in range(2):
        status = post(
            receiver.receiver.port,
            "/gemini-cli/v1/logs",
            json.dumps(body).encode(),
            token=receiver.receiver.token,
        )[0]
        assert status == 200
    totals = _totals(isolated_env)
    assert list(totals.values()) == [
        {"input": 2013 - 1564, "output": 43, "cache_read": 1564, "cache_write": 0, "reasoning": 29}
    ]
    store = Store(isolated_env / "aitally.db")
    try:
        assert store.counters("otlp_dropped")["in_transcript"] == 2 * (len(responses) - 1)
    finally:
        store.close()
