"""A loopback stand-in of the model APIs that logs the true usage of every billed reply.

One HTTP server answers the three APIs by path: Anthropic Messages (`/v1/messages`), OpenAI
Responses (`/v1/responses`) and Gemini (`/v1beta/models/<model>:streamGenerateContent`), each
streamed as SSE the way the real API streams it. Replies follow the prompts' scripted directives
(`script.py`); usage is drawn from a seeded RNG. Every billed reply is appended to a jsonl log,
which is the truth the fixtures are checked against. Usage:

    with StandIn(log_path, workdir=project) as standin:
        standin.phase = "first"            # labels the log lines of what runs next
        ... point a client at standin.url ...
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from tests.realclients import anthropic_api, gemini_api, openai_api
from tests.realclients.reply import Reply, Turn
from tests.realclients.script import next_action, reply_text
from tests.realclients.tool_calls import build_call, pick_tool
from tests.realclients.usage import draw_usage

# Request headers that name a session or request, kept in the log to map replies to sessions.
SESSION_HEADERS = (
    "x-claude-code-session-id",
    "session_id",
    "conversation_id",
    "x-session-id",
    "x-interaction-id",
    "x-client-request-id",
    "user-agent",
)
# Pause between SSE events, so clients see a stream rather than one burst.
EVENT_GAP_S = 0.004


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients drop keep-alive connections when they exit; that is not an error to print.
        return


class StandIn:
    """The stand-in server; a context manager that serves on 127.0.0.1 on a free port."""

    def __init__(self, log_path: Path, *, workdir: Path, seed: int = 13) -> None:
        self.log_path = log_path
        self.workdir = workdir
        self.phase = ""
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._seq = 0
        self.unhandled: list[str] = []
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The server's base URL, e.g. http://127.0.0.1:40123."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> StandIn:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.touch()
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def replies(self) -> list[dict[str, Any]]:
        """Every billed reply logged so far."""
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line]

    def answer(self, api: str, turn: Turn, body: dict[str, Any]) -> Reply:
        """Builds the scripted reply to one request; draws its usage."""
        call = None
        action = None
        if turn.tools:
            offered = lambda kind: pick_tool(kind, turn.tools) is not None  # noqa: E731
            action = next_action(turn.prompt, turn.tool_results_since, offered)
        if action is not None:
            call = build_call(action, turn.tools, self.workdir)
        if turn.wants_json:
            text = gemini_api.structured_text(body) if api == "gemini" else "{}"
        else:
            text = "" if call is not None else reply_text(turn.prompt)
        with self._lock:
            usage = draw_usage(self._rng, caching=api == "anthropic", reasoning=api != "anthropic")
        prefix = {"anthropic": "msg_", "openai": "resp_", "gemini": ""}[api]
        reply_id = prefix + uuid.uuid4().hex
        call_id = ("toolu_" if api == "anthropic" else "call_") + uuid.uuid4().hex[:24]
        return Reply(reply_id, turn.model, usage, text, call, call_id)

    def log(self, entry: dict[str, Any]) -> None:
        """Appends one billed reply to the log (numbered in the order they were sent)."""
        with self._lock:
            self._seq += 1
            entry = {"seq": self._seq, "phase": self.phase, **entry}
            with self.log_path.open("a") as out:
                out.write(json.dumps(entry, sort_keys=True) + "\n")


def _handler_for(standin: StandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # the log file is the record
            return

        def do_GET(self) -> None:
            # Model lists and health probes: an empty, well-formed answer.
            self._json(200, {"data": [], "models": [], "object": "list"})

        def do_HEAD(self) -> None:
            self._json(200, {})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self._json(400, {"error": {"message": "body is not JSON"}})
                return
            if path.endswith("/count_tokens"):
                self._json(200, {"input_tokens": 100})
            elif path.endswith(":countTokens"):
                self._json(200, {"totalTokens": 100})
            elif path.endswith("/messages"):
                self._serve(
                    "anthropic", anthropic_api.read_turn(body), body, path, bool(body.get("stream"))
                )
            elif path.endswith("/responses"):
                self._serve(
                    "openai", openai_api.read_turn(body), body, path, bool(body.get("stream"))
                )
            elif ":streamGenerateContent" in path or ":generateContent" in path:
                model = path.rsplit("/", 1)[-1].split(":", 1)[0]
                turn = gemini_api.read_turn(body, model)
                self._serve("gemini", turn, body, path, ":streamGenerateContent" in path)
            else:
                standin.unhandled.append(f"POST {path}")
                self._json(404, {"error": {"message": f"the stand-in does not serve {path}"}})

        def _serve(
            self, api: str, turn: Turn, body: dict[str, Any], path: str, stream: bool
        ) -> None:
            module: Any = {"anthropic": anthropic_api, "openai": openai_api, "gemini": gemini_api}[
                api
            ]
            reply = standin.answer(api, turn, body)
            hints = {h: self.headers[h] for h in SESSION_HEADERS if self.headers.get(h)}
            metadata = body.get("metadata")
            if isinstance(metadata, dict) and metadata.get("user_id"):
                hints["metadata.user_id"] = str(metadata["user_id"])
            if body.get("prompt_cache_key"):
                hints["prompt_cache_key"] = str(body["prompt_cache_key"])
            standin.log(
                {
                    "at": round(time.time(), 3),
                    "api": api,
                    "path": path,
                    "model": reply.model,
                    "id": reply.id,
                    "stream": stream,
                    "role": "agent" if turn.tools else "side",
                    "action": reply.call.name if reply.call else "text",
                    "tools": sorted(t.name for t in turn.tools),
                    "usage": module.usage_fields(reply.usage),
                    "wire": reply.usage.as_dict(),
                    "headers": hints,
                }
            )
            request_id = "req_" + uuid.uuid4().hex[:24]
            if stream:
                self._stream(module.stream_reply(reply), request_id)
            else:
                self._json(200, module.json_reply(reply), request_id)

        def _stream(self, events: Iterator[bytes], request_id: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("request-id", request_id)
            self.send_header("x-request-id", request_id)
            self.end_headers()
            for event in events:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
                self.wfile.flush()
                time.sleep(EVENT_GAP_S)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _json(self, status: int, data: Any, request_id: str = "") -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if request_id:
                self.send_header("request-id", request_id)
                self.send_header("x-request-id", request_id)
            self.end_headers()
            self.wfile.write(payload)

    return Handler
