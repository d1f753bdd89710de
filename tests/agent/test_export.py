"""`aitally export`: the engineer's own sessions as CSV or JSON, from a real store."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path

from tests.agent.test_stats_data import CANARY, build_store
from tests.conftest import aitally_cmd


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        aitally_cmd("export", *args),
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
    )


def test_csv_has_one_row_per_segment_oldest_first() -> None:
    built = build_store()
    done = _run("--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == built["segments"]
    assert rows[0]["started_at"] <= rows[-1]["started_at"]
    codex = [r for r in rows if r["tool"] == "codex"]
    assert {r["models"] for r in codex} == {"gpt-5-codex"}
    assert all(r["tokens_cache_read"] == "" and int(r["tokens_reasoning"]) > 0 for r in codex)
    # A project label that starts like a formula cannot run in a spreadsheet.
    assert {r["project"] for r in codex} == {"'=web-shop"}
    assert CANARY not in done.stdout


def test_json_matches_the_sessions_contract_and_since_filters() -> None:
    built = build_store()
    data = json.loads(_run("--format", "json").stdout)
    sessions = json.loads(
        subprocess.run(
            aitally_cmd("sessions", "--json"), capture_output=True, text=True, check=True
        ).stdout
    )["sessions"]
    assert data["sessions"] == list(reversed(sessions))
    assert len(data["sessions"]) == built["segments"]
    recent = json.loads(_run("--format", "json", "--since", "today").stdout)["sessions"]
    assert 0 < len(recent) < built["segments"]
    only = json.loads(_run("--format", "json", "--tool", "gemini-cli").stdout)["sessions"]
    assert [s["tool"] for s in only] == ["gemini-cli"]


def test_output_file_and_bad_usage(tmp_path: Path) -> None:
    build_store()
    target = tmp_path / "mine.csv"
    done = _run("--format", "csv", "-o", str(target))
    assert done.returncode == 0 and done.stdout == ""
    assert "wrote" in done.stderr and target.read_text().startswith("id,tool,")
    for args in (("--since", "soon"), ("--format", "xml"), ("-o", str(tmp_path / "no" / "x.csv"))):
        bad = _run(*args)
        assert bad.returncode == 2, args
        assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_empty_without_a_store() -> None:
    done = _run("--format", "json")
    assert done.returncode == 0
    assert json.loads(done.stdout) == {"sessions": []}
