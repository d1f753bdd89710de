"""The uploader's part of `aitally status`: last upload, retry wait, auth pause, credentials."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aitally.core.config import Config
from aitally.core.store import Store, uploads
from aitally.core.store.uploads import UploadLogEntry
from aitally.uploader import credentials, retry
from aitally.uploader.http import tls_description
from aitally.uploader.records import iso

# How many of the latest requests the status shows.
RECENT_REQUESTS = 5


@dataclass(frozen=True)
class UploaderStatus:
    """The upload side's condition at one moment; times are Unix seconds (UTC when shown).

    Attributes:
        last_upload: when a pass last ended with everything sent; None if never.
        last_attempt: when a pass last started sending; None if never.
        last_error: what the last failed request met; None after a success.
        retry_at: when the next try is due after a failure; None when not waiting.
        auth_paused: the HTTP status (401/403) that paused uploads until re-enrollment;
            None when not paused.
        dead_letters: records the server refused for good, kept aside and never retried.
        credential_store: where the device token lives: "keyring:<backend>" or "file:<path>".
        tls: how the server certificate is checked.
        pseudonym_key: which key pseudonyms are made with: the organisation's, or this
            install's own random key.
        recent: the latest requests, newest first.
    """

    last_upload: float | None
    last_attempt: float | None
    last_error: str | None
    retry_at: float | None
    auth_paused: int | None
    dead_letters: int
    credential_store: str
    tls: str
    pseudonym_key: str
    recent: tuple[UploadLogEntry, ...]

    def as_json(self) -> dict[str, Any]:
        """The `upload` object of `aitally status --json`."""
        return {
            "last_upload": _iso_or_none(self.last_upload),
            "last_attempt": _iso_or_none(self.last_attempt),
            "last_error": self.last_error,
            "retry_after": _iso_or_none(self.retry_at),
            "paused": self.auth_paused,
            "dead_letters": self.dead_letters,
            "credential_store": self.credential_store,
            "tls": self.tls,
            "pseudonym_key": self.pseudonym_key,
            "recent": [
                {
                    "at": iso(r.at),
                    "batch_id": r.batch_id,
                    "records": r.records,
                    "status": r.status,
                    "detail": r.detail,
                }
                for r in self.recent
            ],
        }

    def upload_line(self) -> str:
        """One line: the last upload, any pending retry, and an auth pause with its fix."""
        line = f"last {_iso_or_none(self.last_upload) or 'never'}"
        if self.retry_at is not None:
            line += f", next try {iso(self.retry_at)} ({self.last_error})"
        if self.auth_paused:
            line += f", PAUSED: server answered {self.auth_paused}; run `aitally enroll`"
        return line

    def summary_lines(self) -> list[tuple[str, str]]:
        """The (label, value) lines of the text `aitally status`, in the order it shows them."""
        return [
            ("credentials", self.credential_store),
            ("dead letters", str(self.dead_letters)),
            ("pseudonyms", self.pseudonym_key),
            ("upload", self.upload_line()),
        ]


def _iso_or_none(t: float | None) -> str | None:
    """`t` as an ISO 8601 UTC time; None for a time never set (None or 0)."""
    return iso(t) if t else None


def read_status(cfg: Config, store: Store) -> UploaderStatus:
    """The uploader's status now, from the store's upload state and the configuration."""
    state = retry.load(store)
    now = time.time()
    wait = state.remaining(now)
    org_key = bool(cfg.get("privacy", "org_key"))
    return UploaderStatus(
        last_upload=state.last_success or None,
        last_attempt=state.last_attempt or None,
        last_error=state.last_error,
        retry_at=now + wait if wait > 0 else None,
        auth_paused=state.paused["status"] if state.paused else None,
        dead_letters=uploads.dead_letter_count(store.conn),
        credential_store=credentials.store_name(timeout=2.0),
        tls=tls_description(cfg),
        pseudonym_key="org key" if org_key else "per-install random key (no privacy.org_key)",
        recent=tuple(uploads.recent_requests(store.conn, RECENT_REQUESTS)),
    )
