"""Cursor's outcome counts through the real agent: its watcher finds the hand-made databases
(tests/fixtures/cursor) where Cursor keeps them, the counts are shown, previewed under every
privacy level and stored by the real ingest; no content marker of the databases (credentials,
prompts, code, file and branch names, commit messages, summaries) appears anywhere the agent
(store, logs, CLI views, dashboard pages, upload) or the ingest writes."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from aitally.core.wire import PRIVACY_LEVELS
from aitally.uploader import credentials
from tests.agent.test_dashboard import start_dashboard, stop
from tests.collectors.files.outcomes.test_cursor import build, summed, truth
from tests.conftest import aitally_cmd
from tests.uploader.helpers import write_config
from tests.uploader.ingest_proc import ingest
from tests.uploader.test_end_to_end import child_env

MARKER = b"CANARY"
INGEST_SUMS = (
    "SELECT SUM(out_lines_suggested), SUM(out_lines_accepted), SUM(out_commits),"
    " SUM(out_commits_with_ai), SUM(out_lines_added), SUM(out_lines_removed)"
    " FROM records WHERE tool = 'cursor'"
)


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[bytes]:
    out = subprocess.run(aitally_cmd(*args), env=env, capture_output=True, timeout=120)
    assert out.returncode == 0, (args, out.stderr.decode()[-2000:])
    return out


def _sum(outcomes: list[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for o in outcomes:
        for k, n in o.items():
            total[k] = total.get(k, 0) + n
    return total


def test_cursor_outcomes_are_shown_sent_and_stored_and_nothing_else(
    tmp_path: Path, isolated_env: Path
) -> None:
    home = tmp_path / "home"
    dbs = [
        build(home / ".config/Cursor/User/globalStorage/state.vscdb", "state.vscdb.sql"),
        build(home / ".cursor/ai-tracking/ai-code-tracking.db", "ai-code-tracking.db.sql"),
    ]
    assert sum(p.read_bytes().count(MARKER) for p in dbs) > 20  # not vacuous
    env = child_env(home)
    write_config("")
    written: list[bytes] = []
    for args in (("run", "--once"), ("run", "--once")):  # read twice: counted once
        once = _run(env, *args)
        written += [once.stdout, once.stderr]
    views = {}
    for view in (("sessions",), ("sessions", "--json"), ("stats", "--by", "tool"), ("stats",)):
        out = _run(env, *view)
        views[view] = out.stdout
        written += [out.stdout, out.stderr]
    sessions = json.loads(views[("sessions", "--json")])["sessions"]
    cursor = [s for s in sessions if s["tool"] == "cursor"]
    got = summed(cursor)
    # Whichever database the catch-up read first: the commits join the chat in use at
    # their time, or their day's session.
    assert got in (truth(), truth(chat_read_first=False))
    assert b"75/180 lines kept" in views[("sessions",)] and b"ai-commits" in views[("stats",)]
    board = start_dashboard()  # the same store: the dashboard shows them too
    try:
        pages = [board.text(board.base), board.text(board.base + "sessions")]
    finally:
        assert stop(board) == 0
    made = pages[0].split("What it produced this month, per tool", 1)[1]
    assert "<td>cursor</td>" in made and "75/180 lines kept" in pages[1]
    written += [page.encode() for page in pages]

    closed = [s["outcomes"] for s in cursor if s["outcomes"] and not s["open"]]
    for level in PRIVACY_LEVELS:
        write_config(f'[privacy]\nlevel = "{level}"\n')
        out = _run(env, "preview", "--json")
        written += [out.stdout, out.stderr]
        records: list[dict[str, Any]] = json.loads(out.stdout)["records"]
        sent = [r["outcomes"] for r in records if r["tool"] == "cursor" and "outcomes" in r]
        if level == "aggregate":  # completed days only, summed: yesterday's counts at least
            assert _sum(sent)["lines_suggested"] >= 180 and _sum(sent)["lines_accepted"] >= 75
        else:
            key = json.dumps
            assert sorted(map(key, sent)) == sorted(map(key, closed)), level

    with ingest(tmp_path) as server:
        credentials.set_token(server.enroll())
        write_config(f'[upload]\nendpoint = "{server.url}"\n')
        sent_run = _run(env, "upload")
        written += [sent_run.stdout, sent_run.stderr, server.raw_bytes()]
        with sqlite3.connect(server.db) as conn:
            stored = conn.execute(INGEST_SUMS).fetchone()
        conn.close()
    total = _sum(closed)
    kinds = ("lines_suggested", "lines_accepted", "commits", "commits_with_ai")
    assert stored == (*(total.get(k) for k in kinds), 43, 7)

    files = [p for p in isolated_env.rglob("*") if p.is_file()]
    assert "aitally.db" in {p.name for p in files}
    written += [p.read_bytes() for p in files]
    assert [i for i, blob in enumerate(written) if MARKER in blob] == []
