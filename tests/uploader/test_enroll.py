"""`aitally enroll` against a real HTTP server on loopback; the token goes where uploads read it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from aitally.uploader import credentials
from tests.conftest import aitally_cmd
from tests.enroll_server import GOOD_SECRET, TOKEN, EnrollHandler, free_port


def _enroll(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        aitally_cmd("enroll", *args),
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ,
        input=stdin,
    )


def test_enroll_stores_the_token_0600_and_the_endpoint(home: Path, enroll_server: str) -> None:
    # The secret comes on standard input: never in argv, where `ps` shows it to everyone.
    done = _enroll("--endpoint", enroll_server, "--enroll-secret-file", "-", stdin=GOOD_SECRET)
    assert done.returncode == 0, done.stderr
    assert "device dev-1" in done.stdout and "file:" in done.stdout
    assert credentials.get_token() == TOKEN
    assert oct(credentials.token_file().stat().st_mode & 0o777) == "0o600"
    assert EnrollHandler.seen[-1]["device_label"] is None  # no hostname unless asked
    sent = EnrollHandler.seen[-1]
    assert set(sent) == {
        "enroll_secret",
        "device_label",
        "agent_version",
        "login",
        "privacy_level",
        "org_unit",
    }
    assert sent["privacy_level"] == "pseudonymous" and sent["login"]
    assert enroll_server in Path(os.environ["AITALLY_CONFIG"]).read_text()
    # The secret is spent on the wire only: nothing aitally wrote keeps it.
    for path in [
        *Path(os.environ["AITALLY_DATA_DIR"]).rglob("*"),
        Path(os.environ["AITALLY_CONFIG"]),
    ]:
        if path.is_file():
            assert b"CANARY" not in path.read_bytes(), path


def test_wrong_secret_is_one_line_exit_2(home: Path, enroll_server: str) -> None:
    done = _enroll("--endpoint", enroll_server, "--enroll-secret", "wrong")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "refused (401)" in done.stderr
    assert credentials.get_token() is None


def test_unreachable_endpoint_names_the_fix_and_keeps_the_working_one(
    home: Path, enroll_server: str
) -> None:
    assert _enroll("--endpoint", enroll_server, "--enroll-secret", GOOD_SECRET).returncode == 0
    saved = Path(os.environ["AITALLY_CONFIG"]).read_text()
    done = _enroll("--endpoint", f"http://127.0.0.1:{free_port()}", "--enroll-secret", "x")
    assert done.returncode == 2 and "cannot connect" in done.stderr
    assert "upload.endpoint" in done.stderr
    assert Path(os.environ["AITALLY_CONFIG"]).read_text() == saved  # a typo replaces nothing


def test_untrusted_certificate_then_trusted_with_ca_bundle(
    home: Path, tls_server: tuple[str, Path]
) -> None:
    url, cert = tls_server
    done = _enroll("--endpoint", url, "--enroll-secret", GOOD_SECRET)
    assert done.returncode == 2 and "not trusted" in done.stderr and "ca_bundle" in done.stderr
    Path(os.environ["AITALLY_CONFIG"]).write_text(f'[upload]\nca_bundle = "{cert}"\n')
    done = _enroll("--endpoint", url, "--enroll-secret", GOOD_SECRET)
    assert done.returncode == 0, done.stderr
    assert credentials.get_token() == TOKEN


def test_token_given_directly(home: Path) -> None:
    done = _enroll("--token", "issued-by-it-42")
    assert done.returncode == 0, done.stderr
    assert credentials.get_token() == "issued-by-it-42"
    assert _enroll("--token", "has space").returncode == 2
    assert "--enroll-secret" in _enroll().stderr


def test_secret_from_a_file_and_plain_http_beyond_loopback_refused(
    home: Path, enroll_server: str, tmp_path: Path
) -> None:
    secret = tmp_path / "secret"
    secret.write_text(GOOD_SECRET + "\n")
    done = _enroll(
        "--endpoint", "http://ingest.example.invalid", "--enroll-secret-file", str(secret)
    )
    assert done.returncode == 2 and "https://" in done.stderr and "allow_http" in done.stderr
    assert _enroll("--endpoint", enroll_server, "--enroll-secret-file", str(secret)).returncode == 0
    assert credentials.get_token() == TOKEN
