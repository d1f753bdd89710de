"""`aitally demo` (what `make run` starts): the whole product on one machine.

With no upload endpoint configured: the reference ingest service on loopback (SQLite under the
data folder), the agent enrolled with it and uploading every 15 s, and the local dashboard; with
an endpoint configured, the agent alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from aitally.core import config, paths
from aitally.core.errors import UsageError
from aitally.core.instance_lock import holder_pid, is_held
from aitally.core.store import ensure_writable_dir

BIN = Path(sys.executable).parent
# The demo shows one engineer's own data centrally, so its reports suppress no group; a
# real deployment keeps the default minimum group size of 5.
DEMO_MIN_GROUP = "1"
# Closed segments reach the central dashboard within this many seconds in the demo.
DEMO_UPLOAD_INTERVAL = "15"
# A session's record waits for the commits in its git repository for this many seconds after
# it ends (collectors.git_after, 30 minutes by default): none in the demo, so that a closed
# session shows at once; the commits made during it still count.
DEMO_GIT_AFTER = "0"


class Children:
    """The processes `make run` started; stopped together, newest first."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[str]]] = []

    def start(
        self, name: str, argv: list[str], env: dict[str, str], **kw: object
    ) -> subprocess.Popen[str]:
        proc: subprocess.Popen[str] = subprocess.Popen(  # type: ignore[call-overload]
            argv, env=env, text=True, **kw
        )
        self.procs.append((name, proc))
        return proc

    def wait_any(self) -> tuple[str, int] | None:
        """Blocks until one child exits; returns its name and status."""
        while True:
            for name, proc in self.procs:
                code = proc.poll()
                if code is not None:
                    return name, code
            time.sleep(0.5)

    def stop(self) -> None:
        for _name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _name, proc in reversed(self.procs):
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _central_secrets(folder: Path) -> dict[str, str]:
    """The demo service's enroll secret and admin token, kept across runs (mode 0600)."""
    path = folder / "secrets.json"
    try:
        data: dict[str, str] = json.loads(path.read_text())
        if {"enroll_secret", "admin_token", "pseudonym_key"} <= set(data):
            return data
    except (OSError, ValueError):
        pass
    data = {
        "enroll_secret": secrets.token_urlsafe(24),
        "admin_token": secrets.token_urlsafe(24),
        "pseudonym_key": "demo:" + secrets.token_urlsafe(32),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    return data


def _wait_port(port_file: Path, proc: subprocess.Popen[str], timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the ingest service exited with status {proc.returncode}")
        try:
            return int(port_file.read_text().strip())
        except (OSError, ValueError):
            time.sleep(0.1)
    raise RuntimeError("the ingest service did not start listening within a minute")


def _ensure_enrolled(cfg: config.Config, endpoint: str, central: Path, secret: str) -> str:
    """Enrolls once per central database; the token lands where the uploader reads it."""
    from aitally.uploader import credentials
    from aitally.uploader.enroll import enroll

    marker = central / "enrolled-token.sha256"
    token = credentials.get_token()
    if (
        token
        and marker.exists()
        and marker.read_text() == hashlib.sha256(token.encode()).hexdigest()
    ):
        return credentials.store_name()
    cfg.values["upload"]["endpoint"] = endpoint
    done = enroll(cfg, secret, label=None)
    token = credentials.get_token() or ""
    marker.write_text(hashlib.sha256(token.encode()).hexdigest())
    return done.store


def _dashboard_url(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    return line if line.startswith("http") else "(the local dashboard did not start)"


def run_whole_path(cfg: config.Config) -> int:
    """Starts the ingest service, enrolls, starts the agent and the local dashboard, prints
    where to look, and stops everything on Ctrl-C or when one of them exits."""
    if not (BIN / "aitally-ingest").exists():
        raise UsageError(
            "the demo needs the central service, which is not installed here; "
            "install aitally with its ingest extra (pip install 'aitally[ingest]')"
        )
    data = paths.data_dir()
    lock = paths.lock_file()
    if is_held(lock):  # before starting anything: a second demo would only print a false banner
        print(
            f"aitally: an agent already runs for this user (pid {holder_pid(lock) or 'unknown'}, "
            f"data in {data}); stop it first (Ctrl-C where `make run` runs), "
            "or look at it with `aitally status`",
            file=sys.stderr,
        )
        return 1
    central = data / "central"
    ensure_writable_dir(central)
    keys = _central_secrets(central)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AITALLY_INGEST_")}
    children = Children()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        port_file = central / "port"
        port_file.unlink(missing_ok=True)
        ingest_db = central / "ingest.db"
        ingest = children.start(
            "ingest service",
            [
                str(BIN / "aitally-ingest"),
                "serve",
                "--db",
                f"sqlite:///{ingest_db}",
                "--port",
                "0",
                "--port-file",
                str(port_file),
                "--min-group-size",
                DEMO_MIN_GROUP,
                # A demo's database is tiny: every answer live, so a session shows at once
                # rather than at the report cache's next refresh (docs/measuring.md).
                "--report-refresh",
                "0",
                "--log-level",
                "warning",
            ],
            {
                **env,
                "AITALLY_INGEST_ENROLL_SECRET": keys["enroll_secret"],
                "AITALLY_INGEST_ADMIN_TOKEN": keys["admin_token"],
                "AITALLY_INGEST_PSEUDONYM_KEYS": keys["pseudonym_key"],
            },
        )
        endpoint = f"http://127.0.0.1:{_wait_port(port_file, ingest)}"
        token_store = _ensure_enrolled(cfg, endpoint, central, keys["enroll_secret"])
        agent_env = {
            **env,
            "AITALLY_UPLOAD_ENDPOINT": endpoint,
            "AITALLY_UPLOAD_INTERVAL": DEMO_UPLOAD_INTERVAL,
            "AITALLY_COLLECTORS_GIT_AFTER": DEMO_GIT_AFTER,
        }
        agent = children.start("agent", [str(BIN / "aitally"), "run"], agent_env)
        dash = children.start(
            "local dashboard",
            [str(BIN / "aitally"), "dashboard", "--no-browser"],
            agent_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        print(
            "\naitally is running; Ctrl-C stops everything.\n"
            f"  agent              pid {agent.pid}, data in {data}\n"
            f"  local dashboard    {_dashboard_url(dash)}\n"
            f"  central service    {endpoint}  (SQLite {ingest_db}; device token in "
            f"{token_store})\n"
            f"  central dashboard  {endpoint}/dashboard  (any user name; password "
            f"{keys['admin_token']})\n"
            f"  your own figures   {BIN / 'aitally'} stats   (and sessions, status, preview)\n"
            "Sessions reach the central side when they close (the tool exits, or "
            "15 minutes idle).\n",
            flush=True,
        )
        name, code = children.wait_any() or ("?", 1)
        print(f"aitally: the {name} stopped (status {code}); stopping the rest", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        children.stop()
