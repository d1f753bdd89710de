"""Fixtures: a throw-away PostgreSQL cluster and the real ingest service as a child process."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ENROLL_SECRET = "test-enroll-secret"
ADMIN_TOKEN = "test-admin-token"
PSEUDONYM_KEYS = "k1:" + "s" * 40
PG_USER = "postgres"


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_user(cmd: list[str]) -> list[str]:
    # initdb refuses to run as root: run the cluster as an unprivileged user.
    return ["runuser", "-u", PG_USER, "--", *cmd] if os.geteuid() == 0 else cmd


class PgCluster:
    def __init__(self) -> None:
        initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
        if not initdb or not pg_ctl:
            pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not installed")
        if os.geteuid() == 0 and subprocess.run(["id", PG_USER], capture_output=True).returncode:
            subprocess.run(["useradd", "--system", "--no-create-home", PG_USER], check=False)
        self.pg_ctl = pg_ctl
        self.dir = Path(tempfile.mkdtemp(prefix="aitally-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        if os.geteuid() == 0:
            shutil.chown(self.dir, PG_USER)
        self._run(
            [
                initdb,
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--no-sync",
                "--no-instructions",
            ]
        )
        self.opts = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(self._ctl("start"))
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, action: str, *extra: str) -> list[str]:
        """pg_ctl ACTION on this cluster, waiting up to 60 s for it."""
        data, log = str(self.data), str(self.dir / "log")
        return [
            self.pg_ctl,
            "-D",
            data,
            "-o",
            self.opts,
            "-l",
            log,
            *extra,
            "-w",
            "-t",
            "60",
            action,
        ]

    def restart(self) -> None:
        """Restarts the server (fast: open sessions are ended), as a failover would."""
        done = subprocess.run(
            _as_user(self._ctl("restart", "-m", "fast")), capture_output=True, timeout=120
        )
        assert done.returncode == 0, done.stderr.decode()[-500:]

    def _run(self, cmd: list[str]) -> None:
        done = subprocess.run(_as_user(cmd), capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.dir / "log"
            tail = log.read_text()[-500:] if log.exists() else ""
            pytest.skip(f"PostgreSQL could not start: {done.stderr.strip()[-300:]} {tail}")

    def new_database(self) -> str:
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        subprocess.run(
            _as_user([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"]),
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    cluster = PgCluster()
    yield cluster
    cluster.stop()


def ingest_cmd(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "aitally-ingest"), *args]


class Server:
    """`aitally-ingest serve` as a real child process on a free loopback port."""

    def __init__(
        self, db: str, workdir: Path, *extra: str, report_refresh: str | None = "0"
    ) -> None:
        """report_refresh: the --report-refresh given unless extra has one (None: none, for
        a server of older code); most tests read reports right after uploading."""
        self.db = db
        port_file = workdir / f"port-{uuid.uuid4().hex[:8]}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AITALLY_")}
        env.update(
            AITALLY_INGEST_ENROLL_SECRET=ENROLL_SECRET,
            AITALLY_INGEST_ADMIN_TOKEN=ADMIN_TOKEN,
            AITALLY_INGEST_PSEUDONYM_KEYS=PSEUDONYM_KEYS,
        )
        if not any(a.startswith("--enroll-burst") for a in extra):
            extra = ("--enroll-burst", "100000", *extra)
        if report_refresh is not None and not any(a.startswith("--report-refresh") for a in extra):
            extra = ("--report-refresh", report_refresh, *extra)
        self.log = workdir / f"ingest-{port_file.name}.log"
        self.proc = subprocess.Popen(
            ingest_cmd("serve", "--db", db, "--port", "0", "--port-file", str(port_file), *extra),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.log.open("wb"),
        )
        deadline = time.monotonic() + 30
        while not port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"ingest did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{port_file.read_text()}"
        self.http = requests.Session()
        self._tokens: dict[tuple[str, str | None, str], str] = {}

    def post_as(
        self,
        login: str,
        records: list[dict[str, Any]],
        org_unit: str | None = "eng",
        level: str = "pseudonymous",
    ) -> requests.Response:
        """Posts records from one device of login (enrolled on first use): who they count for
        is the enrollment, whatever the records' own user/org_unit say."""
        key = (login, org_unit, level)
        if key not in self._tokens:
            self._tokens[key] = self.enroll(login=login, org_unit=org_unit, level=level)[1]
        from tests.ingest.builders import batch

        r = self.post(self._tokens[key], batch(records))
        assert r.status_code == 200, r.text
        return r

    def enroll(
        self,
        label: str = "laptop",
        login: str | None = None,
        org_unit: str | None = "eng",
        level: str = "pseudonymous",
    ) -> tuple[str, str]:
        """A device enrolled as login (None: as an older agent, which sends none)."""
        r = self.enroll_raw(label=label, login=login, org_unit=org_unit, level=level)
        r.raise_for_status()
        return r.json()["device_id"], r.json()["token"]

    def enroll_raw(
        self,
        label: str | None = "laptop",
        login: str | None = None,
        org_unit: str | None = "eng",
        level: str = "pseudonymous",
        secret: str = ENROLL_SECRET,
    ) -> requests.Response:
        body: dict[str, Any] = {
            "enroll_secret": secret,
            "device_label": label,
            "agent_version": "0.1",
            "privacy_level": level,
            "org_unit": org_unit,
        }
        if login is not None:
            body["login"] = login
        return self.http.post(self.url + "/v1/enroll", json=body)

    def post(self, token: str, body: Any, **headers: str) -> requests.Response:
        data = body if isinstance(body, bytes) else __import__("json").dumps(body).encode()
        return self.http.post(
            self.url + "/v1/batches",
            data=data,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                **headers,
            },
        )

    def admin(self, method: str, path: str, **kw: Any) -> requests.Response:
        return self.http.request(
            method, self.url + path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, **kw
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def backend_db(request: pytest.FixtureRequest, workdir: Path) -> str:
    if request.param == "postgres":
        cluster: PgCluster = request.getfixturevalue("pg_cluster")
        return cluster.new_database()
    return f"sqlite:///{workdir / 'ingest.db'}"


BACKENDS = [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def shared_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """One service per backend for a whole module: tests use their own devices and ids."""
    workdir = tmp_path_factory.mktemp("ingest")
    server = Server(backend_db(request, workdir), workdir)
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def fresh_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A service over an empty database, for reports that count everything stored."""
    server = Server(backend_db(request, tmp_path), tmp_path)
    yield server
    server.stop()
