"""Soak and chaos: many tools and growing transcripts while the ingest service restarts and hangs
and the agent is killed at random; afterwards central figures equal local figures exactly."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import sqlite3
import threading
import time
import uuid
from pathlib import Path

import psutil
import pytest

from tests.e2e.whole_path import Agent, cli, enroll, write_config
from tests.ingest.conftest import Server
from tests.waiting import wait_for

SOAK_SECONDS = float(os.environ.get("AITALLY_SOAK_SECONDS", "90"))
DRAIN_SECONDS = 180.0
KINDS = ("input", "output", "cache_read", "cache_write")
FIELDS = {
    "input": "input_tokens",
    "output": "output_tokens",
    "cache_read": "cache_read_input_tokens",
    "cache_write": "cache_creation_input_tokens",
}


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Workload:
    """Claude-Code-shaped transcripts growing in several sessions; knows the true totals."""

    def __init__(self, home: Path, sessions: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.dir = home / ".claude" / "projects" / "-home-dev-src-soak"
        self.dir.mkdir(parents=True)
        self.sessions = [str(uuid.UUID(int=self.rng.getrandbits(128))) for _ in range(sessions)]
        self.truth = dict.fromkeys(KINDS, 0)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _line(self, sid: str, obj: dict[str, object]) -> str:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return (
            json.dumps(
                {
                    **obj,
                    "sessionId": sid,
                    "timestamp": now,
                    "version": "2.1.197",
                    "uuid": str(uuid.uuid4()),
                }
            )
            + "\n"
        )

    def _run(self) -> None:
        while not self.stop.wait(self.rng.uniform(0.01, 0.15)):
            sid = self.rng.choice(self.sessions)
            usage = {k: self.rng.randint(0, 5000) for k in KINDS}
            msg, req = f"msg_{uuid.uuid4().hex}", f"req_{uuid.uuid4().hex}"
            lines = [
                self._line(
                    sid,
                    {"type": "user", "message": {"role": "user", "content": "CANARY-soak prompt"}},
                )
            ]
            # One reply written as two lines repeating the same usage, as Claude Code does.
            for _ in range(2):
                lines.append(
                    self._line(
                        sid,
                        {
                            "type": "assistant",
                            "requestId": req,
                            "message": {
                                "id": msg,
                                "role": "assistant",
                                "model": "claude-sonnet-4-5",
                                "content": [{"type": "text", "text": "CANARY-soak reply"}],
                                "usage": {FIELDS[k]: v for k, v in usage.items()},
                            },
                        },
                    )
                )
            with (self.dir / f"{sid}.jsonl").open("a") as fh:
                fh.writelines(lines)
            for k in KINDS:
                self.truth[k] += usage[k]


@pytest.fixture
def port() -> int:
    return _free_port()


def central_totals(db: Path) -> tuple[int, dict[str, int]]:
    conn = sqlite3.connect(db)
    try:
        row = conn.execute(
            "SELECT COUNT(*), "
            + ", ".join(f"COALESCE(SUM(tok_{k}), 0)" for k in KINDS)
            + " FROM records WHERE tool = 'claude-code'"
        ).fetchone()
    finally:
        conn.close()
    return int(row[0]), dict(zip(KINDS, map(int, row[1:]), strict=True))


def local_totals() -> tuple[int, dict[str, int], int]:
    res = cli("sessions", "--json", "--tool", "claude-code")
    sessions = json.loads(res.stdout)["sessions"]
    closed = [s for s in sessions if not s["open"]]
    sums = {k: sum((s["tokens"] or {}).get(k) or 0 for s in closed) for k in KINDS}
    return len(closed), sums, len(sessions) - len(closed)


@pytest.mark.slow
def test_soak_and_chaos_central_equals_local(tmp_path: Path, port: int) -> None:
    rng = random.Random(20261125)
    db = tmp_path / "central.db"

    def start_server() -> Server:
        return Server(f"sqlite:///{db}", tmp_path, "--port", str(port), "--min-group-size", "1")

    server = start_server()
    write_config(
        tmp_path / "aitally-config.toml",
        server,
        "pseudonymous",
        idle_timeout=10,
        scan_interval=0.5,
        read_timeout=3,
        # The default 900 s ceiling could leave the last retry minutes away after a run of
        # failures; what the soak proves (central equals local) does not depend on it.
        backoff_max=10,
    )
    enroll()
    work = Workload(Path(os.environ["HOME"]), sessions=8, seed=7)
    agent = Agent()
    kills = restarts = hangs = 0
    work.thread.start()
    start = time.monotonic()
    # First half: the agent is killed at random. Second half: one agent lives on under the
    # same load and server chaos, and its memory is sampled at both ends.
    half = start + SOAK_SECONDS / 2
    rss: list[int] = []
    try:
        while (now := time.monotonic()) < start + SOAK_SECONDS:
            time.sleep(rng.uniform(1.0, 4.0))
            roll = rng.random()
            if now < half and roll < 0.4:
                agent.kill()
                kills += 1
                agent = Agent()
            elif roll < 0.6:
                server.stop()
                time.sleep(rng.uniform(0.5, 3.0))
                server = start_server()
                restarts += 1
            elif roll < 0.8:
                server.proc.send_signal(signal.SIGSTOP)  # a hung server: requests time out
                time.sleep(rng.uniform(1.0, 4.0))
                server.proc.send_signal(signal.SIGCONT)
                hangs += 1
            if now >= half and time.monotonic() - agent.started > 5:
                rss.append(psutil.Process(agent.proc.pid).memory_info().rss)
        work.stop.set()
        work.thread.join()

        pending: dict[str, int] = {}

        def drained() -> bool:
            closed, _sums, still_open = local_totals()
            status = json.loads(cli("status", "--json").stdout)
            pending.update(open=still_open, queued=status["queue_depth"], closed=closed)
            return still_open == 0 and status["queue_depth"] == 0 and closed > 0

        # Calm: every segment closes (10 s idle) and is delivered (a retry at most 10 s away):
        # 11-12 s measured; the bound leaves room for a loaded machine. Other suites' tool
        # lookalikes (whose segments in a git repository wait 30 min in the outbox) stay out:
        # the test's own process scope (tests/conftest.py).
        calm = time.monotonic()
        try:
            wait_for(drained, timeout=DRAIN_SECONDS, step=1.0)
        except AssertionError as exc:
            raise AssertionError(f"{exc}; still pending: {pending}") from None
        drain = time.monotonic() - calm
        rss.append(psutil.Process(agent.proc.pid).memory_info().rss)
    finally:
        work.stop.set()
        agent.stop()
        server.stop()
    closed, local, _ = local_totals()
    count, central = central_totals(db)
    print(
        f"\nsoak {SOAK_SECONDS:.0f}s: {kills} agent kills, {restarts} ingest restarts, "
        f"{hangs} ingest hangs; drained in {drain:.0f} s; {closed} segments; tokens {work.truth}; "
        f"agent RSS {rss[0] / 2**20:.1f} -> {rss[-1] / 2**20:.1f} MiB over the second half"
    )
    assert local == work.truth, "local figures equal what the transcripts hold"
    assert central == local and count == closed, "central figures equal local figures exactly"
    # Measured, not tuned: a leak of the kind that matters would be far above this margin.
    assert rss[-1] < rss[0] + 16 * 2**20
    assert b"CANARY" not in db.read_bytes()
