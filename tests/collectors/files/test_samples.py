"""Acceptance: the real client transcripts give exactly their true totals, content-free."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from tests.collectors.files import corpus
from tests.collectors.files.helpers import env_for, run, scan_for


def test_samples_give_true_totals_and_nothing_of_their_content(
    tmp_path: Path, isolated_env: Path
) -> None:
    home = tmp_path / "home"
    corpus.layout(home)
    # A live "claude" process whose sessions/<pid>.json names a transcript's session: the
    # process and the transcript must make one session.
    proc = subprocess.Popen(["bash", "-c", "exec -a claude sleep 60"], env=env_for(home))
    try:
        linked = "a83accff-5f32-45cb-aafa-15761d1ae4b0"
        (home / ".claude" / "sessions" / f"{proc.pid}.json").write_text(
            json.dumps({"pid": proc.pid, "sessionId": linked, "name": "CANARY-title-1"})
        )
        time.sleep(0.2)
        first = run(home, "run", "--once")
        assert first.returncode == 0, first.stderr
        out = run(home, "sessions", "--json")
        assert out.returncode == 0, out.stderr
        sessions = corpus.load(out.stdout)
        assert corpus.totals(sessions) == corpus.TRUE_TOTALS
        assert {k: v for k, v in corpus.turns(sessions).items() if k in corpus.TRUE_TURNS} == (
            corpus.TRUE_TURNS
        )
        by_id = {s["tool_session_id"]: s for s in sessions if s["tool_session_id"]}
        assert by_id["4bd3503e-e3c4-424d-8bef-a86530d0a17e"]["models"] == {
            "claude-sonnet-4-5": dict(
                input=4343, output=536, cache_read=33950, cache_write=2734, reasoning=None
            )
        }
        assert list(by_id["01a2147b-2bb0-7200-9b78-c935eb09f7f5"]["models"]) == ["gpt-5-codex"]
        assert by_id[linked]["tool_version"] == "2.1.197"
        assert by_id["01a2147b-2bb0-7200-9b78-c935eb09f7f5"]["tool_version"] == "0.169.0"
        # The live process joined the transcript's session instead of making its own.
        joined = [s for s in sessions if proc.pid in s["pids"]]
        assert joined and all(s["tool_session_id"] == linked for s in joined)
        signals = {x for s in sessions if s["tool_session_id"] == linked for x in s["signals"]}
        assert {"process", "transcript"} <= signals

        # A second pass reads nothing twice.
        assert run(home, "run", "--once").returncode == 0
        again = corpus.load(run(home, "sessions", "--json").stdout)
        assert corpus.totals(again) == corpus.TRUE_TOTALS

        status = json.loads(run(home, "status", "--json").stdout)
        fc = status["file_collectors"]
        assert fc["files_by_tool"] == {"claude-code": 2, "codex": 2}
        assert fc["skipped"] == {} and status["parse_errors"] == {}
        assert set(fc["roots"]) == {str(home / ".claude"), str(home / ".codex")}
    finally:
        proc.kill()
        proc.wait()
    # Not one byte of the prompts or the session title anywhere under the data folder.
    assert scan_for(isolated_env) == []
