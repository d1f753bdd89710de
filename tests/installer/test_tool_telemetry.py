"""`aitally install --configure-tools` points the tools' own telemetry at the receiver, keeps
every other setting, comment and the person's endpoint; `aitally uninstall` restores the files
byte for byte. The real command line, run as a child process, on real files."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest

from aitally.core import otlp_routes
from aitally.installer import tool_telemetry
from aitally.installer.tool_telemetry import CONFIGURED, MANUAL, SKIPPED, UNCHANGED
from tests.conftest import aitally_cmd

CLAUDE = """{
    "model": "opus",
    "permissions": {"allow": ["Bash(ls)"]},
    "env": {
        "FOO": "bar",
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector.example:4318",
        "OTEL_EXPORTER_OTLP_HEADERS": "api-key=s%3Dcret,x-team=a"
    }
}"""
GEMINI = """{
  "theme": "Dracula",
  "telemetry": {"enabled": true, "otlpEndpoint": "http://gem.example:4318", "otlpProtocol": "http"}
}
"""
CODEX = """# my codex config
model = "gpt-5"   # the one I use

[otel]
environment = "prod"

[otel.exporter.otlp-http]
endpoint = "https://otel.example/v1/logs"
protocol = "json"
headers = { "x-key" = "k1" }

[profiles.fast]
model = "gpt-5-mini"
"""


@pytest.fixture
def tools(home: Path) -> dict[str, Path]:
    """The three tools installed, each with a settings file of the person's own."""
    files = {
        "claude-code": home / ".claude" / "settings.json",
        "gemini-cli": home / ".gemini" / "settings.json",
        "codex": home / ".codex" / "config.toml",
    }
    for path, text in zip(files.values(), (CLAUDE, GEMINI, CODEX), strict=True):
        path.parent.mkdir(parents=True)
        path.write_text(text)
        path.chmod(0o644)
    return files


def cli(*args: str) -> dict[str, object]:
    done = subprocess.run(
        aitally_cmd(*args, "--allow-root", "--json"), capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 0, done.stderr
    out: dict[str, object] = json.loads(done.stdout)
    return out


def _by_tool(answer: dict[str, object]) -> dict[str, dict[str, str]]:
    return {t["tool"]: t for t in answer["tools"]}  # type: ignore[attr-defined]


def test_install_points_tools_at_receiver_and_uninstall_restores_bytes(
    tools: dict[str, Path], isolated_env: Path
) -> None:
    before = {t: (p.read_bytes(), stat.S_IMODE(p.stat().st_mode)) for t, p in tools.items()}
    outcome = _by_tool(cli("install", "--no-start", "--configure-tools"))
    assert {t: o["status"] for t, o in outcome.items()} == {
        "claude-code": CONFIGURED,
        "gemini-cli": CONFIGURED,
        "codex": CONFIGURED,
        "copilot-cli": MANUAL,
    }
    secret = (isolated_env / "otlp_token").read_text().strip()
    base = "http://127.0.0.1:43180"

    claude = json.loads(tools["claude-code"].read_text())
    assert claude["model"] == "opus" and claude["permissions"] == {"allow": ["Bash(ls)"]}
    assert claude["env"]["FOO"] == "bar"
    assert claude["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"{base}/claude-code"
    assert claude["env"]["OTEL_EXPORTER_OTLP_HEADERS"] == f"x-aitally-token={secret}"
    assert claude["env"]["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/json"  # theirs was JSON
    assert tools["claude-code"].read_text().startswith('{\n    "model"')  # their indentation

    gemini = json.loads(tools["gemini-cli"].read_text())["telemetry"]
    assert gemini["logPrompts"] is False and gemini["otlpProtocol"] == "http"
    assert gemini["otlpEndpoint"] == f"{base}/gemini-cli/k/{secret}"

    codex_text = tools["codex"].read_text()
    assert "# my codex config" in codex_text and "# the one I use" in codex_text
    codex = tomllib.loads(codex_text)
    assert codex["profiles"] == {"fast": {"model": "gpt-5-mini"}}
    assert codex["otel"]["environment"] == "prod" and codex["otel"]["log_user_prompt"] is False
    http = codex["otel"]["exporter"]["otlp-http"]
    assert http == {
        "endpoint": f"{base}/codex/v1/logs",
        "protocol": "json",
        "headers": {"x-aitally-token": secret},
    }
    for path in tools.values():  # they now hold the token: the owner alone reads them
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    upstreams = otlp_routes.read_upstreams(isolated_env)
    assert upstreams["claude-code"].urls["logs"] == "http://collector.example:4318/v1/logs"
    assert upstreams["claude-code"].headers == {"api-key": "s=cret", "x-team": "a"}
    assert upstreams["gemini-cli"].urls["traces"] == "http://gem.example:4318/v1/traces"
    assert upstreams["codex"].urls == {"logs": "https://otel.example/v1/logs"}
    assert upstreams["codex"].headers == {"x-key": "k1"}
    config = tomllib.loads(Path(os.environ["AITALLY_CONFIG"]).read_text())
    assert config["otlp_receiver"]["enabled"] is True

    again = _by_tool(cli("install", "--no-start", "--configure-tools"))
    assert {again[t]["status"] for t in tools} == {UNCHANGED}

    removed = _by_tool(cli("uninstall"))
    assert set(removed) == set(tools)
    after = {t: (p.read_bytes(), stat.S_IMODE(p.stat().st_mode)) for t, p in tools.items()}
    assert after == before
    assert not (isolated_env / otlp_routes.UPSTREAMS_FILE).exists()
    assert not (isolated_env / tool_telemetry.BACKUP_FILE).exists()


def test_a_file_changed_since_install_gets_only_its_keys_back(
    tools: dict[str, Path], isolated_env: Path
) -> None:
    cli("install", "--no-start", "--configure-tools")
    changed = json.loads(tools["claude-code"].read_text())
    changed["theme"] = "dark"  # the person's own change after install
    tools["claude-code"].write_text(json.dumps(changed))
    cli("uninstall")
    restored = json.loads(tools["claude-code"].read_text())
    assert restored["theme"] == "dark"
    assert restored["env"] == json.loads(CLAUDE)["env"]


def test_new_file_is_removed_and_missing_tool_untouched(home: Path, isolated_env: Path) -> None:
    (home / ".claude").mkdir()
    outcome = tool_telemetry.configure(43180, "tok", isolated_env, home, {})
    statuses = {o.tool: o.status for o in outcome}
    assert statuses["claude-code"] == CONFIGURED
    assert statuses["gemini-cli"] == SKIPPED and not (home / ".gemini").exists()
    env = json.loads((home / ".claude" / "settings.json").read_text())["env"]
    assert env["CLAUDE_CODE_ENABLE_TELEMETRY"] == "1" and env["OTEL_LOGS_EXPORTER"] == "otlp"
    assert "claude-code" not in otlp_routes.read_upstreams(isolated_env)  # none to forward to
    tool_telemetry.restore(isolated_env)
    assert sorted(p.name for p in (home / ".claude").iterdir()) == []


@pytest.mark.parametrize(
    ("tool", "text", "why"),
    [
        (
            "claude-code",
            '{"env": {"OTEL_LOGS_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}}',
            "gRPC",
        ),
        ("gemini-cli", '{"telemetry": {"enabled": true, "target": "gcp"}}', "Google Cloud"),
        ("gemini-cli", '{"telemetry": {"enabled": true}}', "gRPC"),  # its default protocol
        ("gemini-cli", '{// my comment\n"theme": "x"}', "plain JSON"),
        ("codex", '[otel]\nexporter = { otlp-grpc = { endpoint = "http://x:4317" } }\n', "gRPC"),
        ("codex", "model = [", "not valid TOML"),
    ],
)
def test_setups_the_receiver_cannot_stand_in_for_are_left_alone(
    home: Path, isolated_env: Path, tool: str, text: str, why: str
) -> None:
    path = tool_telemetry.settings_files(home, {})[tool]
    path.parent.mkdir(parents=True)
    path.write_text(text)
    outcome = {o.tool: o for o in tool_telemetry.configure(43180, "t", isolated_env, home, {})}
    assert outcome[tool].status == SKIPPED and why in outcome[tool].detail
    assert path.read_text() == text
    assert tool_telemetry.configured_tools(isolated_env) == {}


def test_settings_folders_from_the_tools_variables(home: Path, tmp_path: Path) -> None:
    env = {"CLAUDE_CONFIG_DIR": f"{tmp_path}/c1,{tmp_path}/c2", "CODEX_HOME": str(tmp_path / "x")}
    files = tool_telemetry.settings_files(home, env)
    assert files["claude-code"] == tmp_path / "c1" / "settings.json"
    assert files["codex"] == tmp_path / "x" / "config.toml"


def test_doctor_says_whether_each_tools_telemetry_arrives(
    tools: dict[str, Path], isolated_env: Path
) -> None:
    from aitally.agent.doctor_tool_telemetry import tool_checks
    from aitally.collectors.otlp.status import last_batch_key
    from aitally.core.store import Store

    cli("install", "--no-start", "--configure-tools")
    store = Store(isolated_env / "aitally.db")
    store.kv_set(last_batch_key("claude-code"), "1000000000.0")
    store.kv_set(last_batch_key("copilot-cli"), "1000000000.0")
    store.close()
    checks = {c.name: c for c in tool_checks(43180, now=1000000060.0)}
    assert checks["otlp claude-code"].status == "ok"
    assert checks["otlp copilot-cli"].status == "ok"  # configured by hand, and arriving
    assert checks["otlp gemini-cli"].status == "warn"
    assert "none yet" in checks["otlp gemini-cli"].detail
    assert checks["otlp codex"].status == "warn"
    tools["codex"].write_text("[otel]\n")  # the person took it back
    codex = {c.name: c for c in tool_checks(43180)}["otlp codex"]
    assert "no longer points" in codex.detail and "--configure-tools" in codex.fix
    stale = {c.name: c for c in tool_checks(43180, now=1000000000.0 + 2 * 86400)}
    assert (
        stale["otlp claude-code"].status == "warn"
        and "none since" in stale["otlp claude-code"].detail
    )


def test_install_restarts_a_running_agent_so_the_receiver_listens(
    tools: dict[str, Path], isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agent ran before the receiver was turned on; after install one listens where the
    tools' settings now send (real processes; the XDG autostart path when no user systemd)."""
    import http.client
    import time

    from aitally.installer import _linux
    from aitally.installer.service import run_command, stop_running_agent

    if _linux.manager_running(run_command):
        pytest.skip("a user systemd manager runs here; this covers the XDG path")
    import socket
    import threading

    with socket.socket() as s:  # a free port: other agents on this machine may hold 43180
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AITALLY_OTLP_RECEIVER_PORT", str(port))
    old = subprocess.Popen(aitally_cmd("run"), stderr=subprocess.DEVNULL)
    # Reaped as soon as it exits, as its service manager would: install waits for it to go.
    reaper = threading.Thread(target=old.wait, daemon=True)
    reaper.start()
    try:
        deadline = time.monotonic() + 20
        while not (isolated_env / "agent.lock").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        answer = cli("install", "--configure-tools")
        reaper.join(20)
        assert old.returncode == 0  # stopped, cleanly
        endpoint = json.loads(tools["claude-code"].read_text())["env"]
        secret = endpoint["OTEL_EXPORTER_OTLP_HEADERS"].split("=", 1)[1]
        status = 0
        while status != 200 and time.monotonic() < deadline + 20:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request(
                    "POST",
                    "/claude-code/v1/logs",
                    b"{}",
                    {"Content-Type": "application/json", "x-aitally-token": secret},
                )
                status = conn.getresponse().status
                conn.close()
            except OSError:
                time.sleep(0.2)
        assert status == 200, answer
    finally:
        if old.poll() is None:
            old.kill()
        stop_running_agent()
        cli("uninstall")
