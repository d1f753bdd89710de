"""Outcomes are counts only: markers planted in the patches, commands, file paths, commit
messages and tool outputs of the outcome fixtures appear nowhere the agent writes (store files
with their WAL, logs, CLI output, the upload body, the ingest's database, the OTLP body), while
the counts themselves arrive everywhere."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

from aitally.uploader import credentials
from tests.conftest import FIXTURES, aitally_cmd
from tests.uploader.helpers import receiver, write_config
from tests.uploader.ingest_proc import ingest
from tests.uploader.test_end_to_end import child_env

OUTCOMES = FIXTURES / "outcomes"
TRUTH: dict[str, dict[str, dict[str, int]]] = json.loads((OUTCOMES / "truth.json").read_text())
HOMES = {"claude-code": ".claude", "codex": ".codex", "gemini-cli": ".gemini"}
MARKER = b"CANARY"
VIEWS = (
    ("sessions",),
    ("sessions", "--json"),
    ("stats",),
    ("stats", "--json"),
    ("stats", "--by", "tool", "--since", "3650d"),
    ("export", "--format", "csv"),
    ("preview",),
    ("preview", "--json"),
)


def test_outcome_markers_appear_nowhere_the_agent_writes(tmp_path: Path, isolated_env: Path):
    home = tmp_path / "home"
    for tool, folder in HOMES.items():
        shutil.copytree(OUTCOMES / tool, home / folder, dirs_exist_ok=True)
    planted = sum(p.read_bytes().count(MARKER) for p in home.rglob("*.jsonl"))
    assert planted > 50  # not vacuous: every kind of content carries a marker
    env = child_env(home)
    write_config("[agent]\nbackfill_days = 3650\n")
    once = subprocess.run(aitally_cmd("run", "--once"), env=env, capture_output=True, timeout=120)
    assert once.returncode == 0, once.stderr.decode()[-2000:]
    written = [once.stdout, once.stderr]
    shown: dict[tuple[str, ...], bytes] = {}
    for view in VIEWS:
        out = subprocess.run(aitally_cmd(*view), env=env, capture_output=True, timeout=60)
        assert out.returncode == 0, (view, out.stderr.decode()[-2000:])
        shown[view] = out.stdout
        written += [out.stdout, out.stderr]
    # The counts are the fixtures' truth in the local views and in the next upload.
    sessions = json.loads(shown[("sessions", "--json")])["sessions"]
    got = {(s["tool"], s["tool_session_id"]): s["outcomes"] for s in sessions if s["outcomes"]}
    want = {(t, sid): o for t, by_id in TRUTH.items() for sid, o in by_id.items()}
    assert got == want
    # (Other records may come from tool processes that happen to run on this machine.)
    preview = [r for r in json.loads(shown[("preview", "--json")])["records"] if "outcomes" in r]
    assert sorted(json.dumps(r["outcomes"], sort_keys=True) for r in preview) == sorted(
        json.dumps(o, sort_keys=True) for o in want.values()
    )
    csv_rows = list(csv.DictReader(io.StringIO(shown[("export", "--format", "csv")].decode())))
    exported = {r["tool_session_id"]: r for r in csv_rows}
    claude = want[("claude-code", next(iter(TRUTH["claude-code"])))]
    row = exported[next(iter(TRUTH["claude-code"]))]
    assert {k: int(row[f"outcomes_{k}"]) for k in claude} == claude
    assert row["outcomes_lines_suggested"] == ""  # not recorded: empty, never 0
    assert b"What it produced" in shown[("stats", "--by", "tool", "--since", "3650d")]
    assert b"edits kept" in shown[("sessions",)] and b"edits kept" in shown[("preview",)]

    with ingest(tmp_path) as server, receiver() as collector:
        collector.path = "/v1/logs"
        collector.otlp = True
        credentials.set_token(server.enroll())
        write_config(
            "[agent]\nbackfill_days = 3650\n"
            f'[upload]\nendpoint = "{server.url}"\n'
            f'otlp_endpoint = "{collector.url}/v1/logs"\n'
        )
        sent = subprocess.run(aitally_cmd("upload"), env=env, capture_output=True, timeout=120)
        assert sent.returncode == 0, sent.stderr.decode()[-2000:]
        written += [sent.stdout, sent.stderr, server.raw_bytes(), *collector.bodies]
        assert {r["record_id"] for r in preview} <= set(server.record_ids())
        otlp_body = b"".join(collector.bodies)
    assert b"aitally.outcomes.edits_rejected" in otlp_body
    files = [p for p in isolated_env.rglob("*") if p.is_file()]
    # The WAL is checkpointed into the store on close: its bytes (free pages too) are scanned.
    assert "aitally.db" in {p.name for p in files}
    written += [p.read_bytes() for p in files]
    leaks = [i for i, blob in enumerate(written) if MARKER in blob]
    assert leaks == []
