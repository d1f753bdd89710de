"""Authentication: device tokens and the admin token, checked as FastAPI dependencies.

Routes declare what they need (`dependencies=[AdminAuth]`, a `hashed: DeviceToken`
parameter); a failed check raises `Refused` with the exact answer (401 with its
`WWW-Authenticate` challenge). A device token is looked up in the batch's own transaction
(`device_token`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials

from aitally.ingest.context import Context
from aitally.ingest.ratelimit import retry_after
from aitally.ingest.responses import Refused, bearer, problem, unauthorized


def new_device() -> tuple[str, str]:
    """A new (device_id, bearer token); 256 random bits, shown once, stored only hashed."""
    return str(uuid.uuid4()), secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a device token."""
    # A plain hash suffices: the token is 256 random bits, not a guessable password.
    return hashlib.sha256(token.encode()).hexdigest()


def matches(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; an unset secret matches nothing."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def credential(authorization: str | None) -> str | None:
    """The secret carried by `Bearer <token>` or by the password of HTTP Basic (browsers)."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer":
        return value or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def source(request: Request) -> str:
    """The client address a request came from (the reverse proxy's, behind one)."""
    return request.client.host if request.client else "unknown"


def _is_admin(request: Request) -> bool:
    """The admin token checked, with failures throttled per source (429 when over)."""
    ctx, where = _ctx(request), source(request)
    wait = ctx.admin_fail_buckets.wait(where)
    if wait > 0:
        raise Refused(
            problem(429, "too many failed admin logins", {"Retry-After": retry_after(wait)})
        )
    given = credential(request.headers.get("authorization"))
    if matches(given, ctx.settings.admin_token):
        request.state.actor = f"admin@{where}"
        return True
    ctx.admin_fail_buckets.take(where)
    return False


async def require_admin(
    request: Request, _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    """The admin token as a bearer token (or Basic password), else 401 naming Bearer."""
    if not _is_admin(request):
        raise Refused(unauthorized("admin token required"))


async def require_admin_page(request: Request) -> None:
    """As require_admin, for browser pages: a 401 asks for Basic, so the browser prompts."""
    if not _is_admin(request):
        raise Refused(
            PlainTextResponse(
                "admin token required (any user name, the token as password)",
                status_code=401,
                headers={"WWW-Authenticate": 'Basic realm="aitally-ingest"'},
            )
        )


async def device_token(
    request: Request, _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> str:
    """The hash of the device token a request carries, not yet checked; 401 without one.

    The check itself (an active device by that hash) is the first read of the route's own
    transaction (`Storage.upload`, answered by `unknown_device` when it fails): a dependency
    would need a transaction and a thread-pool hop of its own, and holding the batch's
    connection from here would let a client that sends its body slowly hold it too.
    """
    token = credential(request.headers.get("authorization"))
    if token is None:
        raise Refused(unauthorized("missing bearer token; enroll with POST /v1/enroll"))
    return token_hash(token)


def unknown_device() -> JSONResponse:
    """The answer to a device token that belongs to no active device."""
    return unauthorized("unknown or revoked device token; enroll again")


AdminAuth = Depends(require_admin)
"""For `dependencies=[AdminAuth]`: the route answers only the admin token."""
AdminPageAuth = Depends(require_admin_page)
"""For `dependencies=[AdminPageAuth]`: as AdminAuth, answered with a Basic challenge."""
DeviceToken = Annotated[str, Depends(device_token)]
"""A handler parameter `hashed: DeviceToken` is the hash of the device token presented."""
