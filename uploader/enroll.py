"""Enrollment: exchange the enroll secret for a device token and store it as the uploader does."""

from __future__ import annotations

import socket
from dataclasses import dataclass

import requests

from aitally.core.config import Config
from aitally.uploader import credentials
from aitally.uploader.http import make_session
from aitally.uploader.policy import login
from aitally.uploader.version import agent_version


class EnrollError(Exception):
    """str() is one line naming the problem and the fix."""


@dataclass(frozen=True)
class Enrolled:
    """A successful enrollment: the server's device id, if it sent one, and the token's place."""

    device_id: str | None
    store: str  # where the token went: "keyring:<backend>" or "file:<path>"


def enroll(
    cfg: Config, secret: str, *, label: str | None = None, id_token: str | None = None
) -> Enrolled:
    """POST {endpoint}/v1/enroll (docs/wire-protocol.md) and store the token it returns.

    The device label defaults to nothing (a hostname can identify a person), except at
    `identified`, where records name the device by its host name anyway.
    """
    endpoint = cfg.get("upload", "endpoint").rstrip("/")
    if not endpoint:
        raise EnrollError("no upload endpoint; pass --endpoint URL or set upload.endpoint")
    if not secret:
        raise EnrollError("empty enroll secret; pass the secret IT gave you")
    url = f"{endpoint}/v1/enroll"
    privacy = cfg.section("privacy")
    if label is None and privacy["level"] == "identified":
        label = socket.gethostname()  # what records at this level name the device by
    # What enroll-secret mode trusts: the login this agent runs as, the level and org unit
    # of its policy. The server binds every later record to them (docs/privacy.md).
    body: dict[str, str | None] = {
        "enroll_secret": secret,
        "device_label": label,
        "agent_version": agent_version(),
        "login": login(),
        "privacy_level": privacy["level"],
        "org_unit": privacy["org_unit"] or None,
    }
    if id_token:
        body["id_token"] = id_token  # proves the login where the ingest asks for it
    try:
        resp = make_session(cfg).post(url, json=body)
    except requests.exceptions.SSLError as exc:
        raise EnrollError(
            f"{url}: TLS certificate not trusted ({_reason(exc)}); "
            "install your CA in the OS trust store or set upload.ca_bundle"
        ) from None
    except requests.RequestException as exc:
        raise EnrollError(
            f"{url}: cannot connect ({_reason(exc)}); check upload.endpoint and upload.proxy"
        ) from None
    if resp.status_code in (401, 403):
        raise EnrollError(f"{url}: enroll secret refused ({resp.status_code}); ask IT for it")
    if resp.status_code != 200:
        raise EnrollError(f"{url}: answered {resp.status_code}; retry later or ask IT")
    try:
        data = resp.json()
        token = data["token"]
    except (ValueError, KeyError, TypeError):
        raise EnrollError(f"{url}: answer has no token; is this an aitally server?") from None
    if not isinstance(token, str) or not token or any(c.isspace() for c in token):
        raise EnrollError(f"{url}: answered an unusable token; is this an aitally server?")
    store = credentials.set_token(token)
    device_id = data.get("device_id")
    return Enrolled(device_id if isinstance(device_id, str) else None, store)


def store_token(token: str) -> Enrolled:
    """`--token T`: a token IT issued out of band, stored the same way."""
    try:
        return Enrolled(None, credentials.set_token(token))
    except ValueError as exc:
        raise EnrollError(f"bad --token: {exc}") from None


def _reason(exc: Exception) -> str:
    text = str(exc)
    # requests nests the root cause deep inside; the last clause is the readable one.
    return text.rsplit(": ", 1)[-1].strip("')\" ")[:160] or type(exc).__name__
