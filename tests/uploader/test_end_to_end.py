"""The real agent against the real ingest service: markers never leave, SIGTERM, SIGKILL harness."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aitally.core import paths
from aitally.core.store import Store, outbox
from aitally.uploader import credentials
from tests.conftest import SAMPLES, aitally_cmd
from tests.uploader.helpers import make_segments, open_store, receiver, write_config
from tests.uploader.ingest_proc import ingest


def child_env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HOME"] = str(home)  # the agent's file collectors must not read the real home
    env.pop("CLAUDE_CONFIG_DIR", None)
    env.pop("CODEX_HOME", None)
    return env


def expected_ids(store: Store) -> list[str]:
    secret = outbox.device_secret(store.conn)
    rows = store.conn.execute(
        "SELECT s.tool, s.session_key, g.idx, g.started_at FROM segments g JOIN sessions s"
        " ON s.id = g.session_id WHERE g.ended_at IS NOT NULL"
    )
    return sorted(outbox.record_id(secret, r[0], r[1], r[2], r[3]) for r in rows)


def test_markers_in_transcripts_never_reach_the_ingest_service(tmp_path):
    home = tmp_path / "home"
    shutil.copytree(SAMPLES / "claude-code", home / ".claude")
    shutil.copytree(SAMPLES / "codex", home / ".codex")
    with ingest(tmp_path) as server:
        credentials.set_token(server.enroll())
        write_config(
            "[agent]\nidle_timeout = 900\nbackfill_days = 3650\n"
            f'[upload]\nendpoint = "{server.url}"'
        )
        env = child_env(home)
        once = subprocess.run(
            aitally_cmd("run", "--once"), env=env, capture_output=True, timeout=120
        )
        assert once.returncode == 0, once.stderr.decode()[-2000:]
        shown = subprocess.run(
            aitally_cmd("preview", "--json"), env=env, capture_output=True, timeout=60, check=True
        ).stdout
        stored = server.raw_bytes()
        received = server.record_ids()
    for blob in (stored, shown):
        assert b"CANARY" not in blob
        assert b"payments-api" not in blob  # the project folder name goes only as a keyed hash
    planted = sum(p.read_bytes().count(b"CANARY") for p in (home / ".claude").rglob("*.jsonl"))
    assert planted > 0  # the test is not vacuous: markers were there to leak
    # The transcripts' four sessions did arrive, as numbers only.
    assert len(received) == 4, once.stderr.decode()[-3000:]


def test_sigterm_finishes_within_grace_and_keeps_the_queue(tmp_path):
    with receiver() as server:
        server.script = ["hang"]
        credentials.set_token("t")
        write_config(
            f'[agent]\nscan_interval = 0.3\n[upload]\nendpoint = "{server.url}"\nread_timeout = 60'
        )
        store = open_store()
        ids = make_segments(store, 5)
        store.close()
        proc = subprocess.Popen(
            aitally_cmd("run"),
            env=child_env(tmp_path),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while server.requests == 0:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        assert time.monotonic() - start < 4.0
        store = open_store()
        left = [r[0] for r in store.conn.execute("SELECT record_id FROM outbox")]
        assert sorted(left) == sorted(ids)


def _start_agent(env: dict[str, str], log) -> subprocess.Popen[bytes]:
    return subprocess.Popen(aitally_cmd("run"), env=env, stdout=log, stderr=log)


def _start_load(env: dict[str, str]) -> subprocess.Popen[bytes]:
    script = str(Path(__file__).with_name("loadgen.py"))
    return subprocess.Popen(
        [sys.executable, script, str(paths.store_file()), "0.02"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_sigkill_harness_every_record_reaches_ingest_exactly_once(tmp_path):
    rng = random.Random(5)
    kills = 60
    with ingest(tmp_path) as server:
        credentials.set_token(server.enroll())
        write_config(
            f"""
[agent]
scan_interval = 0.2
[upload]
endpoint = "{server.url}"
interval = 1
jitter = 0.5
batch_max_records = 5
backoff_base = 0.05
backoff_max = 0.5
read_timeout = 5
"""
        )
        env = child_env(tmp_path / "home")
        open_store().close()  # created and migrated before two processes race for it
        log = (tmp_path / "agent.out").open("ab")
        load = _start_load(env)
        killed_load = 0
        try:
            for _ in range(kills):
                agent = _start_agent(env, log)
                time.sleep(rng.uniform(0.3, 1.6))
                agent.kill()
                agent.wait()
                if rng.random() < 0.3:  # the producer dies mid-enqueue too
                    load.kill()
                    load.wait()
                    killed_load += 1
                    load = _start_load(env)
        finally:
            load.kill()
            load.wait()
        done = subprocess.run(aitally_cmd("upload"), env=env, capture_output=True, timeout=120)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        received = server.record_ids()
    store = open_store()
    expected = expected_ids(store)
    assert len(expected) > 500 and killed_load > 5
    assert store.conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0] == 0
    assert store.conn.execute("SELECT COUNT(*) FROM dead_letter").fetchone()[0] == 0
    assert len(received) == len(set(received))
    assert sorted(received) == expected
    uploads = store.conn.execute("SELECT COUNT(*) FROM upload_log").fetchone()[0]
    assert uploads > kills  # uploads really ran between the kills
