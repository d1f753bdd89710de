"""`python -m tests.realclients.otlp_record`: the clients' own telemetry, recorded for real.

Each client runs a scenario of the harness (runner.py, against the loopback stand-ins) with its
telemetry pointed, by `aitally install`'s own code (installer/tool_telemetry.py; Copilot CLI by
its environment variables), at a loopback OTLP capture that keeps every request body as sent
(protobuf where the client sends it, JSON otherwise; Claude Code once in each). The fixture
folder `tests/fixtures/otlp/<tool>/<version>/<scenario>/` gets the harness's files (`home/`,
`standin-log.jsonl`, `truth.json` with the billed truth) and `otlp/`: one file per request and
`requests.json` (signal, path without the token, content type and encoding, file).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aitally.core import otlp_routes
from aitally.installer import tool_telemetry
from tests.realclients.clients import CLIENTS, Client
from tests.realclients.install import install
from tests.realclients.rewrite import FIXTURE_HOME, Rewriter
from tests.realclients.runner import record
from tests.realclients.scenarios import SCENARIOS, Scenario

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "otlp"
# A fixed token: the recordings must not carry a real secret, and the replay knows it.
TOKEN = "recording-token"
# Planted where the clients would carry them: a resource attribute every OTel SDK reads, and
# the content switches a person might turn on (prompts, tool details): all must stay unread.
ADVERSARIAL = {
    "OTEL_RESOURCE_ATTRIBUTES": "aitally.marker=AITALLY-MARKER-resource-99",
    "OTEL_LOG_USER_PROMPTS": "1",
    "OTEL_LOG_TOOL_DETAILS": "1",
    "COPILOT_OTEL_CAPTURE_CONTENT": "true",
    "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
}
SCRATCH = Path.home() / ".cache" / "aitally-otlp-recording"
SHARED_NPM = Path.home() / ".cache" / "aitally-realclients" / "npm"


class _Capture(ThreadingHTTPServer):
    """The OTLP endpoint the clients export to: keeps each request, answers 200."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Keep)
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()


class _Keep(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        server: Any = self.server
        if "chunked" in (self.headers.get("Transfer-Encoding") or ""):
            body = b""
            while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}  # clients differ in case
        with server.lock:
            server.requests.append((self.path, headers, body))
        json_answer = "json" in (self.headers.get("Content-Type") or "")
        answer = b"{}" if json_answer else b""
        self.send_response(200)
        self.send_header(
            "Content-Type", "application/json" if json_answer else "application/x-protobuf"
        )
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def _capture() -> Iterator[_Capture]:
    server = _Capture()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _with_telemetry(inner: Client, port: int, data_dir: Path, protocol: str | None) -> Client:
    """The client, its telemetry pointed at the capture as `aitally install` would."""
    base: Any = type(inner)

    class Telemetry(base):  # type: ignore[misc]
        def prepare(self, home: Path, workdir: Path, url: str) -> dict[str, str]:
            env: dict[str, str] = super().prepare(home, workdir, url)
            env = env | ADVERSARIAL
            if self.tool == "copilot-cli":
                return env | tool_telemetry.copilot_cli_variables(port, TOKEN)
            settings = tool_telemetry.settings_files(home, {})[self.tool]
            settings.parent.mkdir(parents=True, exist_ok=True)
            if protocol:  # the person's protocol, which install keeps
                settings.write_text(json.dumps({"env": {"OTEL_EXPORTER_OTLP_PROTOCOL": protocol}}))
            outcome = tool_telemetry.configure(port, TOKEN, data_dir, home, {})
            mine = [o for o in outcome if o.tool == self.tool]
            assert mine and mine[0].status == tool_telemetry.CONFIGURED, mine
            # Short intervals: a one-shot run exits seconds after its last call.
            return env | {"OTEL_LOGS_EXPORT_INTERVAL": "500", "OTEL_METRIC_EXPORT_INTERVAL": "1000"}

    client: Client = Telemetry(
        **{f.name: getattr(inner, f.name) for f in dataclasses.fields(inner)}
    )
    return client


def _rewriter(home: Path) -> Rewriter:
    """Scratch paths to the fixtures' /home/dev, as runner.py does for the clients' files."""
    npm = f"{FIXTURE_HOME}/.npm-global"
    return Rewriter(home, {str(SCRATCH / "npm"): npm, str(SHARED_NPM): npm})


def _write_requests(
    dest: Path, requests: list[tuple[str, dict[str, str], bytes]], rewriter: Rewriter
) -> None:
    """The bodies as sent; JSON ones with scratch paths rewritten (protobuf is left byte for
    byte: a rewrite would change its length prefixes)."""
    folder = dest / "otlp"
    folder.mkdir(parents=True, exist_ok=True)
    index = []
    for n, (path, headers, body) in enumerate(requests, 1):
        route = otlp_routes.parse_path(path)
        signal = route.signal if route else "unknown"
        ctype = headers.get("content-type", "")
        name = f"{n:03d}-{signal}.{'json' if 'json' in ctype else 'pb'}"
        if name.endswith(".json"):
            body = rewriter.text(body.decode("utf-8")).encode("utf-8")
        (folder / name).write_bytes(body)
        index.append(
            {
                "file": name,
                "path": path.replace(f"/k/{TOKEN}", "/k/<token>"),
                "signal": signal,
                "content_type": ctype,
                "content_encoding": headers.get("content-encoding", ""),
                "token_sent": TOKEN in path or TOKEN in json.dumps(headers),
            }
        )
    (folder / "requests.json").write_text(json.dumps(index, indent=2) + "\n")


def record_telemetry(tool: str, scenario: Scenario, protocol: str | None = None) -> Path:
    """Runs one scenario with telemetry on; returns its fixture folder."""
    client = CLIENTS[tool]
    scratch = SCRATCH
    scratch.mkdir(parents=True, exist_ok=True)
    if not (scratch / "npm").exists():
        (scratch / "npm").symlink_to(SHARED_NPM)
    install(scratch, client)
    data_dir = scratch / "aitally-data" / tool / scenario.name
    data_dir.mkdir(parents=True, exist_ok=True)
    for stale in data_dir.iterdir():
        stale.unlink()
    with _capture() as capture:
        wrapped = _with_telemetry(client, capture.server_address[1], data_dir, protocol)
        dest = record(wrapped, scenario, scratch, FIXTURES)
        with capture.lock:
            requests = list(capture.requests)
    _write_requests(dest, requests, _rewriter(scratch / "home" / tool / scenario.name))
    # The process lifecycle is the harness's own fixtures' subject (tests/fixtures/realclients).
    (dest / "processes.json").unlink(missing_ok=True)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.realclients.otlp_record")
    parser.add_argument("--tools", nargs="*", default=list(CLIENTS), choices=list(CLIENTS))
    parser.add_argument("--scenarios", nargs="*", default=["plain", "tool", "resumed"])
    args = parser.parse_args(argv)
    for tool in args.tools:
        for scenario in SCENARIOS:
            if scenario.name not in args.scenarios or (
                scenario.tools and tool not in scenario.tools
            ):
                continue
            print(record_telemetry(tool, scenario))
            if tool == "claude-code" and scenario.name == "plain":
                json_scenario = dataclasses.replace(scenario, name="plain-json")
                print(record_telemetry(tool, json_scenario, "http/json"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
