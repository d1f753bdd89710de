"""Proof of identity at enrollment: an OIDC ID token from the company's identity provider.

With `serve --oidc-issuer URL --oidc-audience ID`, an enrollment may carry `id_token`; the
service fetches the issuer's discovery document and signing keys (JWKS, cached), verifies
signature, issuer, audience and expiry with PyJWT, and takes the login from a configured
claim instead of the login the agent asserts. `--oidc-required` refuses enrollments without
a valid token, so the enroll secret alone no longer lets anyone enroll as a colleague.
"""

from __future__ import annotations

import json
import threading
import urllib.request
from dataclasses import dataclass

import jwt

ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class ProofError(ValueError):
    """The ID token does not prove an identity; str() says why (sent back with a 401)."""


@dataclass(frozen=True)
class OidcSettings:
    """Which identity provider's tokens prove a login, and which claim holds it."""

    issuer: str
    audience: str
    login_claim: str = "preferred_username"
    required: bool = False


class Verifier:
    """Verifies ID tokens of one issuer; the JWKS client is created on first use."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        self._client: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    def _jwks(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._client is None:
                url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
                try:
                    with urllib.request.urlopen(url, timeout=10) as resp:
                        jwks_uri = json.load(resp)["jwks_uri"]
                except (OSError, ValueError, KeyError) as exc:
                    raise ProofError(f"id_token: identity provider unreachable ({exc})") from None
                self._client = jwt.PyJWKClient(jwks_uri, cache_keys=True, lifespan=3600)
            return self._client

    def login(self, id_token: str) -> str:
        """The login an ID token proves, or ProofError naming what failed."""
        try:
            key = self._jwks().get_signing_key_from_jwt(id_token)
            claims = jwt.decode(
                id_token,
                key.key,
                algorithms=ALGORITHMS,
                audience=self.settings.audience,
                issuer=self.settings.issuer,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.PyJWKClientError as exc:
            raise ProofError(f"id_token: no signing key of the issuer matches ({exc})") from None
        except jwt.InvalidTokenError as exc:
            raise ProofError(f"id_token: {exc}") from None
        login = claims.get(self.settings.login_claim)
        if not isinstance(login, str) or not login:
            raise ProofError(f"id_token: no {self.settings.login_claim!r} claim")
        return login
