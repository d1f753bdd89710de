"""The dashboard's HTTP server: 127.0.0.1 only, a random port and a per-launch secret path."""

from __future__ import annotations

import datetime as dt
import hmac
import io
import json
import logging
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from aitally.agent import reports
from aitally.agent.dashboard.layout import Context, Frame
from aitally.agent.dashboard.outbound import outbound
from aitally.agent.dashboard.sources import sources
from aitally.agent.dashboard.usage import overview, sessions
from aitally.core import config, paths
from aitally.core.errors import ConfigError
from aitally.core.logs import RateLimited
from aitally.core.store import open_existing
from aitally.core.timerange import parse_bound

log = logging.getLogger(__name__)

PAGES: dict[str, Callable[[Context], str]] = {
    "": overview,
    "sessions": sessions,
    "outbound": outbound,
    "sources": sources,
}


REDIRECT = "dashboard.html"


def _csp(nonce: str) -> str:
    # Nothing may load from anywhere: styles are inline, the one script carries the nonce.
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src 'nonce-{nonce}'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    )


class DashboardServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.secret = secrets.token_urlsafe(24)
        self.problems = RateLimited(log)
        bound = self.server_address[1]
        # Only these Host headers are served: a page on another site that rebinds its DNS
        # name to 127.0.0.1 sends its own name and is refused.
        self.hosts = {f"127.0.0.1:{bound}", f"localhost:{bound}"}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/{self.secret}/"


class Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    server_version = "aitally"
    sys_version = ""

    def log_message(self, format: str, *args: object) -> None:
        pass  # request lines carry the secret; the dashboard logs only its own problems

    def _send(
        self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("X-Content-Type-Options", "nosniff")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _plain(self, status: int, text: str) -> None:
        self._send(status, (text + "\n").encode(), "text/plain; charset=utf-8")

    def do_GET(self) -> None:
        if self.headers.get("Host", "") not in self.server.hosts:
            self._plain(403, "forbidden: open the dashboard through the URL it printed")
            return
        url = urlsplit(self.path)
        secret, slash, rest = url.path.removeprefix("/").partition("/")
        if not hmac.compare_digest(secret.encode(), self.server.secret.encode()):
            self._plain(404, "not found")
            return
        if not slash:
            self.send_response(308)
            self.send_header("Location", f"/{secret}/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        slug = rest.rstrip("/")
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if slug != "export" and slug not in PAGES:
            self._plain(404, "not found")
            return
        try:
            self._serve(slug, query)
        except ConfigError as exc:
            self._plain(500, f"configuration problem: {exc}")
        except Exception as exc:  # one broken page must not stop the dashboard
            self.server.problems.warning(slug, "dashboard page %r failed: %r", slug, exc)
            log.debug("dashboard page failure", exc_info=True)
            self._plain(500, f"this page failed ({type(exc).__name__}); see the agent log")

    def _serve(self, slug: str, query: dict[str, str]) -> None:
        cfg = config.load_default()
        store = open_existing(paths.store_file())
        nonce = secrets.token_urlsafe(16)
        try:
            ctx = Context(Frame(f"/{self.server.secret}/", nonce), cfg, store, time.time(), query)
            if slug == "export":
                self._export(ctx)
                return
            body = PAGES[slug](ctx).encode()
        finally:
            if store is not None:
                store.close()
        self._send(200, body, "text/html; charset=utf-8", {"Content-Security-Policy": _csp(nonce)})

    def _export(self, ctx: Context) -> None:
        days = ctx.days()
        rows = (
            reports.sessions(ctx.store.conn, since=parse_bound(f"{days}d"))
            if ctx.store is not None
            else []
        )
        stamp = dt.date.today().isoformat()
        if ctx.query.get("format") == "json":
            body = json.dumps({"sessions": rows}, indent=2).encode()
            ctype, ext = "application/json", "json"
        else:
            buf = io.StringIO()
            reports.write_csv(rows, buf)
            body, ctype, ext = buf.getvalue().encode(), "text/csv; charset=utf-8", "csv"
        self._send(
            200,
            body,
            ctype,
            {"Content-Disposition": f'attachment; filename="aitally-sessions-{stamp}.{ext}"'},
        )


def open_in_browser(url: str) -> bool:
    """Opens the URL through a private redirect file, so the secret never shows in `ps`."""
    import webbrowser

    target = paths.data_dir() / REDIRECT
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(
            "<!doctype html><meta charset=utf-8>"
            f'<meta http-equiv="refresh" content="0;url={url}">'
            f'<p><a href="{url}">Open the aitally dashboard</a></p>'
        )
    return webbrowser.open(Path(target).as_uri(), new=2)


def serve(port: int, *, browser: bool, announce: Callable[[str], None]) -> int:
    """Runs until interrupted; `announce` receives the URL once the socket is listening."""
    server = DashboardServer(port)
    if threading.current_thread() is threading.main_thread():
        # A service manager's SIGTERM stops it as cleanly as Ctrl-C does.
        signal.signal(
            signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()
        )
    announce(server.url)
    if browser and not open_in_browser(server.url):
        announce("no browser could be started; open the URL above yourself")
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        # The redirect names a secret that is now dead; leave nothing behind.
        (paths.data_dir() / REDIRECT).unlink(missing_ok=True)
    return 0
