"""The receiver's typed status after real requests to a real loopback receiver and store, and
how `aitally status` (text and --json) shows it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from aitally.agent.cli import main
from aitally.collectors.otlp import receiver as rx
from aitally.collectors.otlp.status import OtlpReceiverStatus, read_status
from aitally.core import config
from aitally.core.store import Store
from tests.collectors.otlp.helpers import post, protobuf_logs, recorded_logs


@pytest.fixture
def running(receiver: rx.OtlpCollector) -> rx.OtlpCollector:
    """The receiver, enabled in the configuration `aitally status` reads."""
    Path(os.environ["AITALLY_CONFIG"]).write_text("[otlp_receiver]\nenabled = true\nport = 0\n")
    return receiver


def test_status_off_by_default(isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True)
    store = Store(isolated_env / "aitally.db")
    try:
        st = read_status(config.load_default(), store)
    finally:
        store.close()
    assert st == OtlpReceiverStatus(enabled=False, port=43180)
    assert st.summary_line() == "off ([otlp_receiver] enabled = false)"
    assert st.as_json()["last_batch"] is None and st.as_json()["accepted_total"] == 0


def test_status_counts_accepted_rejected_and_last_batch(
    running: rx.OtlpCollector, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    r = running.receiver
    assert r is not None
    before = time.time()
    assert post(r.port, "/v1/logs", recorded_logs(), token=r.token)[0] == 200
    proto = "application/x-protobuf"
    assert (
        post(r.port, "/v1/logs", protobuf_logs("req_s1"), token=r.token, content_type=proto)[0]
        == 200
    )
    assert post(r.port, "/v1/logs", b"{}", token="wrong")[0] == 401
    assert post(r.port, "/v1/logs", b"not json", token=r.token)[0] == 400

    store = Store(isolated_env / "aitally.db")
    try:
        st = read_status(config.load_default(), store)
    finally:
        store.close()
    assert st.enabled and st.port == r.port
    assert st.accepted == {"logs": 7}  # the recording's 5 records, then 2
    assert st.rejected == {"unauthorized": 1, "malformed": 1}
    assert st.last_batch is not None and before <= st.last_batch <= time.time()
    assert st.started_at is not None and st.started_at <= before

    assert main(["status", "--json"]) == 0
    part = json.loads(capsys.readouterr().out)["otlp_receiver"]
    assert part["enabled"] is True and part["port"] == r.port
    assert part["accepted_total"] == 7 and part["rejected_total"] == 2
    assert part["last_batch"].endswith("Z")

    assert main(["status"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("otlp:"))
    assert f"port {r.port}, accepted 7 records, rejected 2 requests, last batch " in line
    assert part["last_batch"] in line
