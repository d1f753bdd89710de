"""Outcomes are counts only: markers planted in the patches, commands, file paths, commit
messages and tool outputs of the outcome fixtures (hand-made, and the real clients' recorded
outcome scenarios) appear nowhere the agent writes (store files with their WAL, logs, CLI output,
the upload body, the ingest's database, the OTLP body), while the counts themselves arrive
everywhere."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from aitally.uploader import credentials
from tests.conftest import FIXTURES, aitally_cmd
from tests.uploader.helpers import receiver, write_config
from tests.uploader.ingest_proc import ingest
from tests.uploader.test_end_to_end import child_env

OUTCOMES = FIXTURES / "outcomes"
RECORDED = FIXTURES / "realclients"
TRUTH: dict[str, dict[str, dict[str, int]]] = json.loads((OUTCOMES / "truth.json").read_text())
HOMES = {"claude-code": ".claude", "codex": ".codex", "gemini-cli": ".gemini"}
MARKER = b"CANARY"
# The recorded outcome scenarios (tests/realclients/README.md) and their planted markers.
RECORDED_SCENARIOS = ("outcomes", "modified")
RECORDED_MARKER = b"AITALLY-MARKER"
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


@dataclass
class Written:
    """Everything the agent (and the ingest it uploads to) wrote from one home's files."""

    shown: dict[tuple[str, ...], bytes] = field(default_factory=dict)
    blobs: list[bytes] = field(default_factory=list)
    preview: list[dict[str, object]] = field(default_factory=list)
    otlp_body: bytes = b""

    def sessions(self) -> dict[tuple[str, str], dict[str, int]]:
        """Outcomes per (tool, tool session id), as `aitally sessions --json` shows them."""
        rows = json.loads(self.shown[("sessions", "--json")])["sessions"]
        return {(s["tool"], s["tool_session_id"]): s["outcomes"] for s in rows if s["outcomes"]}


def write_everything(tmp_path: Path, isolated_env: Path, home: Path) -> Written:
    """Runs the agent once on `home`, every local view, then an upload to a real ingest and an
    OTLP receiver; returns what each wrote, the data folder's files (store, WAL, logs) last."""
    env = child_env(home)
    write_config("[agent]\nbackfill_days = 3650\n")
    once = subprocess.run(aitally_cmd("run", "--once"), env=env, capture_output=True, timeout=120)
    assert once.returncode == 0, once.stderr.decode()[-2000:]
    out = Written(blobs=[once.stdout, once.stderr])
    for view in VIEWS:
        done = subprocess.run(aitally_cmd(*view), env=env, capture_output=True, timeout=60)
        assert done.returncode == 0, (view, done.stderr.decode()[-2000:])
        out.shown[view] = done.stdout
        out.blobs += [done.stdout, done.stderr]
    # (Other records may come from tool processes that happen to run on this machine.)
    records = json.loads(out.shown[("preview", "--json")])["records"]
    out.preview = [r for r in records if "outcomes" in r]
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
        out.blobs += [sent.stdout, sent.stderr, server.raw_bytes(), *collector.bodies]
        assert {r["record_id"] for r in out.preview} <= set(server.record_ids())
        out.otlp_body = b"".join(collector.bodies)
    files = [p for p in isolated_env.rglob("*") if p.is_file()]
    # The WAL is checkpointed into the store on close: its bytes (free pages too) are scanned.
    assert "aitally.db" in {p.name for p in files}
    out.blobs += [p.read_bytes() for p in files]
    return out


def _same_records(preview: list[dict[str, object]], want: list[dict[str, int]]) -> bool:
    def canon(items: list[object]) -> list[str]:
        return sorted(json.dumps(o, sort_keys=True) for o in items)

    return canon([r["outcomes"] for r in preview]) == canon(list(want))


def test_outcome_markers_appear_nowhere_the_agent_writes(tmp_path: Path, isolated_env: Path):
    home = tmp_path / "home"
    for tool, folder in HOMES.items():
        shutil.copytree(OUTCOMES / tool, home / folder, dirs_exist_ok=True)
    planted = sum(p.read_bytes().count(MARKER) for p in home.rglob("*.jsonl"))
    assert planted > 50  # not vacuous: every kind of content carries a marker
    written = write_everything(tmp_path, isolated_env, home)
    shown = written.shown
    # The counts are the fixtures' truth in the local views and in the next upload.
    want = {(t, sid): o for t, by_id in TRUTH.items() for sid, o in by_id.items()}
    assert written.sessions() == want
    assert _same_records(written.preview, list(want.values()))
    csv_rows = list(csv.DictReader(io.StringIO(shown[("export", "--format", "csv")].decode())))
    exported = {r["tool_session_id"]: r for r in csv_rows}
    claude = want[("claude-code", next(iter(TRUTH["claude-code"])))]
    row = exported[next(iter(TRUTH["claude-code"]))]
    assert {k: int(row[f"outcomes_{k}"]) for k in claude} == claude
    assert row["outcomes_lines_suggested"] == ""  # not recorded: empty, never 0
    assert b"What it produced" in shown[("stats", "--by", "tool", "--since", "3650d")]
    assert b"edits kept" in shown[("sessions",)] and b"edits kept" in shown[("preview",)]
    assert b"aitally.outcomes.edits_rejected" in written.otlp_body
    leaks = [i for i, blob in enumerate(written.blobs) if MARKER in blob]
    assert leaks == []


def test_recorded_outcome_scenarios_leave_no_marker_anywhere(tmp_path: Path, isolated_env: Path):
    """The real clients' recordings: every client's accepted and rejected edits, failing
    command and AI commit, and Gemini CLI's edit the person modified."""
    home = tmp_path / "home"
    want: dict[tuple[str, str], dict[str, int]] = {}
    for folder in sorted(p for name in RECORDED_SCENARIOS for p in RECORDED.glob(f"*/*/{name}")):
        truth = json.loads((folder / "truth.json").read_text())
        for data in (folder / "home").iterdir():
            # Each scenario's files keep their own names (session ids) in the one home.
            shutil.copytree(data, home / data.name, dirs_exist_ok=True)
        ((sid, _),) = truth["sessions"].items()
        want[(truth["tool"], sid)] = {k: n for k, n in truth["outcomes"].items() if n}
    assert {tool for tool, _ in want} == {*HOMES, "copilot-cli"} and len(want) == 5
    planted = sum(p.read_bytes().count(RECORDED_MARKER) for p in home.rglob("*") if p.is_file())
    assert planted > 50
    written = write_everything(tmp_path, isolated_env, home)
    assert written.sessions() == want
    assert _same_records(written.preview, list(want.values()))
    assert b"aitally.outcomes.edits_modified" in written.otlp_body
    leaks = [i for i, blob in enumerate(written.blobs) if RECORDED_MARKER in blob]
    assert leaks == []
