"""POST /v1/batches: authenticate the device, take the body within caps, store records once."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, TypeAdapter

from aitally.ingest.auth import DeviceToken, unknown_device
from aitally.ingest.body import BodyError, check_headers, gunzip_capped, read_capped
from aitally.ingest.context import Context
from aitally.ingest.identity import (
    Attribution,
    attribute,
    level_of_record,
    owner_tags,
)
from aitally.ingest.jsonlog import Throttle
from aitally.ingest.ratelimit import retry_after
from aitally.ingest.responses import problem, problems
from aitally.ingest.storage import StorageBusy, Upload
from aitally.ingest.wire import BatchEnvelope, EnvelopeError, parse_batch

log = logging.getLogger(__name__)
log.addFilter(Throttle(every=30.0))  # refusals and rejects repeat per device
router = APIRouter()


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """schema with every `#/$defs/...` reference replaced by its definition."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_inline(v, defs) for v in schema]
    return schema


def body_schema() -> dict[str, Any]:
    """The JSON schema of the batch body, self-contained for the OpenAPI document."""
    schema = TypeAdapter(BatchEnvelope).json_schema(by_alias=True)
    inlined: dict[str, Any] = _inline(schema, schema.pop("$defs", {}))
    return inlined


class Rejected(BaseModel):
    """A record refused on its own; the others of the batch are stored."""

    index: int
    record_id: str | None
    reason: str


class BatchResult(BaseModel):
    """What became of each record of a batch."""

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
            "content": {"application/json": {"schema": body_schema()}},
        }
    },
)
async def post_batch(request: Request, hashed: DeviceToken) -> JSONResponse:
    """Store a batch of records (docs/wire-protocol.md); the body is read here, within caps.

    Who the records count for comes from the device's enrollment: a record's own `user`,
    `device` and `org_unit` are accepted for compatibility and not believed.
    """
    ctx: Context = request.app.state.ctx
    if not ctx.inflight.enter():
        ctx.metrics.batches_refused.labels(status="503").inc()
        return problem(503, "server overloaded; retry later", {"Retry-After": "2"})
    try:
        return await _take_batch(ctx, request, hashed)
    finally:
        ctx.inflight.leave()


async def _take_batch(ctx: Context, request: Request, hashed: str) -> JSONResponse:
    body: bytes | BodyError
    gzipped = False
    try:
        gzipped = check_headers(
            request.headers.get("content-length"), request.headers.get("content-encoding")
        )
        body = await read_capped(request.stream())
    except BodyError as exc:
        body = exc  # answered after the token check, as before it: a bad token's answer is 401
    try:
        device, result = await run_in_threadpool(_upload, ctx, hashed, body, gzipped)
    except StorageBusy:
        return problem(503, "server busy; retry later", {"Retry-After": "5"})
    if device is not None:
        request.state.device = device  # the request log names the device
    if isinstance(result, JSONResponse):
        return result
    # Logged on the request's own line (aitally.ingest.app.Observe): one line per batch.
    request.state.batch = {
        "batch_id": result["batch_id"][:64],
        "accepted": result["accepted"],
        "duplicate": result["duplicate"],
        "rejected": len(result["rejected"]),
    }
    return JSONResponse(result)


def _upload(
    ctx: Context, hashed: str, body: bytes | BodyError, gzipped: bool
) -> tuple[str | None, JSONResponse | dict[str, Any]]:
    """The device the token belongs to and what became of its batch (or the refusal): the
    token checked, the device's rate, then the batch stored, on one connection
    (Storage.upload), off the event loop."""
    with ctx.storage.upload(hashed) as upload:
        if upload.device is None:
            return None, unknown_device()
        device = upload.device.device_id
        wait = ctx.buckets.take(device)
        if wait > 0:
            ctx.metrics.batches_refused.labels(status="429").inc()
            return device, problem(
                429, "device over its batch rate", {"Retry-After": retry_after(wait)}
            )
        try:
            if isinstance(body, BodyError):
                raise body
            return device, _process(ctx, upload, body, gzipped)
        except (BodyError, EnvelopeError) as exc:
            return device, _refuse(ctx, device, exc.status, str(exc))


def _refuse(ctx: Context, device: str, status: int, message: str) -> JSONResponse:
    ctx.metrics.batches_refused.labels(status=str(status)).inc()
    log.warning(
        "batch from %s refused (%s): %s",
        device,
        status,
        message,
        extra={"event": "refused", "device": device, "status": status, "reason": message},
    )
    return problem(status, message)


def _process(ctx: Context, upload: Upload, raw: bytes, gzipped: bool) -> dict[str, Any]:
    """Decompress, parse, validate and store, off the event loop."""
    who = upload.device
    assert who is not None  # _upload answered an unknown token
    device = who.device_id
    body = gunzip_capped(raw) if gzipped else raw
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise EnvelopeError(400, f"body is not valid JSON: {str(exc)[:120]}") from None
    now = time.time()
    batch = parse_batch(doc, now)
    # One enrollment, so one attribution per level a record is shaped for (HMACs once).
    by_shape: dict[str, Attribution] = {}
    attributions = []
    for r in batch.records:
        shape = level_of_record(r.kind, r.user, r.privacy_level)
        if shape not in by_shape:
            by_shape[shape] = attribute(ctx.keys, who, shape, batch.batch_id, now)
        attributions.append(by_shape[shape])
    stored = upload.store(batch, attributions, owner_tags(ctx.keys, device), now)
    first_index: dict[str, int] = {}
    for index, rec in zip(batch.indexes, batch.records, strict=True):
        first_index.setdefault(rec.record_id, index)
    batch.rejected += [
        {
            "index": first_index[rid],
            "record_id": rid,
            "reason": "record_id: already sent by another device; ids belong to their sender",
            "field": "record_id",
        }
        for rid in stored.taken
    ]
    batch.rejected.sort(key=lambda refused: int(refused["index"]))
    m = ctx.metrics
    m.records.labels(result="accepted").inc(stored.accepted)
    m.records.labels(result="duplicate").inc(stored.duplicate)
    m.records.labels(result="rejected").inc(len(batch.rejected))
    for refused in batch.rejected:
        # The top-level field only: model names would make the label set unbounded.
        m.rejects.labels(field=refused.pop("field").split(".")[0]).inc()
    if batch.rejected:
        first = batch.rejected[0]["reason"]
        log.warning(
            "device %s: %d records rejected, first: %s",
            device,
            len(batch.rejected),
            first,
            extra={
                "event": "rejects",
                "device": device,
                "rejected": len(batch.rejected),
                "reason": first,
            },
        )
    return {
        "batch_id": batch.batch_id,
        "accepted": stored.accepted,
        "duplicate": stored.duplicate,
        "rejected": batch.rejected,
    }
