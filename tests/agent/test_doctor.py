"""Each failure `aitally doctor` can find, provoked for real, with its fix hint checked."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from aitally.agent.doctor import FAIL, OK, Check, Doctor
from aitally.core import paths
from aitally.installer.service import Target
from aitally.uploader import credentials
from tests.conftest import aitally_cmd
from tests.enroll_server import free_port


def _by_name(doctor: Doctor) -> dict[str, Check]:
    return {c.name: c for c in doctor.run()}


def _doctor(tmp_path: Path, **kw: Any) -> dict[str, Check]:
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)
    return _by_name(Doctor(Target(root=root, home=Path.home()), **kw))


def _config(text: str) -> None:
    Path(os.environ["AITALLY_CONFIG"]).write_text(text)


def test_clean_machine_reports_only_registration_and_agent(home: Path, tmp_path: Path) -> None:
    checks = _doctor(tmp_path)
    failed = {n for n, c in checks.items() if c.status == FAIL}
    assert failed == {"service", "agent"}
    assert checks["service"].fix == "aitally install"
    assert "aitally install" in checks["agent"].fix


def test_unwritable_data_folder(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Root ignores permission bits, so the folder is made unusable another way: it is a file.
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("AITALLY_DATA_DIR", str(blocker))
    check = _doctor(tmp_path)["data folder"]
    assert check.status == FAIL and "not writable" in check.detail
    assert check.fix.startswith("sudo chown -R")


def test_bad_user_config(home: Path, tmp_path: Path) -> None:
    _config("[agent]\nscan_interval = -1\n")
    check = _doctor(tmp_path)["config"]
    assert check.status == FAIL and "agent.scan_interval" in check.detail
    assert check.fix.startswith(f"edit {os.environ['AITALLY_CONFIG']}")


def test_bad_managed_policy(home: Path, tmp_path: Path) -> None:
    policy = tmp_path / "root" / str(paths.managed_policy_file()).lstrip("/")
    policy.parent.mkdir(parents=True)
    policy.write_text('[privacy]\nlevel = "everything"\n')
    check = _doctor(tmp_path)["policy"]
    assert check.status == FAIL and "privacy.level" in check.detail
    assert "policy template --format toml" in check.fix
    policy.write_text('[upload]\nendpont = "x"\n')
    assert "unknown key upload.endpont" in _doctor(tmp_path)["policy"].detail


def test_no_token(home: Path, tmp_path: Path, enroll_server: str) -> None:
    _config(f'[upload]\nendpoint = "{enroll_server}"\n')
    checks = _doctor(tmp_path)
    assert checks["endpoint"].status == OK
    assert checks["token"].status == FAIL
    assert checks["token"].fix.startswith("aitally enroll --enroll-secret")
    credentials.set_token("t-1")
    assert _doctor(tmp_path)["token"].status == OK


def test_unreachable_endpoint(home: Path, tmp_path: Path) -> None:
    _config(f'[upload]\nendpoint = "http://127.0.0.1:{free_port()}"\n')
    check = _doctor(tmp_path)["endpoint"]
    assert check.status == FAIL and "unreachable" in check.detail
    assert "upload.endpoint" in check.fix and "upload.proxy" in check.fix


def test_untrusted_certificate(home: Path, tmp_path: Path, tls_server: tuple[str, Path]) -> None:
    url, cert = tls_server
    _config(f'[upload]\nendpoint = "{url}"\n')
    check = _doctor(tmp_path)["endpoint"]
    assert check.status == FAIL and "not trusted" in check.detail
    assert "upload.ca_bundle" in check.fix
    _config(f'[upload]\nendpoint = "{url}"\nca_bundle = "{cert}"\n')
    check = _doctor(tmp_path)["endpoint"]
    assert check.status == OK and "HTTP 200" in check.detail


def test_missing_service_registration_then_registered(home: Path, tmp_path: Path) -> None:
    assert _doctor(tmp_path)["service"].status == FAIL
    autostart = home / ".config" / "autostart"
    autostart.mkdir(parents=True)
    (autostart / "aitally.desktop").write_text("[Desktop Entry]\n")
    assert _doctor(tmp_path)["service"].status == OK


def test_low_inotify_watch_limit(home: Path, tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    (proc / "sys/fs/inotify").mkdir(parents=True)
    (proc / "sys/fs/inotify/max_user_watches").write_text("1024\n")
    check = _doctor(tmp_path, proc=proc)["file watch"]
    assert check.status == FAIL and "1024 < 8192" in check.detail
    assert "fs.inotify.max_user_watches=524288" in check.fix and "collectors.polling" in check.fix


def test_corrupt_store(home: Path, tmp_path: Path) -> None:
    paths.data_dir().mkdir(parents=True)
    paths.store_file().write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    check = _doctor(tmp_path)["store"]
    assert check.status == FAIL and check.fix.startswith("aitally uninstall; mv ")


def test_store_from_a_newer_aitally(home: Path, tmp_path: Path) -> None:
    import sqlite3

    from aitally.core.store import Store

    Store(paths.store_file()).close()
    with sqlite3.connect(paths.store_file()) as conn:
        conn.execute("PRAGMA user_version = 999")
    check = _doctor(tmp_path)["store"]
    assert check.status == FAIL and "schema 999, newer than this aitally" in check.detail
    assert check.fix.startswith("upgrade aitally")


def test_missing_extra_root(home: Path, tmp_path: Path) -> None:
    _config('[collectors]\nextra_roots = { claude-code = ["/nonexistent/claude"] }\n')
    check = _doctor(tmp_path)["tool folders"]
    assert check.status == FAIL and "/nonexistent/claude" in check.detail
    assert "collectors.extra_roots" in check.fix


def test_doctor_command_json_and_exit_status(home: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        aitally_cmd("doctor", "--json", "--min-watches", str(2**31)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["ok"] is False
    statuses = {c["name"]: c["status"] for c in report["checks"]}
    assert statuses["file watch"] == FAIL
    assert all(c["fix"] for c in report["checks"] if c["status"] == FAIL)
    text = subprocess.run(aitally_cmd("doctor"), capture_output=True, text=True, timeout=60)
    assert "fix: aitally install" in text.stdout


def test_browser_history_names_the_profiles_read(home: Path, tmp_path: Path) -> None:
    (home / ".config" / "chromium" / "Default").mkdir(parents=True)
    (home / ".config" / "chromium" / "Default" / "History").write_bytes(b"")
    check = _doctor(tmp_path)["browser history"]
    assert check.status == OK and check.detail == "chromium: Default"
    _config("[browser]\nenabled = false\n")
    assert "not read" in _doctor(tmp_path)["browser history"].detail


def test_otlp_receiver_off_listening_taken_and_unreachable(home: Path, tmp_path: Path) -> None:
    import http.server
    import threading

    from aitally.collectors.otlp.receiver import OtlpCollector
    from aitally.core.sessionizer import Sessionizer
    from aitally.core.store import Store

    check = _doctor(tmp_path)["otlp receiver"]
    assert check.status == OK and check.detail.startswith("off (")

    port = free_port()
    _config(f"[otlp_receiver]\nenabled = true\nport = {port}\n")
    check = _doctor(tmp_path)["otlp receiver"]
    assert check.status == FAIL and check.detail == f"not reachable on 127.0.0.1:{port}"
    assert "aitally install" in check.fix and "[otlp_receiver] port" in check.fix

    # Another program holds the port: it answers, but it is not the receiver.
    other = http.server.HTTPServer(("127.0.0.1", port), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        check = _doctor(tmp_path)["otlp receiver"]
    finally:
        other.shutdown()
        other.server_close()
    assert check.status == FAIL and "another program" in check.detail
    assert "[otlp_receiver] port" in check.fix

    # The real receiver on a port the agent chose (port 0): doctor finds it in the store.
    _config("[otlp_receiver]\nenabled = true\nport = 0\n")
    assert _doctor(tmp_path)["otlp receiver"].status == FAIL  # never started: no port yet
    paths.data_dir().mkdir(parents=True, exist_ok=True)
    store = Store(paths.store_file())
    collector = OtlpCollector(store, Sessionizer(store), 0, paths.data_dir())
    collector.start()
    try:
        assert collector.receiver is not None
        check = _doctor(tmp_path)["otlp receiver"]
        assert check == Check(
            "otlp receiver", OK, f"listening on 127.0.0.1:{collector.receiver.port}"
        )
    finally:
        collector.stop()
        store.close()
