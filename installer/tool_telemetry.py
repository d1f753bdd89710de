"""Points each installed AI tool's own telemetry at the agent's OTLP receiver, and back.

`aitally install --configure-tools` (or `[otlp_receiver] configure_tools = true` in managed
policy) changes each tool's user-level settings file, and nothing else in it:
- Claude Code, `env` of settings.json: telemetry on, logs exported as OTLP/HTTP to
  `http://127.0.0.1:<port>/claude-code` with the per-user token as a header;
- Gemini CLI, `telemetry` of settings.json: `enabled`, `target = local`, `otlpProtocol = http`,
  `otlpEndpoint` carrying the token in its path (Gemini CLI sends no custom headers), and
  `logPrompts = false` (its default is true);
- Codex, `[otel]` of config.toml: an `otlp-http` exporter with the token header, and
  `log_user_prompt = false`.
Copilot CLI has no user-level settings file for telemetry (environment variables or IT's
managed settings only), so it is reported with the variables to set, not changed.

The endpoint a person already had is saved (core/otlp_routes.py) and the receiver forwards to it
unchanged; a setup the receiver cannot stand in for (gRPC, Google Cloud, a file) is left alone
and reported. The original bytes and mode of every changed file are kept in the data folder;
uninstall writes them back exactly, or, if the person changed the file since, puts back only the
keys install set.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from aitally.core import otlp_routes
from aitally.core.errors import ConfigError
from aitally.core.otlp_routes import SIGNALS, TOKEN_HEADER, Upstream
from aitally.installer import tool_settings_doc
from aitally.installer.tool_settings_doc import MISSING, KeyPath, SettingsDoc

BACKUP_FILE: Final = "tool_settings_backup.json"
HOST: Final = "127.0.0.1"
CONFIGURED, UNCHANGED, SKIPPED, MANUAL = "configured", "unchanged", "skipped", "manual"


class Refused(Exception):
    """A tool's current telemetry setup that the receiver cannot stand in for."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What install or uninstall did to one tool: `status` and a one-line `detail`."""

    tool: str
    status: str
    detail: str

    def as_json(self) -> dict[str, str]:
        """The outcome as `aitally install --json` and `uninstall --json` list it."""
        return {"tool": self.tool, "status": self.status, "detail": self.detail}


@dataclass(slots=True)
class Plan:
    """The values to set in one tool's file, and the person's endpoint to forward to."""

    edits: dict[KeyPath, Any] = field(default_factory=dict)
    upstream: Upstream | None = None


def settings_files(home: Path, env: Mapping[str, str]) -> dict[str, Path]:
    """Each configurable tool's user-level settings file (CLAUDE_CONFIG_DIR, CODEX_HOME)."""
    claude = env.get("CLAUDE_CONFIG_DIR", "").split(",")[0].strip()
    codex = env.get("CODEX_HOME", "").split(",")[0].strip()
    return {
        "claude-code": (Path(claude).expanduser() if claude else home / ".claude")
        / "settings.json",
        "gemini-cli": home / ".gemini" / "settings.json",
        "codex": (Path(codex).expanduser() if codex else home / ".codex") / "config.toml",
    }


def _signal_urls(base: str | None, per_signal: Mapping[str, str | None]) -> dict[str, str]:
    """OTLP/HTTP's rule: a per-signal endpoint is used as is, the base gets `/v1/<signal>`."""
    urls = {s: u for s, u in per_signal.items() if u}
    if base:
        for s in SIGNALS:
            urls.setdefault(s, base.rstrip("/") + f"/v1/{s}")
    return urls


def _headers(value: Any) -> dict[str, str]:
    """OTEL_EXPORTER_OTLP_HEADERS (`k=v,k2=v2`, values percent-encoded) as a dict."""
    out: dict[str, str] = {}
    for part in str(value or "").split(","):
        key, sep, val = part.partition("=")
        if sep and key.strip():
            out[key.strip()] = urllib.parse.unquote(val.strip())
    return out


def _claude_code(doc: SettingsDoc, base: str, token: str) -> Plan:
    env = doc.get(("env",))
    env = env if isinstance(env, dict) else {}
    var = "OTEL_EXPORTER_OTLP_{}{}".format
    scopes = {s: s.upper() + "_" for s in SIGNALS}
    exporting = env.get("OTEL_LOGS_EXPORTER") == "otlp" or env.get("OTEL_METRICS_EXPORTER") == (
        "otlp"
    )
    protocols = {env.get(var(scope, "PROTOCOL")) for scope in ["", *scopes.values()]}
    if exporting and "grpc" in protocols:
        raise Refused("exports OTLP over gRPC; the receiver takes OTLP/HTTP only")
    plan = Plan()
    if exporting:
        urls = _signal_urls(
            env.get(var("", "ENDPOINT")),
            {s: env.get(var(scope, "ENDPOINT")) for s, scope in scopes.items()},
        )
        headers = _headers(env.get(var("", "HEADERS")))
        if urls:
            plan.upstream = Upstream(urls, headers)
    ours = base + otlp_routes.prefix("claude-code")
    protocol = "http/json" if "http/json" in protocols else "http/protobuf"
    plan.edits = {
        ("env", "CLAUDE_CODE_ENABLE_TELEMETRY"): "1",
        ("env", "OTEL_LOGS_EXPORTER"): "otlp",
        ("env", var("", "PROTOCOL")): protocol,
        ("env", var("", "ENDPOINT")): ours,
        ("env", var("", "HEADERS")): f"{TOKEN_HEADER}={token}",
    }
    for signal, scope in scopes.items():  # a per-signal value would win over ours
        for what, value in (
            ("ENDPOINT", f"{ours}/v1/{signal}"),
            ("HEADERS", f"{TOKEN_HEADER}={token}"),
            ("PROTOCOL", protocol),
        ):
            if var(scope, what) in env:
                plan.edits[("env", var(scope, what))] = value
    return plan


def _gemini_cli(doc: SettingsDoc, base: str, token: str) -> Plan:
    telemetry = doc.get(("telemetry",))
    telemetry = telemetry if isinstance(telemetry, dict) else {}
    plan = Plan()
    if telemetry.get("enabled"):
        if telemetry.get("target") == "gcp":
            raise Refused("exports to Google Cloud; the receiver cannot forward there")
        if telemetry.get("outfile"):
            raise Refused("writes its telemetry to a file (telemetry.outfile)")
        if telemetry.get("otlpProtocol", "grpc") != "http":
            raise Refused("exports OTLP over gRPC; the receiver takes OTLP/HTTP only")
        if telemetry.get("otlpEndpoint"):
            plan.upstream = Upstream(_signal_urls(str(telemetry["otlpEndpoint"]), {}))
    values = {
        "enabled": True,
        "target": "local",
        "otlpEndpoint": base + otlp_routes.prefix("gemini-cli", token),
        "otlpProtocol": "http",
        "logPrompts": False,
    }
    plan.edits = {("telemetry", k): v for k, v in values.items()}
    return plan


def _codex(doc: SettingsDoc, base: str, token: str) -> Plan:
    exporter = doc.get(("otel", "exporter"))
    plan = Plan()
    if isinstance(exporter, dict) and "otlp-grpc" in exporter:
        raise Refused("exports OTLP over gRPC; the receiver takes OTLP/HTTP only")
    protocol = "binary"
    if isinstance(exporter, dict) and isinstance(exporter.get("otlp-http"), dict):
        theirs = exporter["otlp-http"]
        protocol = "json" if theirs.get("protocol") == "json" else "binary"
        if theirs.get("endpoint"):  # Codex posts its logs to this URL as it is
            headers = theirs.get("headers")
            plan.upstream = Upstream(
                {"logs": str(theirs["endpoint"])},
                {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {},
            )
    url = base + otlp_routes.prefix("codex") + "/v1/logs"
    plan.edits = {
        ("otel", "exporter"): {
            "otlp-http": {"endpoint": url, "protocol": protocol, "headers": {TOKEN_HEADER: token}}
        },
        ("otel", "log_user_prompt"): False,
    }
    return plan


PLANNERS: Final[dict[str, Callable[[SettingsDoc, str, str], Plan]]] = {
    "claude-code": _claude_code,
    "gemini-cli": _gemini_cli,
    "codex": _codex,
}


def copilot_cli_variables(port: int, token: str) -> dict[str, str]:
    """What Copilot CLI needs in its environment (it has no user-level telemetry settings)."""
    return {
        "COPILOT_OTEL_ENABLED": "true",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{HOST}:{port}" + otlp_routes.prefix("copilot-cli"),
        "OTEL_EXPORTER_OTLP_HEADERS": f"{TOKEN_HEADER}={token}",
    }


def _or_none(value: Any) -> Any:
    return None if value is MISSING else value


def _digest(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def _replace(path: Path, data: bytes, mode: int) -> None:
    """Atomic write; the temporary file has `mode` from its creation (it may hold a token)."""
    tmp = path.with_name(path.name + ".aitally-tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, mode)  # the umask may have narrowed it
    os.replace(tmp, path)


def _load_backup(data_dir: Path) -> dict[str, Any]:
    try:
        saved = json.loads((data_dir / BACKUP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return saved if isinstance(saved, dict) else {}


def _save_backup(data_dir: Path, backup: dict[str, Any]) -> None:
    path = data_dir / BACKUP_FILE
    if not backup:
        path.unlink(missing_ok=True)
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    _replace(path, json.dumps(backup, indent=2).encode(), 0o600)


def configure(
    port: int, token: str, data_dir: Path, home: Path, env: Mapping[str, str]
) -> list[Outcome]:
    """Points every installed tool at the receiver on `port`; one outcome per tool."""
    base = f"http://{HOST}:{port}"
    backup = _load_backup(data_dir)
    upstreams = otlp_routes.read_upstreams(data_dir)
    outcomes: list[Outcome] = []
    for tool, path in settings_files(home, env).items():
        if not path.parent.is_dir():
            outcomes.append(Outcome(tool, SKIPPED, f"not installed ({path.parent} not found)"))
            continue
        data = _read(path)
        try:
            doc = tool_settings_doc.load(path, data)
            plan = PLANNERS[tool](doc, base, token)
        except (Refused, ConfigError) as exc:
            outcomes.append(Outcome(tool, SKIPPED, f"{path}: {exc}; left unchanged"))
            continue
        saved = backup.get(tool)
        if saved is None:  # the first install keeps the person's file and values
            saved = {
                "path": str(path),
                "original": None if data is None else base64.b64encode(data).decode(),
                "mode": None if data is None else path.stat().st_mode & 0o7777,
                # null: the file had no such key (uninstall then deletes it)
                "previous": [[list(k), _or_none(doc.get(k))] for k in plan.edits],
            }
            if plan.upstream is not None:
                upstreams[tool] = plan.upstream
        for keys, value in plan.edits.items():
            doc.set(keys, value)
        new = doc.render().encode("utf-8")
        if new == data:
            outcomes.append(Outcome(tool, UNCHANGED, f"{path} already points at {base}"))
            continue
        _replace(path, new, 0o600)  # it now holds the token: its owner alone reads it
        saved["written"] = _digest(new)
        backup[tool] = saved
        detail = f"{path} -> {base}"
        if tool in upstreams:
            detail += f"; forwards to {', '.join(sorted(set(upstreams[tool].urls.values())))}"
        outcomes.append(Outcome(tool, CONFIGURED, detail))
    variables = " ".join(f"{k}={v}" for k, v in copilot_cli_variables(port, "<token>").items())
    outcomes.append(
        Outcome(
            "copilot-cli",
            MANUAL,
            f"no user settings file for telemetry: set {variables} (token in "
            f"{data_dir / 'otlp_token'}), or IT's managed-settings.json `telemetry`",
        )
    )
    otlp_routes.write_upstreams(data_dir, upstreams)
    _save_backup(data_dir, backup)
    return outcomes


def _put_back_keys(path: Path, data: bytes, previous: list[Any]) -> None:
    doc = tool_settings_doc.load(path, data)
    for keys, value in previous:
        if value is None:
            doc.delete(tuple(keys))
        else:
            doc.set(tuple(keys), value)
    _replace(path, doc.render().encode("utf-8"), path.stat().st_mode & 0o7777)


def restore(data_dir: Path) -> list[Outcome]:
    """Undoes `configure`: the files' own bytes and modes, or the keys when changed since."""
    backup = _load_backup(data_dir)
    upstreams = otlp_routes.read_upstreams(data_dir)
    outcomes: list[Outcome] = []
    for tool, saved in list(backup.items()):
        path = Path(saved["path"])
        data = _read(path)
        original = None if saved["original"] is None else base64.b64decode(saved["original"])
        try:
            if data is None:
                detail = f"{path} is gone; nothing to restore"
            elif _digest(data) == saved.get("written"):
                if original is None:
                    path.unlink()
                    detail = f"removed {path} (install created it)"
                else:
                    _replace(path, original, int(saved["mode"]))
                    detail = f"restored {path} as it was"
            else:
                _put_back_keys(path, data, saved["previous"])
                detail = f"{path} changed since install: put back only the keys aitally set"
        except (OSError, ConfigError) as exc:
            outcomes.append(Outcome(tool, SKIPPED, f"{path}: {exc}; restore it by hand"))
            continue
        del backup[tool]
        upstreams.pop(tool, None)
        outcomes.append(Outcome(tool, CONFIGURED, detail))
    otlp_routes.write_upstreams(data_dir, upstreams)
    _save_backup(data_dir, backup)
    return outcomes


def configured_tools(data_dir: Path) -> dict[str, Path]:
    """The tools install pointed at the receiver and has not restored yet, with their files."""
    return {tool: Path(saved["path"]) for tool, saved in _load_backup(data_dir).items()}


def still_points_here(tool: str, path: Path, port: int) -> bool:
    """Whether the tool's file still sends to the receiver on `port` (the person may have
    changed it since install)."""
    try:
        doc = tool_settings_doc.load(path, _read(path))
    except ConfigError:
        return False
    if tool == "claude-code":
        value = doc.get(("env", "OTEL_EXPORTER_OTLP_ENDPOINT"))
    elif tool == "gemini-cli":
        value = doc.get(("telemetry", "otlpEndpoint"))
    else:
        value = doc.get(("otel", "exporter", "otlp-http", "endpoint"))
    return isinstance(value, str) and value.startswith(f"http://{HOST}:{port}/{tool}")
