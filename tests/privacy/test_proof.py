"""Attacks on proven identity: with an identity provider configured, the enroll secret alone
no longer lets anyone enroll as a colleague, and forged or foreign ID tokens are refused.

The identity provider is a real HTTP server on loopback serving an OIDC discovery document
and a JWKS; tokens are signed with PyJWT, as an IdP would."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.ingest.conftest import BACKENDS, Server, backend_db
from tests.privacy.conftest import query

AUDIENCE = "aitally-enroll"


class IdP:
    """An identity provider on loopback: discovery, JWKS with one RSA key, token minting."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwks = json.dumps({"keys": [{**jwk, "kid": "idp-1", "use": "sig", "alg": "RS256"}]})
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.endswith("/.well-known/openid-configuration"):
                    body = json.dumps({"issuer": idp.issuer, "jwks_uri": idp.issuer + "/jwks"})
                else:
                    body = jwks
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, login: str, *, key: Any = None, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 300,
            "preferred_username": login,
            **claims,
        }
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": "idp-1"})


@pytest.fixture(params=BACKENDS)
def idp_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[IdP, Server]]:
    idp = IdP()
    server = Server(
        backend_db(request, tmp_path),
        tmp_path,
        "--oidc-issuer",
        idp.issuer,
        "--oidc-audience",
        AUDIENCE,
        "--oidc-required",
    )
    yield idp, server
    server.stop()
    idp.server.shutdown()


def _enroll(server: Server, login: str | None, id_token: str | None) -> Any:
    from tests.ingest.conftest import ENROLL_SECRET

    body = {"enroll_secret": ENROLL_SECRET, "login": login, "id_token": id_token}
    return server.http.post(server.url + "/v1/enroll", json=body)


def test_a_proven_login_is_the_tokens_and_recorded_as_proven(idp_server: Any) -> None:
    idp, server = idp_server
    r = _enroll(server, None, idp.token("alice"))
    assert r.status_code == 200 and r.json()["identity"] == "oidc"
    proofs = query(server.db, "SELECT proof FROM devices")
    assert proofs == [("oidc",)]
    listed = server.admin("GET", "/v1/devices").json()["devices"]
    assert listed[0]["proof"] == "oidc"


def test_enrolling_as_a_colleague_needs_their_token(idp_server: Any) -> None:
    idp, server = idp_server
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    attempts = {
        "no token (secret alone)": _enroll(server, "alice", None),
        "own token, colleague's login": _enroll(server, "alice", idp.token("mallory")),
        "token signed by another key": _enroll(server, None, idp.token("alice", key=forger)),
        "token for another client": _enroll(server, None, idp.token("alice", aud="other-app")),
        "expired token": _enroll(server, None, idp.token("alice", exp=int(time.time()) - 60)),
        "token of another issuer": _enroll(server, None, idp.token("alice", iss="http://evil")),
    }
    for what, r in attempts.items():
        assert r.status_code == 401, what
        assert r.json()["error"].startswith(("id_token", "login")), (what, r.text)
    assert not query(server.db, "SELECT 1 FROM devices")
