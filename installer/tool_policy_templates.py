"""The AI tools' own managed settings that go with aitally's receiver, for IT to deploy
(`aitally policy template --format tools --output DIR`; docs/tool-telemetry.md).

A machine-wide file cannot hold each user's receiver token, so what each tool's managed file
can carry differs:
- Claude Code's managed-settings.json turns telemetry on, points it at the receiver and gets the
  token header from each user's `aitally otlp-headers` (its `otelHeadersHelper` runs a command
  as the user and reads a JSON object of headers);
- Gemini CLI's system settings and Codex's managed config enforce the content-free switches
  (`logPrompts: false`, `log_user_prompt = false`); the endpoint, which carries the token, is
  written into each user's own file by `aitally install` under `[otlp_receiver]
  configure_tools = true` in aitally's managed policy;
- Copilot's managed-settings.json turns content capture off and locks it.
"""

from __future__ import annotations

import json
from typing import Any

from aitally.core import otlp_routes
from aitally.core.config_schema import SCHEMA
from aitally.installer.tool_telemetry import HOST

HEADERS_COMMAND = "aitally otlp-headers"


def _port() -> int:
    return int(SCHEMA["otlp_receiver"]["port"].default)


def claude_code() -> dict[str, Any]:
    """/etc/claude-code/managed-settings.json (macOS: /Library/Application Support/ClaudeCode/,
    Windows: C:\\ProgramData\\ClaudeCode\\)."""
    return {
        "env": {
            "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
            "OTEL_LOGS_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{HOST}:{_port()}"
            + otlp_routes.prefix("claude-code"),
            "OTEL_LOG_USER_PROMPTS": "0",
            "OTEL_LOG_TOOL_DETAILS": "0",
        },
        "otelHeadersHelper": HEADERS_COMMAND,
    }


def gemini_cli() -> dict[str, Any]:
    """/etc/gemini-cli/settings.json (system settings win over the user's, key by key)."""
    return {"telemetry": {"logPrompts": False}}


def codex() -> str:
    """/etc/codex/managed_config.toml."""
    return "# aitally: Codex never puts prompts in its telemetry\n[otel]\nlog_user_prompt = false\n"


def copilot() -> dict[str, Any]:
    """Copilot's managed-settings.json (file, MDM or server-managed)."""
    return {"telemetry": {"captureContent": False, "lockCaptureContent": True}}


def render() -> dict[str, bytes]:
    """File name -> content, one folder per tool."""

    def dump(data: dict[str, Any]) -> bytes:
        return (json.dumps(data, indent=2) + "\n").encode()

    return {
        "claude-code/managed-settings.json": dump(claude_code()),
        "gemini-cli/settings.json": dump(gemini_cli()),
        "codex/managed_config.toml": codex().encode(),
        "copilot/managed-settings.json": dump(copilot()),
    }
