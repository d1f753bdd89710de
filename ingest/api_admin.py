"""Enrollment (enroll secret -> device token) and the admin's device list and revocation."""

from __future__ import annotations

import time
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from aitally.ingest import auth
from aitally.ingest.api_people import record_read
from aitally.ingest.auth import AdminAuth
from aitally.ingest.context import Context
from aitally.ingest.field_rules import PRINTABLE
from aitally.ingest.identity import (
    Enrollment,
    check_login,
    check_org_unit,
    stricter,
)
from aitally.ingest.oidc import ProofError
from aitally.ingest.ratelimit import retry_after
from aitally.ingest.responses import problem, problems
from aitally.ingest.rows import Device

router = APIRouter()


class EnrollRequest(BaseModel):
    """The body of POST /v1/enroll."""

    enroll_secret: str = Field(max_length=1024)
    device_label: str | None = Field(default=None, max_length=256, pattern=PRINTABLE)
    agent_version: str | None = Field(default=None, max_length=64, pattern=PRINTABLE)
    login: str | None = Field(
        default=None,
        max_length=256,
        description="the login the agent runs as; what enroll-secret mode trusts (the "
        "secret proves membership, not who): absent from older agents",
    )
    privacy_level: Literal["identified", "pseudonymous", "anonymous", "aggregate"] = Field(
        default="pseudonymous", description="the agent's privacy level; the server may be stricter"
    )
    org_unit: str | None = Field(default=None, max_length=128, description="from managed policy")
    id_token: str | None = Field(
        default=None,
        max_length=16384,
        description="an OIDC ID token of the configured issuer: proves the login (ingest/oidc.py)",
    )


class Enrolled(BaseModel):
    """A new device and its bearer token, shown this once."""

    device_id: str
    token: str
    identity: str = Field(description='"asserted" (enroll secret only) or "oidc" (proven)')


class DeviceList(BaseModel):
    """Every enrolled device, revoked ones too."""

    # The storage rows themselves: pydantic validates and documents dataclasses by their fields.
    devices: list[Device]


@router.post("/v1/enroll", response_model=Enrolled, responses=problems(400, 401, 403, 429, 503))
async def enroll(body: EnrollRequest, request: Request) -> Any:
    """Trade the enroll secret for a device id and token."""
    ctx: Context = request.app.state.ctx
    where = auth.source(request)
    wait = ctx.enroll_buckets.take(where)
    if wait > 0:
        return problem(429, "too many enrollments from here", {"Retry-After": retry_after(wait)})
    if not auth.matches(body.enroll_secret, ctx.settings.enroll_secret):
        return problem(401, "wrong enroll secret; ask IT for the current one")
    try:
        org_unit = check_org_unit(body.org_unit)
        login = None if body.login is None else check_login(body.login)
    except ValueError as exc:
        return problem(400, str(exc))
    proof = "asserted"
    if body.id_token is not None or (ctx.verifier and ctx.verifier.settings.required):
        try:
            login = await run_in_threadpool(_proven_login, ctx, body.id_token, login)
        except ProofError as exc:
            return problem(401, str(exc))
        proof = "oidc"
    level = stricter(body.privacy_level, ctx.settings.privacy_floor)
    device_id, token = auth.new_device()
    person = await run_in_threadpool(_person, ctx, login, level, device_id)
    if login is not None:
        active = await run_in_threadpool(ctx.storage.active_enrollments, person)
        if active >= ctx.settings.max_enrollments:
            return problem(
                403,
                f"login: already {active} active devices; IT revokes old ones "
                "(aitally-ingest devices revoke ID) before this one can enroll",
            )
    who = Enrollment(
        device_id=device_id,
        person=person,
        level=level,
        org_unit=org_unit,
        device_name=body.device_label if level == "identified" else None,
        proof=proof,
    )
    await run_in_threadpool(
        ctx.storage.enroll,
        who,
        auth.token_hash(token),
        body.device_label if level == "identified" else None,
        body.agent_version,
        time.time(),
    )
    return Enrolled(device_id=device_id, token=token, identity=proof)


def _proven_login(ctx: Context, id_token: str | None, asserted: str | None) -> str:
    """The login the ID token proves; ProofError without one, or when it differs."""
    if ctx.verifier is None:
        raise ProofError("id_token: this service has no identity provider (serve --oidc-issuer)")
    if id_token is None:
        raise ProofError("id_token: required by this service (an OIDC ID token of its issuer)")
    proven = ctx.verifier.login(id_token)
    if asserted is not None and asserted != proven:
        raise ProofError("login: differs from the login the id_token proves")
    return check_login(proven)


def _person(ctx: Context, login: str | None, level: str, device_id: str) -> str:
    """Who this enrollment counts as: the same login is the same person on every device."""
    if login is None:
        return f"enrolled:{device_id}"  # an older agent: each enrollment is one person
    if level == "identified":
        return login
    candidates = ctx.keys.all_pseudonyms("user", login)
    found = ctx.storage.find_person(candidates)
    if found is not None and found != candidates[0]:
        # Seen under an older key: re-key the person, so the rotation never splits them.
        anon = ctx.keys.pseudonym
        ctx.storage.rename_person(
            [(found, candidates[0]), (anon("anon", found), anon("anon", candidates[0]))]
        )
    return candidates[0]


@router.get(
    "/v1/devices",
    response_model=DeviceList,
    responses=problems(401, 429),
    dependencies=[AdminAuth],
)
async def list_devices(request: Request) -> Any:
    """Every enrolled device with its last health figures (admin)."""
    ctx: Context = request.app.state.ctx

    def run() -> Any:
        record_read(ctx, request, "devices.list", {})
        return ctx.storage.devices()

    return {"devices": await run_in_threadpool(run)}


@router.delete(
    "/v1/devices/{device_id}",
    status_code=204,
    response_class=Response,
    responses=problems(401, 404, 429),
    dependencies=[AdminAuth],
)
async def revoke_device(device_id: str, request: Request) -> Response:
    """Revoke a device: its token gets 401 from now on (admin)."""
    ctx: Context = request.app.state.ctx
    if not await run_in_threadpool(ctx.storage.revoke, device_id, time.time()):
        return problem(404, f"no active device {device_id[:64]!r}")
    await run_in_threadpool(record_read, ctx, request, "devices.revoke", {"device": device_id})
    return Response(status_code=204)
