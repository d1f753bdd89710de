"""Every configuration key aitally knows: its type, default, allowed values and meaning."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aitally.core import wire
from aitally.core.wire import TOOL_PATTERN


@dataclass(frozen=True, slots=True)
class Key:
    type: type
    default: Any
    help: str
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    url: bool = False  # empty, or http(s)://...: a bare host name would fail at every upload
    # Tables of lists: patterns every key and every list item must match (None: any string).
    key_pattern: str | None = None
    item_pattern: str | None = None

    def allowed(self) -> str:
        if self.url:
            return 'an http:// or https:// URL, or "" for none'
        if self.key_pattern or self.item_pattern:
            return "a table: tool id (a slug) to a list of host names (no scheme, port or path)"
        if self.choices and self.type is list:
            return "a list of " + ", ".join(repr(c) for c in self.choices)
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        kind = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
        text = kind.get(self.type, "a list of strings" if self.type is list else "a table")
        if self.minimum is not None and self.maximum is not None:
            text += f" from {_number(self.minimum)} to {_number(self.maximum)}"
        elif self.minimum is not None:
            text += f" >= {_number(self.minimum)}"
        return text


def _number(value: float) -> str:
    # Exact, never 1.04858e+06: people copy these bounds into their files.
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


MiB = 1024 * 1024
# A host name as browser.extra_hosts takes it: no scheme, port or path.
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
HOST_PATTERN = rf"^{_LABEL}(\.{_LABEL})*$"
# The browsers whose history the browser collector reads (collectors/browser/profiles.py).
BROWSERS = ("chrome", "chromium", "edge", "brave", "vivaldi", "firefox", "safari")
PRIVACY_LEVELS = wire.PRIVACY_LEVELS

# Defaults, with the reason for each number.
SCHEMA: dict[str, dict[str, Key]] = {
    "agent": {
        # ActivityWatch polls AFK every 5 s; a warm scan costs ~1 us per process.
        "scan_interval": Key(float, 5.0, "seconds between process scans", minimum=0.2, maximum=600),
        # WakaTime's keystroke timeout: a longer gap ends a segment.
        "idle_timeout": Key(
            float, 900.0, "seconds of no activity that end a segment", minimum=10, maximum=86400
        ),
        # A process burning this share of one core between scans counts as in use.
        "cpu_active_threshold": Key(
            float, 0.02, "share of a core that counts as activity", minimum=0.0, maximum=1.0
        ),
        "log_level": Key(
            str, "info", "log verbosity", choices=("debug", "info", "warning", "error")
        ),
        "backfill_days": Key(
            int, 30, "days of existing tool history read on first start", minimum=0, maximum=3650
        ),
        "paused_allowed": Key(bool, True, "whether the engineer may pause collection"),
        # Two agents of one user side by side (test suites on one machine) each count only the
        # tool processes started with their value in AITALLY_AGENT_PROCESS_SCOPE.
        "process_scope": Key(
            str,
            "",
            "count only tool processes whose AITALLY_AGENT_PROCESS_SCOPE is this; empty: all",
        ),
    },
    "store": {
        "max_bytes": Key(int, 256 * MiB, "size bound of the local store", minimum=MiB),
        "max_age_days": Key(int, 90, "records older than this are dropped (counted)", minimum=1),
    },
    "upload": {
        "endpoint": Key(str, "", "ingest service base URL; empty: keep everything local", url=True),
        "interval": Key(float, 300.0, "seconds between uploads (jittered)", minimum=1),
        "jitter": Key(float, 0.2, "relative jitter of the upload interval", minimum=0, maximum=1),
        "batch_max_records": Key(int, 500, "records per batch", minimum=1, maximum=5000),
        "batch_max_bytes": Key(
            int, MiB, "bytes per batch before gzip", minimum=1024, maximum=5 * MiB
        ),
        "connect_timeout": Key(float, 10.0, "seconds to connect", minimum=0.1),
        "read_timeout": Key(float, 30.0, "seconds to wait for an answer", minimum=0.1),
        "verify_tls": Key(bool, True, "verify the server certificate (never disable in fleets)"),
        "allow_http": Key(
            bool, False, "allow a plain http:// endpoint beyond loopback (never in fleets)"
        ),
        "ca_bundle": Key(str, "", "extra CA bundle file for TLS-intercepting proxies"),
        "proxy": Key(str, "", "HTTP(S) proxy URL; empty: the environment's"),
        "otlp_endpoint": Key(
            str,
            "",
            "OTLP/HTTP logs endpoint (…/v1/logs); empty: OTEL_EXPORTER_OTLP_*ENDPOINT, else off",
            url=True,
        ),
        "otlp_headers": Key(
            str, "", "headers for the OTLP endpoint, `k=v,k2=v2` (OTEL_EXPORTER_OTLP_HEADERS form)"
        ),
        # Managed policy can keep a variable in someone's environment from starting an export.
        "otlp_from_env": Key(bool, True, "honour the standard OTEL_EXPORTER_OTLP_* variables"),
        # A fleet's MDM sets it in managed policy, so every user's agent enrolls itself once
        # (a token belongs to one user's keyring, which a root install cannot reach).
        "enroll_secret": Key(str, "", "enroll secret for automatic enrollment (managed policy)"),
        # OTel Collector starts its backoff at 5 s; capped at 15 min, and never giving up.
        "backoff_base": Key(float, 5.0, "first retry delay in seconds", minimum=0.01),
        "backoff_max": Key(float, 900.0, "longest retry delay in seconds", minimum=0.01),
        # A server's Retry-After is honoured up to an hour (PostHog/OTel clamp it too), so a
        # wrong header can never silence a laptop for days.
        "retry_after_max": Key(float, 3600.0, "longest Retry-After honoured", minimum=1),
        # PostHog 1 s, Sentry 2 s: the request in flight may finish, the rest stays queued.
        "shutdown_grace": Key(float, 2.0, "seconds to finish a request on stop", minimum=0),
    },
    "privacy": {
        "level": Key(
            str, "pseudonymous", "what identifies people in uploads", choices=PRIVACY_LEVELS
        ),
        "allow_stricter": Key(bool, True, "whether the engineer may choose a stricter level"),
        "org_key": Key(str, "", "organisation HMAC key for pseudonyms (managed policy)"),
        "org_key_id": Key(str, "default", "identifier of the org key, for rotation"),
        "org_unit": Key(str, "", "org unit reported with records (managed policy)"),
        "send_projects": Key(bool, True, "send keyed project hashes"),
    },
    "collectors": {
        "disabled_tools": Key(list, [], "tool ids not to collect"),
        "extra_roots": Key(dict, {}, "tool id -> extra data folders to watch"),
        "polling": Key(bool, False, "use the polling file watcher everywhere"),
        "git_commits": Key(
            bool, True, "count commits with AI in the git repositories sessions work in"
        ),
        # A person often commits the work once the tool is done: half an hour after a session's
        # last activity still counts for it (its upload waits that long).
        "git_after": Key(
            float,
            1800.0,
            "seconds after a session's end in which its repository's commits still count",
            minimum=0,
            maximum=86400,
        ),
    },
    "browser": {
        "enabled": Key(bool, True, "read browser history for visits to AI services (host only)"),
        "browsers": Key(list, list(BROWSERS), "browsers whose history is read", choices=BROWSERS),
        "extra_hosts": Key(
            dict,
            {},
            "tool id -> extra host names (internal AI portals)",
            key_pattern=TOOL_PATTERN,
            item_pattern=HOST_PATTERN,
        ),
        "extra_roots": Key(
            dict, {}, "browser -> extra profile folders (Chromium user data dirs, Firefox profiles)"
        ),
        # A History file changes on every page load; a minute keeps the copy's cost negligible
        # while a web session still shows within a minute or two.
        "poll_interval": Key(
            float, 60.0, "seconds between reads of the browsers' history", minimum=1, maximum=3600
        ),
    },
    "otlp_receiver": {
        # Off until the tools are pointed at it: a listening port nothing sends to is cost and
        # surface for nothing (the tools' settings are the person's or IT's to change).
        "enabled": Key(bool, False, "receive the AI tools' own OpenTelemetry on loopback"),
        # Not 4318, the OTLP default: a person's own collector there keeps its port.
        "port": Key(
            int,
            43180,
            "loopback port of the OTLP/HTTP receiver (0: any free port)",
            minimum=0,
            maximum=65535,
        ),
        # Set in managed policy, every engineer's `aitally install` points the tools there.
        "configure_tools": Key(
            bool,
            False,
            "`aitally install` points Claude Code, Gemini CLI and Codex telemetry at the receiver",
        ),
    },
}
# Values never printed back (config show, doctor): they would let one read others' data.
SECRET_KEYS = frozenset(
    {("privacy", "org_key"), ("upload", "enroll_secret"), ("upload", "otlp_headers")}
)
# [[tools]] entries (IT-added catalog entries) are validated by the catalog loader.
TABLE_ARRAYS = ("tools",)
