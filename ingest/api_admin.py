"""Enrollment (enroll secret -> device token) and the admin's device list and revocation."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from aitally.ingest import auth
from aitally.ingest.auth import AdminAuth
from aitally.ingest.context import Context
from aitally.ingest.responses import problem, problems

router = APIRouter()


class EnrollRequest(BaseModel):
    """The body of POST /v1/enroll."""

    enroll_secret: str = Field(max_length=1024)
    device_label: str | None = Field(default=None, max_length=256)
    agent_version: str | None = Field(default=None, max_length=64)


class Enrolled(BaseModel):
    """A new device and its bearer token, shown this once."""

    device_id: str
    token: str


class DeviceHealthAnswer(BaseModel):
    """A device's upload counters and the health figures its agent sent last."""

    batches: int
    accepted: int
    duplicate: int
    rejected: int
    queue_depth: int | None
    dead_letter: int | None
    dropped: dict[str, int]
    parse_errors: dict[str, int]


class DeviceAnswer(BaseModel):
    """One enrolled device."""

    device_id: str
    label: str | None
    agent_version: str | None
    os: str | None
    enrolled_at: float
    last_seen_at: float | None
    revoked_at: float | None
    revoked: bool
    health: DeviceHealthAnswer | None


class DeviceList(BaseModel):
    """Every enrolled device, revoked ones too."""

    devices: list[DeviceAnswer]


@router.post("/v1/enroll", response_model=Enrolled, responses=problems(401, 503))
async def enroll(body: EnrollRequest, request: Request) -> Any:
    """Trade the enroll secret for a device id and token."""
    ctx: Context = request.app.state.ctx
    if not auth.matches(body.enroll_secret, ctx.settings.enroll_secret):
        return problem(401, "wrong enroll secret; ask IT for the current one")
    device_id, token = auth.new_device()
    await run_in_threadpool(
        ctx.storage.enroll,
        device_id,
        auth.token_hash(token),
        body.device_label,
        body.agent_version,
        time.time(),
    )
    return Enrolled(device_id=device_id, token=token)


@router.get(
    "/v1/devices",
    response_model=DeviceList,
    responses=problems(401),
    dependencies=[AdminAuth],
)
async def list_devices(request: Request) -> Any:
    """Every enrolled device with its last health figures (admin)."""
    ctx: Context = request.app.state.ctx
    return {"devices": await run_in_threadpool(ctx.storage.devices)}


@router.delete(
    "/v1/devices/{device_id}",
    status_code=204,
    response_class=Response,
    responses=problems(401, 404),
    dependencies=[AdminAuth],
)
async def revoke_device(device_id: str, request: Request) -> Response:
    """Revoke a device: its token gets 401 from now on (admin)."""
    ctx: Context = request.app.state.ctx
    if not await run_in_threadpool(ctx.storage.revoke, device_id, time.time()):
        return problem(404, f"no active device {device_id[:64]!r}")
    return Response(status_code=204)
