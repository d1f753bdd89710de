"""The whole path over real processes: a tool runs, its transcript grows, the segment closes,
the record is uploaded and the central report shows it — at each privacy level, checking
what the central side can and cannot see."""

from __future__ import annotations

import datetime as dt
import getpass
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.whole_path import (
    CLAUDE_TOTALS,
    Agent,
    FakeClaude,
    enroll,
    sample_lines,
    write_config,
)
from tests.ingest.conftest import Server
from tests.waiting import wait_for

CANARY = b"CANARY-"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(f"sqlite:///{tmp_path / 'central.db'}", tmp_path, "--min-group-size", "1")
    yield srv
    srv.stop()


def central_rows(tmp_path: Path) -> list[sqlite3.Row]:
    conn = sqlite3.connect(tmp_path / "central.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute("SELECT * FROM records ORDER BY started_at").fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("level", ["identified", "pseudonymous", "anonymous", "aggregate"])
def test_tool_session_reaches_the_central_report(
    level: str, server: Server, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    write_config(tmp_path / "aitally-config.toml", server, level)
    enroll()
    # At `aggregate` only completed days leave the machine: the session ran yesterday.
    shift = -1 if level == "aggregate" else 0
    lines = sample_lines(shift)
    agent = Agent()
    tool = FakeClaude(home)
    try:
        tool.append(lines[: len(lines) // 2])  # the transcript grows while the tool runs
        tool.append(lines[len(lines) // 2 :])
        tool.exit()
        rows = wait_for(
            lambda: [
                r for r in central_rows(tmp_path) if r["tool"] == "claude-code" and r["tok_input"]
            ],
            timeout=60,
        )
    finally:
        agent.stop()
    assert isinstance(rows, list)
    (row,) = rows
    got = {k: row[f"tok_{k}"] for k in CLAUDE_TOTALS}
    assert got == CLAUDE_TOTALS
    user, device = getpass.getuser(), socket.gethostname()
    if level == "identified":
        assert (row["user_id"], row["device"]) == (user, device)
    elif level == "pseudonymous":
        assert row["user_id"].startswith("hmac:k1:") and row["device"].startswith("hmac:k1:")
        assert user not in row["user_id"] and device not in row["device"]
    else:
        assert row["user_id"] is None and row["device"] is None
        start = dt.datetime.fromtimestamp(row["started_at"], dt.UTC)
        assert (start.hour, start.minute, start.second) == (0, 0, 0), "day-rounded times"
    assert row["kind"] == ("daily_total" if level == "aggregate" else "segment")
    assert row["project"] is None or row["project"].startswith("hmac:")
    # The central report shows it, and nothing central ever holds content.
    report = server.admin(
        "GET", "/v1/reports/usage", params={"granularity": "month", "since": "2026-10-01"}
    ).json()
    tools = {r["tool"] for r in report["rows"]}
    assert "claude-code" in tools, report
    for f in tmp_path.glob("central.db*"):
        data = f.read_bytes()
        assert CANARY not in data and b"payments-api" not in data, f.name
