"""POST /v1/batches: authenticate the device, take the body within caps, store records once."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from aitally.core.logs import RateLimited
from aitally.ingest import auth
from aitally.ingest.body import BodyError, check_headers, gunzip_capped, read_capped
from aitally.ingest.context import Context
from aitally.ingest.ratelimit import retry_after
from aitally.ingest.responses import bearer, problem, problems, unauthorized
from aitally.ingest.storage import StorageBusy
from aitally.ingest.wire import (
    BATCH_SCHEMA,
    MAX_COUNT,
    MAX_RECORDS,
    SIGNALS,
    SURFACES,
    TOKEN_KINDS,
    EnvelopeError,
    parse_batch,
)

log = logging.getLogger(__name__)
warn = RateLimited(log, every=30.0)
router = APIRouter()

_TOKENS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        k: {"type": ["integer", "null"], "minimum": 0, "maximum": MAX_COUNT} for k in TOKEN_KINDS
    },
}
_RECORD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["record_id", "kind", "tool", "started_at", "ended_at"],
    "properties": {
        "record_id": {"type": "string", "format": "uuid"},
        "kind": {"enum": ["segment", "pause", "daily_total"]},
        "tool": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{0,63}$"},
        "surface": {"enum": [*sorted(SURFACES), None]},
        "tool_version": {"type": ["string", "null"], "maxLength": 64},
        "started_at": {"type": "string", "format": "date-time"},
        "ended_at": {"type": "string", "format": "date-time"},
        "active_seconds": {"type": "number", "minimum": 0},
        "present_seconds": {"type": "number", "minimum": 0},
        "turns": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
        "sessions": {"type": "integer", "minimum": 1, "maximum": MAX_COUNT},
        "tokens": {"oneOf": [_TOKENS_SCHEMA, {"type": "null"}]},
        "models": {"type": "object", "additionalProperties": _TOKENS_SCHEMA},
        "signals": {"type": "array", "items": {"enum": sorted(SIGNALS)}},
        "project": {"type": ["string", "null"], "description": "hmac:<key id>:<hex>"},
        "user": {"type": ["string", "null"], "maxLength": 256},
        "device": {"type": ["string", "null"], "maxLength": 256},
        "org_unit": {"type": ["string", "null"], "maxLength": 128},
    },
}
BATCH_SCHEMA_DOC: dict[str, Any] = {
    "type": "object",
    "required": ["schema", "batch_id", "records"],
    "properties": {
        "schema": {"type": "string", "enum": [BATCH_SCHEMA]},
        "batch_id": {"type": "string", "minLength": 1, "maxLength": 128},
        "sent_at": {"type": "string", "format": "date-time"},
        "agent": {
            "type": "object",
            "properties": {"version": {"type": "string"}, "os": {"type": "string"}},
        },
        "health": {"type": "object"},
        "records": {"type": "array", "maxItems": MAX_RECORDS, "items": _RECORD_SCHEMA},
    },
}


class Rejected(BaseModel):
    index: int
    record_id: str | None
    reason: str


class BatchResult(BaseModel):
    batch_id: str
    accepted: int
    duplicate: int
    rejected: list[Rejected]


@router.post(
    "/v1/batches",
    response_model=BatchResult,
    responses=problems(400, 401, 413, 415, 422, 429, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": BATCH_SCHEMA_DOC}},
        }
    },
    dependencies=[Depends(bearer)],
)
async def post_batch(request: Request) -> JSONResponse:
    ctx: Context = request.app.state.ctx
    token = auth.credential(request.headers.get("authorization"))
    if token is None:
        return unauthorized("missing bearer token; enroll with POST /v1/enroll")
    try:
        device = await run_in_threadpool(ctx.storage.device_for_token, auth.token_hash(token))
    except StorageBusy:
        return problem(503, "server busy; retry later", {"Retry-After": "5"})
    if device is None:
        return unauthorized("unknown or revoked device token; enroll again")
    request.state.device = device
    wait = ctx.buckets.take(device)
    if wait > 0:
        ctx.metrics.inc("aitally_ingest_batches_refused_total", status="429")
        return problem(429, "device over its batch rate", {"Retry-After": retry_after(wait)})
    if not ctx.inflight.enter():
        ctx.metrics.inc("aitally_ingest_batches_refused_total", status="503")
        return problem(503, "server overloaded; retry later", {"Retry-After": "2"})
    try:
        return await _take_batch(ctx, request, device)
    finally:
        ctx.inflight.leave()


async def _take_batch(ctx: Context, request: Request, device: str) -> JSONResponse:
    try:
        gzipped = check_headers(
            request.headers.get("content-length"), request.headers.get("content-encoding")
        )
        raw = await read_capped(request.stream())
    except BodyError as exc:
        return _refuse(ctx, device, exc.status, str(exc))
    try:
        result = await run_in_threadpool(_process, ctx, device, raw, gzipped)
    except (BodyError, EnvelopeError) as exc:
        return _refuse(ctx, device, exc.status, str(exc))
    except StorageBusy:
        return problem(503, "server busy; retry later", {"Retry-After": "5"})
    return JSONResponse(result)


def _refuse(ctx: Context, device: str, status: int, message: str) -> JSONResponse:
    ctx.metrics.inc("aitally_ingest_batches_refused_total", status=str(status))
    warn.warning(
        f"refused:{device}:{status}", "batch from %s refused (%s): %s", device, status, message
    )
    return problem(status, message)


def _process(ctx: Context, device: str, raw: bytes, gzipped: bool) -> dict[str, Any]:
    """Decompress, parse, validate and store, off the event loop."""
    body = gunzip_capped(raw) if gzipped else raw
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise EnvelopeError(400, f"body is not valid JSON: {str(exc)[:120]}") from None
    now = time.time()
    batch = parse_batch(doc, now)
    accepted, duplicate = ctx.storage.store_batch(device, batch, now)
    m = ctx.metrics
    m.inc("aitally_ingest_records_total", accepted, result="accepted")
    m.inc("aitally_ingest_records_total", duplicate, result="duplicate")
    m.inc("aitally_ingest_records_total", len(batch.rejected), result="rejected")
    for r in batch.rejected:
        # The top-level field only: model names would make the label set unbounded.
        m.inc("aitally_ingest_rejects_total", field=r.pop("field").split(".")[0])
    if batch.rejected:
        warn.warning(
            f"rejects:{device}",
            "device %s: %d records rejected, first: %s",
            device,
            len(batch.rejected),
            batch.rejected[0]["reason"],
        )
    log.info(
        "batch stored",
        extra={
            "event": "batch",
            "device": device,
            "batch_id": batch.batch_id[:64],
            "accepted": accepted,
            "duplicate": duplicate,
            "rejected": len(batch.rejected),
        },
    )
    return {
        "batch_id": batch.batch_id,
        "accepted": accepted,
        "duplicate": duplicate,
        "rejected": batch.rejected,
    }
