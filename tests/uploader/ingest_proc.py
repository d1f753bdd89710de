"""The real ingest service as a child process on loopback, with an enrolled device token."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

SECRET = "enroll-secret-for-tests"


class Ingest:
    def __init__(self, proc: subprocess.Popen[bytes], url: str, db: Path) -> None:
        self.proc = proc
        self.url = url
        self.db = db

    def enroll(self) -> str:
        resp = requests.post(
            f"{self.url}/v1/enroll",
            json={"enroll_secret": SECRET, "device_label": None, "agent_version": "test"},
            timeout=10,
        )
        resp.raise_for_status()
        return str(resp.json()["token"])

    def record_ids(self) -> list[str]:
        with sqlite3.connect(self.db) as conn:
            return [r[0] for r in conn.execute("SELECT record_id FROM records")]

    def raw_bytes(self) -> bytes:
        """Everything the service stored on disk (database and WAL)."""
        return b"".join(
            p.read_bytes() for p in self.db.parent.glob(self.db.name + "*") if p.is_file()
        )


@contextmanager
def ingest(tmp: Path) -> Iterator[Ingest]:
    db = tmp / "ingest" / "ingest.db"
    db.parent.mkdir(parents=True)
    port_file = tmp / "ingest" / "port"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITALLY_")}
    env["AITALLY_INGEST_ENROLL_SECRET"] = SECRET
    env["AITALLY_INGEST_PSEUDONYM_KEYS"] = "k1:" + "p" * 40
    cmd = [
        str(Path(sys.executable).parent / "aitally-ingest"),
        "serve",
        "--db",
        f"sqlite:///{db}",
        "--port",
        "0",
        "--port-file",
        str(port_file),
        "--device-rate",
        "0",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise RuntimeError(f"ingest did not start: {err[-2000:]}")
            time.sleep(0.05)
        yield Ingest(proc, f"http://127.0.0.1:{port_file.read_text().strip()}", db)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
