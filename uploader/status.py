"""Upload fields of `aitally status`: last upload, retry wait, auth pause, credentials."""

from __future__ import annotations

import time
from typing import Any

from aitally.core.config import Config
from aitally.core.store import Store
from aitally.uploader import credentials, retry
from aitally.uploader.http import tls_description
from aitally.uploader.records import iso


def status_fields(cfg: Config, store: Store) -> dict[str, Any]:
    state = retry.load(store)
    now = time.time()
    wait = state.remaining(now)
    dead = store.conn.execute("SELECT COUNT(*) FROM dead_letter").fetchone()[0]
    recent = [
        dict(r)
        for r in store.conn.execute(
            "SELECT at, batch_id, records, status, detail FROM upload_log ORDER BY id DESC LIMIT 5"
        )
    ]
    for r in recent:
        r["at"] = iso(r["at"])
    org_key = bool(cfg.get("privacy", "org_key"))
    upload = {
        "last_upload": iso(state.last_success) if state.last_success else None,
        "last_attempt": iso(state.last_attempt) if state.last_attempt else None,
        "last_error": state.last_error,
        "retry_after": iso(now + wait) if wait > 0 else None,
        "paused": state.paused["status"] if state.paused else None,
        "dead_letters": dead,
        "credential_store": credentials.store_name(timeout=2.0),
        "tls": tls_description(cfg),
        "pseudonym_key": "org key" if org_key else "per-install random key (no privacy.org_key)",
        "recent": recent,
    }
    line = f"last {upload['last_upload'] or 'never'}"
    if upload["retry_after"]:
        line += f", next try {upload['retry_after']} ({state.last_error})"
    if upload["paused"]:
        line += f", PAUSED: server answered {upload['paused']}; run `aitally enroll`"
    return {
        "upload": upload,
        "x_upload": line,
        "x_credentials": upload["credential_store"],
        "x_dead_letters": dead,
        "x_pseudonyms": upload["pseudonym_key"],
    }
