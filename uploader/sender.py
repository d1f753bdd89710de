"""The HTTP sink: posts gzip'd batch bodies to the ingest service and reads its answer strictly."""

from __future__ import annotations

import gzip
import time
from typing import Any

import requests

from aitally.uploader import records
from aitally.uploader.answer import Answer, Outcome, classify_status
from aitally.uploader.retry import parse_retry_after, token_fingerprint


def exception_answer(exc: requests.RequestException) -> Answer:
    """Network failures are retryable; TLS ones say so, since they need a person to look."""
    if isinstance(exc, requests.exceptions.SSLError):
        detail = f"TLS verification failed ({exc}); check upload.ca_bundle or the proxy"
    elif isinstance(exc, requests.exceptions.Timeout):
        detail = f"timeout ({type(exc).__name__})"
    else:
        detail = f"connection failed ({type(exc).__name__})"
    return Answer(Outcome.RETRY, None, detail)


def _verified(resp: requests.Response, batch_id: str) -> dict[str, Any] | None:
    """The ingest service's JSON receipt for this batch, or None (captive portal, proxy page)."""
    if not resp.headers.get("Content-Type", "").lower().startswith("application/json"):
        return None
    try:
        data = resp.json()
    except ValueError:
        return None
    ok = (
        isinstance(data, dict)
        and data.get("batch_id") == batch_id
        and isinstance(data.get("accepted"), int)
        and isinstance(data.get("duplicate"), int)
        and isinstance(data.get("rejected", []), list)
    )
    return data if ok else None


class HttpSink:
    """Sends batches to the ingest service with the device token."""

    name = "http"

    def __init__(self, session: requests.Session, endpoint: str, token: str) -> None:
        self.session = session
        self.url = endpoint.rstrip("/") + "/v1/batches"
        self.token = token
        self.credential_id = token_fingerprint(token)
        self.bytes_sent = 0

    def send(self, recs: list[records.Record], health: dict[str, Any]) -> Answer:
        """Posts the batch gzip'd; a 200 counts only with a receipt naming this batch."""
        env = records.envelope(recs, health, time.time())
        raw = records.encode(env)
        wire = gzip.compress(raw, compresslevel=6)
        try:
            resp = self.session.post(
                self.url,
                data=wire,
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/json",
                    "Content-Encoding": "gzip",
                },
            )
        except requests.RequestException as exc:
            return exception_answer(exc)
        self.bytes_sent += len(wire)
        with resp:
            if resp.status_code == 200:
                data = _verified(resp, env["batch_id"])
                if data is None:
                    ctype = resp.headers.get("Content-Type", "none")
                    return Answer(
                        Outcome.RETRY, 200, f"200 without a receipt ({ctype}): captive portal?"
                    )
                rejected = {
                    int(r["index"]): str(r.get("reason", "rejected"))
                    for r in data.get("rejected", [])
                    if isinstance(r, dict) and isinstance(r.get("index"), int)
                }
                return Answer(
                    Outcome.OK,
                    200,
                    "ok",
                    accepted=data["accepted"],
                    duplicate=data["duplicate"],
                    rejected=rejected,
                )
            after = parse_retry_after(resp.headers.get("Retry-After"), time.time())
            return classify_status(resp.status_code, f"HTTP {resp.status_code}", after)
