"""Where OTLP logs go and with which headers: configuration first, then the standard variables.

The variables are those of the OpenTelemetry exporter specification ("OTLP Exporter
Configuration"): OTEL_EXPORTER_OTLP_LOGS_ENDPOINT is used as it is,
OTEL_EXPORTER_OTLP_ENDPOINT is a base to which `/v1/logs` is appended, and
OTEL_EXPORTER_OTLP_HEADERS / OTEL_EXPORTER_OTLP_LOGS_HEADERS are `key=value` pairs separated
by commas, values percent-decoded, the logs-specific ones winning. `upload.otlp_endpoint` and
`upload.otlp_headers` win over them; `upload.otlp_from_env = false` ignores them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote

from aitally.core.config import Config
from aitally.core.errors import ConfigError


@dataclass(frozen=True)
class OtlpTarget:
    """The logs endpoint ("" when off), its headers, and where the endpoint came from."""

    endpoint: str
    headers: dict[str, str] = field(default_factory=dict)
    origin: str = ""


def parse_headers(value: str, where: str) -> dict[str, str]:
    """`k=v,k2=v2` as the exporter specification writes headers; ConfigError when malformed."""
    headers: dict[str, str] = {}
    for item in value.split(","):
        if not item.strip():
            continue
        key, eq, val = item.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"{where}: {item.strip()!r} is not key=value; fix the value")
        headers[unquote(key.strip())] = unquote(val.strip())
    return headers


def resolve(cfg: Config, env: Mapping[str, str] | None = None) -> OtlpTarget:
    """The OTLP target this configuration and environment give."""
    env = os.environ if env is None else env
    use_env = bool(cfg.get("upload", "otlp_from_env"))
    headers: dict[str, str] = {}
    if use_env:
        for name in ("OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_LOGS_HEADERS"):
            headers.update(parse_headers(env.get(name, ""), name))
    headers.update(parse_headers(cfg.get("upload", "otlp_headers"), "upload.otlp_headers"))
    endpoint = cfg.get("upload", "otlp_endpoint")
    if endpoint:
        return OtlpTarget(endpoint, headers, "upload.otlp_endpoint")
    if use_env and env.get("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", "").strip():
        value = env["OTEL_EXPORTER_OTLP_LOGS_ENDPOINT"].strip()
        return OtlpTarget(value, headers, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")
    if use_env and env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip():
        base = env["OTEL_EXPORTER_OTLP_ENDPOINT"].strip().rstrip("/")
        return OtlpTarget(base + "/v1/logs", headers, "OTEL_EXPORTER_OTLP_ENDPOINT")
    return OtlpTarget("", headers)
