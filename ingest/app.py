"""The ASGI application: routers, request metrics and logs, /healthz and /metrics."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aitally.ingest import api_admin, api_batches, api_people, api_reports
from aitally.ingest.context import Context
from aitally.ingest.report_refresh import Refresher
from aitally.ingest.responses import Refused, problem, problems
from aitally.ingest.storage import StorageError

log = logging.getLogger("aitally.ingest.http")
# Every route of the service, besides /healthz and /metrics below.
ROUTERS = (
    api_admin.router,
    api_batches.router,
    api_people.router,
    api_reports.router,
    api_reports.pages,
)
# On every answer, errors and 404s included: no sniffing, no framing, no referrer, no cache.
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
RETENTION_EVERY = 6 * 3600.0


class SecurityHeaders:
    """Adds SECURITY_HEADERS (and a default-deny CSP unless the route set one) to answers."""

    def __init__(self, app: ASGIApp, docs: bool) -> None:
        self.app = app
        self.docs = docs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        # FastAPI's doc pages load their scripts from a CDN: served only with --docs.
        docs_page = self.docs and scope["path"] in ("/docs", "/redoc")

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [(n, v) for n, v in SECURITY_HEADERS if n not in names]
                if b"content-security-policy" not in names and not docs_page:
                    headers.append((b"content-security-policy", b"default-src 'none'"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, add_headers)


class Observe:
    """Counts and times every request by route template and logs one line for it."""

    def __init__(self, app: ASGIApp, ctx: Context) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            m = self.ctx.metrics
            m.requests.labels(route=route, status=str(status)).inc()
            m.request_seconds.labels(route=route).observe(elapsed)
            state = scope.get("state") or {}
            log.info(
                "%s %s %s",
                scope["method"],
                route,
                status,
                extra={
                    "event": "request",
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "ms": round(elapsed * 1000, 2),
                    "device": state.get("device"),
                    # A stored batch's id and counts (ingest/api_batches.py), on the same line.
                    **state.get("batch", {}),
                },
            )


def create_app(ctx: Context) -> FastAPI:
    """The service over this context (settings, storage, metrics)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async def retention() -> None:
            while True:  # central retention (docs/privacy.md), logged in the audit log
                try:
                    await run_in_threadpool(
                        api_people.purge, ctx.storage, ctx.settings.retention_months, "retention"
                    )
                except StorageError as exc:
                    log.warning("retention purge failed: %s", exc)
                await asyncio.sleep(RETENTION_EVERY)

        s = ctx.settings
        task = asyncio.create_task(retention()) if s.retention_worker else None
        # The report cache is refreshed by one worker, in a thread: a pass computes a few periods
        # at a time on the report connections, never on the event loop.
        refresher = None
        if s.retention_worker and s.report_refresh > 0:
            refresher = Refresher(ctx.reports, s.min_group_size, s.report_refresh)
            refresher.start()
        yield
        if task is not None:
            task.cancel()
        if refresher is not None:
            refresher.stop()

    # API docs are off unless asked for (--docs): FastAPI's pages load scripts from a CDN.
    docs = {} if ctx.settings.docs else {"docs_url": None, "redoc_url": None}
    app = FastAPI(
        lifespan=lifespan,
        **docs,  # type: ignore[arg-type]
        title="aitally ingest",
        version="1",
        description="Receives content-free AI-tool usage records from aitally agents "
        "(docs/wire-protocol.md) and reports adoption with small groups suppressed.",
    )
    app.state.ctx = ctx
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        # A dependency (aitally.ingest.auth) decided the answer.
        return exc.response

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        # One line naming the field, in the same shape as every other error.
        first: dict[str, Any] = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return problem(400, f"{where}: {first.get('msg', 'invalid')}")

    @app.get("/healthz", responses=problems(503))
    async def healthz() -> Response:
        """200 when the database answers."""
        try:
            await run_in_threadpool(ctx.storage.ping)
        except StorageError as exc:
            return problem(503, f"database unavailable: {exc}")
        return JSONResponse({"status": "ok", "db": ctx.storage.dialect})

    @app.get("/metrics", response_class=PlainTextResponse)
    async def metrics(request: Request) -> Response:
        """Prometheus text format (OpenMetrics if asked): requests, records, rejects, latency,
        build info and the process."""
        body, content_type = ctx.metrics.render(request.headers.get("accept"))
        return Response(body, media_type=content_type)

    for route in app.routes:  # the 422 FastAPI documents by default is answered as 400
        responses = getattr(route, "responses", None)
        if isinstance(responses, dict):
            responses.setdefault(400, {"model": problems(400)[400]["model"]})
    # The routers' own routes: FastAPI may list an included router as one entry.
    sources = (app, *ROUTERS)
    ctx.metrics.add_routes(r.path for src in sources for r in src.routes if isinstance(r, Route))
    app.add_middleware(Observe, ctx=ctx)
    app.add_middleware(SecurityHeaders, docs=ctx.settings.docs)
    return app
