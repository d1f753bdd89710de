"""IT's managed settings for the tools: Claude Code's reach the receiver with each user's token
(through `aitally otlp-headers`, run as that user), the others enforce the content-free keys."""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path

from aitally.collectors.otlp import receiver as rx
from aitally.core.sessionizer import Sessionizer
from aitally.core.store import Store
from aitally.installer import tool_policy_templates, tool_telemetry
from tests.collectors.otlp.helpers import recorded_logs
from tests.conftest import aitally_cmd


def test_templates_point_where_install_points_and_keep_content_off(
    home: Path, isolated_env: Path
) -> None:
    files = tool_policy_templates.render()
    claude = json.loads(files["claude-code/managed-settings.json"])
    (home / ".claude").mkdir()
    tool_telemetry.configure(43180, "t", isolated_env, home, {})
    user = json.loads((home / ".claude" / "settings.json").read_text())["env"]
    assert claude["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == user["OTEL_EXPORTER_OTLP_ENDPOINT"]
    assert claude["env"]["OTEL_LOG_USER_PROMPTS"] == "0"
    assert claude["otelHeadersHelper"] == "aitally otlp-headers"
    assert json.loads(files["gemini-cli/settings.json"])["telemetry"]["logPrompts"] is False
    codex = tomllib.loads(files["codex/managed_config.toml"].decode())
    assert codex["otel"]["log_user_prompt"] is False
    copilot = json.loads(files["copilot/managed-settings.json"])["telemetry"]
    assert copilot == {"captureContent": False, "lockCaptureContent": True}


def test_otlp_headers_prints_the_token_the_receiver_accepts(isolated_env: Path) -> None:
    isolated_env.mkdir(parents=True, exist_ok=True)
    store = Store(isolated_env / "aitally.db")
    receiver = rx.OtlpCollector(store, Sessionizer(store), 0, isolated_env)
    receiver.start()
    try:
        _post_with_printed_headers(receiver)
    finally:
        receiver.stop()
        store.close()


def _post_with_printed_headers(receiver: rx.OtlpCollector) -> None:
    import http.client

    done = subprocess.run(aitally_cmd("otlp-headers"), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    headers = json.loads(done.stdout)
    assert list(headers) == ["x-aitally-token"]
    assert receiver.receiver is not None
    conn = http.client.HTTPConnection("127.0.0.1", receiver.receiver.port, timeout=10)
    conn.request(
        "POST",
        "/claude-code/v1/logs",
        body=recorded_logs(),
        headers={"Content-Type": "application/json", **headers},
    )
    assert conn.getresponse().status == 200
    conn.close()
