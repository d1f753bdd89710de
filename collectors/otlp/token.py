"""The per-user token the tools send with their exports, so another local user cannot inject.

A random secret in the data folder, readable by its owner alone (0600); the receiver answers
401 to any request without it. Tools send it as `Authorization: Bearer <token>` or
`x-aitally-token: <token>` (OTEL_EXPORTER_OTLP_HEADERS takes either).
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from aitally.core.otlp_routes import TOKEN_HEADER as HEADER

FILE_NAME = "otlp_token"


def load_or_create(folder: Path) -> str:
    """The token in `folder`, made (0600, never readable by others) on first use."""
    path = folder / FILE_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        token = path.read_text(encoding="ascii").strip()
        if os.name == "posix" and path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)  # someone widened it: narrow it again
        if token:
            return token
        path.unlink()
        return load_or_create(folder)
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(token + "\n")
    return token


def presented(headers: object) -> str | None:
    """The token a request carries in either header, or None."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    direct = get(HEADER)
    if isinstance(direct, str) and direct:
        return direct.strip()
    auth = get("Authorization")
    if isinstance(auth, str) and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return None


def valid(given: str | None, expected: str) -> bool:
    """Constant-time comparison."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())
