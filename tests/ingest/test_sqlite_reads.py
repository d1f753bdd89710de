"""On SQLite, reads never queue behind a writer: reports, /healthz and token lookups answer
while another connection holds the write lock (ingest/storage_sqlite.py, `_begin`)."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import requests

from aitally.ingest import levels, reports
from aitally.ingest.auth import token_hash
from aitally.ingest.storage import open_storage
from tests.ingest.builders import batch, record
from tests.ingest.conftest import Server, ingest_cmd

T = TypeVar("T")
# The storage's busy timeout is 30 s: a read that waited for the lock would take that long.
PROMPT = 3.0


@contextmanager
def write_lock_held(db: Path) -> Iterator[None]:
    """Another connection inside a write transaction with an uncommitted insert."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO audit (at, actor, action, detail) VALUES (0, 'test', 'hold', '{}')"
        )
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def cli_report(db: Path) -> list[str]:
    """`aitally-ingest report usage` on this database."""
    return ingest_cmd("report", "usage", "--db", f"sqlite:///{db}", "--min-group-size", "1")


def prompt(call: Callable[[], T]) -> T:
    """call()'s result, failing the test unless it came within PROMPT seconds."""
    with ThreadPoolExecutor(1) as pool:
        started = time.monotonic()
        result = pool.submit(call).result(timeout=PROMPT + 30)
        assert time.monotonic() - started < PROMPT, "the read waited for the writer"
        return result


def test_storage_reads_beside_a_writer(tmp_path: Path) -> None:
    db = tmp_path / "ingest.db"
    server = Server(f"sqlite:///{db}", tmp_path)
    try:
        _, token = server.enroll(login="reader")
        assert server.post(token, batch([record()])).status_code == 200
    finally:
        server.stop()
    storage = open_storage(f"sqlite:///{db}")
    try:
        with write_lock_held(db):
            assert prompt(lambda: storage.device_for_token(token_hash(token))) is not None
            prompt(storage.ping)
            assert prompt(storage.devices)[0].health is not None
            doc = prompt(lambda: reports.usage(storage, "week", None, None, 1))
            assert doc["report"] == "usage"
            prompt(lambda: reports.adoption(storage, "week", None, None, 1))
            prompt(lambda: levels.levels(storage, "volume", None, None, 1, (10.0, 4.0, 1.0)))
            assert prompt(lambda: storage.audit_log()) != []
            # The command line's report opens the database (migrated: a read) and reads.
            cli = prompt(lambda: subprocess.run(cli_report(db), capture_output=True, timeout=60))
            assert cli.returncode == 0, cli.stderr
    finally:
        storage.close()


def test_service_answers_beside_a_writer(tmp_path: Path) -> None:
    db = tmp_path / "ingest.db"
    server = Server(f"sqlite:///{db}", tmp_path)
    try:
        with write_lock_held(db):
            health = prompt(lambda: requests.get(server.url + "/healthz", timeout=60))
            assert health.status_code == 200
            # The token lookup of a batch is a read: an unknown token is refused at once.
            refused = prompt(lambda: server.post("not-a-token", batch([record()])))
            assert refused.status_code == 401
    finally:
        server.stop()
