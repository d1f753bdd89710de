"""Error answers shared by every route: one JSON shape, documented in the OpenAPI file."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer
from pydantic import BaseModel

# Declares the bearer scheme in the OpenAPI document; aitally.ingest.auth does the checks.
bearer = HTTPBearer(auto_error=False, description="device token (batches) or admin token")


class Problem(BaseModel):
    """The body of every error answer."""

    error: str


class Refused(Exception):
    """Raised by a dependency to answer with `response` instead of running the route."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def problem(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """An error answer: `{"error": message}` with this status."""
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def unauthorized(message: str) -> JSONResponse:
    """401 naming the bearer scheme and the error, as RFC 6750 asks."""
    return problem(401, message, {"WWW-Authenticate": 'Bearer error="invalid_token"'})


def problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry documenting these error statuses."""
    return {code: {"model": Problem} for code in codes}
