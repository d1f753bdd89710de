"""Managed auto-enrollment: with IT's enroll secret in policy, an agent enrolls itself once."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from aitally.uploader import credentials, sinks
from aitally.uploader.delivery import Delivery
from tests.conftest import aitally_cmd
from tests.ingest.conftest import ENROLL_SECRET, Server
from tests.uploader.helpers import make_segments, open_store, write_config


def config_for(url: str, secret: str) -> str:
    return f"[upload]\nendpoint = '{url}'\nenroll_secret = '{secret}'\n"


def test_enrolls_once_then_uploads(tmp_path: Path) -> None:
    server = Server(f"sqlite:///{tmp_path / 'c.db'}", tmp_path)
    try:
        store = open_store()
        ids = make_segments(store, 3)
        cfg = write_config(config_for(server.url, ENROLL_SECRET))
        assert credentials.get_token() is None
        Delivery(cfg, store, sinks.make_sinks(cfg)).run()
        assert credentials.get_token() is not None
        sinks.make_sinks(cfg)  # a token exists now: no second enrollment
        devices = server.admin("GET", "/v1/devices").json()
        assert len(devices["devices"]) == 1
        stored = [r[0] for r in store.conn.execute("SELECT record_id FROM outbox")]
        assert stored == [] and len(ids) == 3
    finally:
        server.stop()


def test_a_wrong_secret_says_so_and_keeps_everything(tmp_path: Path) -> None:
    server = Server(f"sqlite:///{tmp_path / 'c.db'}", tmp_path)
    try:
        cfg = write_config(config_for(server.url, "not-the-secret"))
        with pytest.raises(sinks.NotReady, match="automatic enrollment failed"):
            sinks.make_sinks(cfg)
        assert credentials.get_token() is None
    finally:
        server.stop()


def test_config_show_never_prints_the_secrets(tmp_path: Path) -> None:
    write_config("[upload]\nenroll_secret = 's3cret-x'\n[privacy]\norg_key = 'k3y-x'\n")
    for args in (("config", "show"), ("config", "show", "--json")):
        out = subprocess.run(aitally_cmd(*args), capture_output=True, text=True, timeout=60)
        assert out.returncode == 0
        assert "s3cret-x" not in out.stdout and "k3y-x" not in out.stdout
    shown = json.loads(out.stdout)["values"]
    assert shown["upload"]["enroll_secret"] == "(set)" and shown["privacy"]["org_key"] == "(set)"
