"""Shared fixtures: every test gets its own data folder, config and process scope, never the
real ones."""

from __future__ import annotations

import os
import shutil
import ssl
import sys
import uuid
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from aitally.collectors.processes import SCOPE_VARIABLE
from tests.enroll_server import EnrollHandler, serve
from tests.uploader.helpers import self_signed

REPO = Path(__file__).resolve().parent.parent
# Transcripts written by the real Claude Code and Codex clients, with their true totals
# (tests/fixtures/real-clients/README.md).
FIXTURES = REPO / "tests" / "fixtures"
SAMPLES = FIXTURES / "real-clients"
TOOL_VARIABLES = {"CLAUDE_CONFIG_DIR", "CODEX_HOME", "GEMINI_DIR", "COPILOT_HOME"}


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """HOME, AITALLY_DATA_DIR and AITALLY_CONFIG point into tmp; tool, AITALLY_* and OTEL_*
    variables are cleared, so no test ever reads or writes the real user's files; the agent's
    process scope (`agent.process_scope`) is the test's own."""
    for name in list(os.environ):
        if name.startswith(("AITALLY_", "XDG_", "OTEL_")) or name in TOOL_VARIABLES:
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    data = tmp_path / "aitally-data"
    monkeypatch.setenv("AITALLY_DATA_DIR", str(data))
    cfg = tmp_path / "aitally-config.toml"
    cfg.write_text("")
    monkeypatch.setenv("AITALLY_CONFIG", str(cfg))
    # The test's agents count only the tool processes the test starts (children inherit the
    # variable): other suites' lookalikes running on the same machine stay out of its sessions.
    monkeypatch.setenv(SCOPE_VARIABLE, f"test-{uuid.uuid4().hex}")
    yield data


def aitally_cmd(*args: str) -> list[str]:
    """The installed console script, run as a real child process."""
    return [str(Path(sys.executable).parent / "aitally"), *args]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME and XDG_CONFIG_HOME in tmp: nothing the tests do reaches the real user's files."""
    h = tmp_path / "home"  # made and set as HOME by the suite-wide isolated_env fixture
    h.mkdir(exist_ok=True)
    monkeypatch.setenv("HOME", str(h))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(h / ".config"))
    # No keyring daemon here; make keyring's choice explicit so the file fallback is used.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    return h


@pytest.fixture
def enroll_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 speaking the enrollment part of the wire protocol."""
    EnrollHandler.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), EnrollHandler)
    for s in serve(server):
        yield f"http://127.0.0.1:{s.server_address[1]}"


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """HTTPS on 127.0.0.1 with a self-signed certificate no trust store knows; yields the
    URL and the certificate (a CA bundle that makes it trusted)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    cert, key = self_signed(tmp_path)  # the uploader tests' certificate maker
    server = ThreadingHTTPServer(("127.0.0.1", 0), EnrollHandler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    for s in serve(server):
        yield f"https://127.0.0.1:{s.server_address[1]}", cert
