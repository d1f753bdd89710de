"""Error answers shared by every route: one JSON shape, documented in the OpenAPI file."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel

# Declares the bearer scheme in the OpenAPI document; the checks themselves are explicit.
bearer = HTTPBearer(auto_error=False, description="device token (batches) or admin token")


class Problem(BaseModel):
    error: str


def problem(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def unauthorized(message: str) -> JSONResponse:
    # RFC 6750: a failed bearer check names the scheme and the error.
    return problem(401, message, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry documenting these error statuses."""
    return {code: {"model": Problem} for code in codes}
