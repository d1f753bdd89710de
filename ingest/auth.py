"""Device tokens and operator secrets: generation, hashing, constant-time checks."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid


def new_device() -> tuple[str, str]:
    """A new (device_id, bearer token); 256 random bits, shown once, stored only hashed."""
    return str(uuid.uuid4()), secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
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
