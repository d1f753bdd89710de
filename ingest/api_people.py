"""Accountability over the API: erase one person, read the audit log, central retention."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from aitally.ingest.auth import AdminAuth
from aitally.ingest.context import Context
from aitally.ingest.field_rules import PRINTABLE
from aitally.ingest.identity import persons_of
from aitally.ingest.responses import problem, problems
from aitally.ingest.storage import Storage

router = APIRouter(dependencies=[AdminAuth])


class EraseRequest(BaseModel):
    """Whose records to erase: a login, or a pseudonym as reports and exports show it."""

    login: str | None = Field(default=None, min_length=1, max_length=256, pattern=PRINTABLE)
    pseudonym: str | None = Field(
        default=None, min_length=1, max_length=256, pattern=r"^hmac:[A-Za-z0-9_.-]+:[0-9a-f]+$"
    )


class Erased(BaseModel):
    """How many records were deleted; the person's devices are revoked."""

    erased: int


def actor(request: Request) -> str:
    """Who the audit log names for this request."""
    return str(getattr(request.state, "actor", "admin"))


def record_read(ctx: Context, request: Request, action: str, detail: dict[str, Any]) -> None:
    """Appends an admin action or report read to the audit log (off the event loop)."""
    ctx.storage.audit(time.time(), actor(request), action, detail)


def cutoff(today: dt.date, months: int) -> str:
    """The first day kept under a retention of `months` months (YYYY-MM-DD)."""
    month = today.year * 12 + today.month - 1 - months
    return dt.date(month // 12, month % 12 + 1, 1).isoformat()


def purge(storage: Storage, months: int, who: str) -> int:
    """Deletes records older than the retention and logs it; the number deleted."""
    day = cutoff(dt.datetime.now(dt.UTC).date(), months)
    n = storage.purge_before(day)
    storage.audit(time.time(), who, "retention.purge", {"before": day, "deleted": n})
    return n


@router.post("/v1/erase", response_model=Erased, responses=problems(400, 401, 429))
async def erase(body: EraseRequest, request: Request) -> Any:
    """Erase one person's records, by login or pseudonym, and revoke their devices (admin)."""
    ctx: Context = request.app.state.ctx
    if (body.login is None) == (body.pseudonym is None):
        return problem(400, "login: give exactly one of login or pseudonym")
    persons = persons_of(ctx.keys, login=body.login, pseudonym=body.pseudonym)

    def run() -> int:
        n = ctx.storage.erase(persons, time.time())
        # The audit names the pseudonym, never the login it was asked by.
        target = body.pseudonym or ctx.keys.pseudonym("user", body.login or "")
        record_read(ctx, request, "erase", {"person": target, "records": n})
        return n

    return Erased(erased=await run_in_threadpool(run))


@router.get("/v1/audit", responses=problems(401, 429))
async def audit_log(request: Request, since: float = 0.0) -> Any:
    """The audit log from `since` (epoch seconds) on: admin actions and report reads."""
    ctx: Context = request.app.state.ctx

    def run() -> list[dict[str, Any]]:
        record_read(ctx, request, "audit.read", {"since": since})
        return [e._asdict() for e in ctx.storage.audit_log(since)]

    return {"entries": await run_in_threadpool(run)}
